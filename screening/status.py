"""What the lists in force are, for `sanctions status`: source, version, count, age, last check, last failure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.screening_tables import ScreeningHit

from ledger.types import utcnow
from screening.health import DEFAULT_MAX_AGE, is_stale
from screening.index import ListVersionInfo
from screening.store import current_versions, info_of, sources


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """One source's state as an operator needs it."""

    source: str
    in_force: ListVersionInfo | None
    checked_at: datetime | None
    failed_at: datetime | None
    last_error: str | None
    active_hits: int = 0
    delisted_hits: int = 0
    # Older than the staleness limit and not confirmed current within it (screening.health.is_stale).
    stale: bool = False

    def age_days(self, now: datetime) -> int | None:
        """Days since the version in force was published (None when its date is unknown)."""
        if self.in_force is None or self.in_force.published is None:
            return None
        return (now.date() - self.in_force.published).days


async def list_status(session: AsyncSession, *, max_age: timedelta = DEFAULT_MAX_AGE, now: datetime | None = None) -> list[SourceStatus]:
    """Every source's status, sorted by name; ``max_age`` is the staleness limit (screening.max_list_age_days)."""
    now = now or utcnow()
    versions = await current_versions(session)
    counts: dict[tuple[str, bool], int] = {}
    rows = await session.execute(
        select(ScreeningHit.source, ScreeningHit.delisted_at.is_(None), func.count()).group_by(
            ScreeningHit.source, ScreeningHit.delisted_at.is_(None)
        )
    )
    for source, active, n in rows.all():
        counts[(source, bool(active))] = int(n)
    out = []
    for state in await sources(session):
        version = versions.get(state.source)
        out.append(
            SourceStatus(
                source=state.source,
                in_force=info_of(version) if version is not None else None,
                checked_at=state.checked_at,
                failed_at=state.failed_at,
                last_error=state.last_error,
                active_hits=counts.get((state.source, True), 0),
                delisted_hits=counts.get((state.source, False), 0),
                stale=is_stale(version, state, now, max_age),
            )
        )
    return out
