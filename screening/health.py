"""Whether each list source is healthy, told as events once per streak.

A source is *failing* while its last update attempt failed, and *stale* while the version in
force can no longer be trusted to be current: it was published more than ``max_age`` ago AND no
check against the source (a download, a "not modified" answer, a read of a local list) has
succeeded within ``max_age``. OFAC publishes at irregular times, so a list confirmed current by
the hourly conditional GET is not stale however old its date. Each condition becomes one event
when it starts (``sanctions.update_failed``, ``sanctions.list_stale``) and one
``sanctions.list_ok`` when every announced condition has cleared; what was announced is stored
on the source, so restarts and several instances never repeat it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import EventKind
from ledger.screening_tables import ScreeningListVersion, ScreeningSource
from ledger.types import utcnow
from ledger.writes import record_event
from screening.store import current_versions, source_state

log = logging.getLogger(__name__)

DEFAULT_MAX_AGE = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """One source's conditions at a moment, and the events this assessment recorded."""

    source: str
    failing: bool
    stale: bool
    announced: tuple[EventKind, ...] = ()


def is_stale(version: ScreeningListVersion | None, state: ScreeningSource, now: datetime, max_age: timedelta) -> bool:
    """Whether the version in force is older than ``max_age`` and not confirmed current within it."""
    if version is None:
        return False  # nothing in force: the failure (if any) is what is told
    published = datetime.combine(version.published, time(), tzinfo=timezone.utc) if version.published else None
    fresh_by_date = published is not None and now - published <= max_age
    fresh_by_check = state.checked_at is not None and now - state.checked_at <= max_age
    return not (fresh_by_date or fresh_by_check)


def _version_detail(version: ScreeningListVersion | None) -> dict[str, object]:
    if version is None:
        return {"in_force": None}
    return {
        "in_force": version.origin,
        "published": version.published.isoformat() if version.published else None,
        "sha256": version.sha256,
    }


async def assess(
    session: AsyncSession, source: str, *, max_age: timedelta = DEFAULT_MAX_AGE, now: datetime | None = None
) -> SourceHealth:
    """Compare ``source``'s conditions with what was announced; record the events that are due."""
    now = now or utcnow()
    state = await source_state(session, source, lock=True)
    version = (await current_versions(session)).get(source)
    failing = state.failed_at is not None
    stale = is_stale(version, state, now, max_age)
    detail = {"source": source, **_version_detail(version)}
    told: list[EventKind] = []
    if failing and not state.failure_announced:
        failed_at = state.failed_at.isoformat() if state.failed_at else None
        await record_event(session, EventKind.SANCTIONS_UPDATE_FAILED, **detail, error=state.last_error, failed_at=failed_at)
        state.failure_announced = True
        told.append(EventKind.SANCTIONS_UPDATE_FAILED)
    if stale and not state.stale_announced:
        checked = state.checked_at.isoformat() if state.checked_at else None
        days = max_age / timedelta(days=1)
        await record_event(session, EventKind.SANCTIONS_LIST_STALE, **detail, last_checked=checked, max_age_days=days)
        state.stale_announced = True
        told.append(EventKind.SANCTIONS_LIST_STALE)
    if not failing and not stale and (state.failure_announced or state.stale_announced):
        after = [k for k, on in (("update_failed", state.failure_announced), ("list_stale", state.stale_announced)) if on]
        await record_event(session, EventKind.SANCTIONS_LIST_OK, **detail, after=after)
        state.failure_announced = state.stale_announced = False
        told.append(EventKind.SANCTIONS_LIST_OK)
    await session.flush()
    for kind in told:  # the event itself is what people read (channels, `sanctions update|status`)
        log.debug("sanctions list event=%s source=%s", kind, source)
    return SourceHealth(source, failing, stale, tuple(told))
