"""Putting a parsed list in force: record the version, diff it, re-screen, delist, swap — in one transaction."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ledger.screening_tables import ScreeningListVersion
from ledger.types import utcnow
from screening.diff import ListDiff, diff
from screening.errors import OlderListRefused, ScreeningListError
from screening.hits import delist
from screening.index import ListVersionInfo, ScreeningIndex
from screening.model import ParsedList
from screening.rescreen import rescreen_senders
from screening.store import current_versions, entries_of, info_of, load_index, source_state, store_version

log = logging.getLogger(__name__)


@dataclass
class InstallReport:
    """What putting one list version in force did."""

    source: str
    version: ListVersionInfo
    unchanged: bool = False
    added: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()
    new_hits: int = 0
    delisted_hits: int = 0
    skipped: tuple[str, ...] = field(default=())
    index: ScreeningIndex | None = field(default=None, repr=False)
    forced: bool = False  # an older list put in force over a newer one, by an operator's --force


def check_usable(parsed: ParsedList) -> None:
    """Refuse a list that would blank out screening: one with no addresses at all."""
    if not parsed.entries:
        why = f" ({len(parsed.skipped)} values skipped as unusable)" if parsed.skipped else ""
        raise ScreeningListError(
            parsed.source, f"{parsed.origin} contains no addresses{why}; the last good version stays in force"
        )


async def install(
    session: AsyncSession,
    parsed: ParsedList,
    *,
    now: datetime | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    allow_empty: bool = False,
    checked: bool = True,
    forced_by: str | None = None,
) -> InstallReport:
    """Make ``parsed`` the current version of its source, unless it is the version already in force.

    A list published before the one in force is refused (OlderListRefused) unless ``forced_by``
    names who insists; the version then records who forced it and when. Added addresses re-screen
    every stored past sender; removed addresses mark earlier hits delisted. The swap, the hits and
    their events commit together with the caller's transaction.
    """
    now = now or utcnow()
    if not allow_empty:
        check_usable(parsed)
    state = await source_state(session, parsed.source, lock=True)
    current = (await current_versions(session)).get(parsed.source)
    if checked:
        state.checked_at = now
        state.failed_at = None
        state.last_error = None
    if current is not None and current.sha256 == parsed.sha256:
        if etag is not None or last_modified is not None:
            state.etag, state.last_modified = etag, last_modified
        await session.flush()
        return InstallReport(parsed.source, info_of(current), unchanged=True, skipped=parsed.skipped)
    old_entries = await entries_of(session, current.id) if current is not None and current.id is not None else []
    changes: ListDiff = await asyncio.to_thread(diff, old_entries, parsed.entries)
    older = current is not None and _is_older(parsed, current)
    if older and forced_by is None:
        assert current is not None and current.published is not None and parsed.published is not None
        raise OlderListRefused(
            parsed.source, parsed.origin, parsed.published, current.published,
            removed=len(changes.removed), added=len(changes.added),
        )  # fmt: skip
    version: ScreeningListVersion = await store_version(session, parsed, now)
    if older:
        version.forced_by, version.forced_at = forced_by, now
        log.warning(
            "older list forced in force source=%s published=%s replaces=%s by=%s",
            parsed.source, parsed.published, current.published if current else None, forced_by,
        )  # fmt: skip
    state.current_version_id = version.id
    # HTTP validators describe the version in force: a version from a file has none.
    state.etag, state.last_modified = etag, last_modified
    await session.flush()
    info = info_of(version)
    index = await load_index(session)
    hits = await rescreen_senders(session, index, changes.added, parsed.source, now=now)
    delisted = await delist(session, parsed.source, changes.removed, info, now=now) if changes.removed else []
    log.info(
        "list in force source=%s published=%s sha256=%s count=%d added=%d removed=%d new_hits=%d delisted=%d",
        parsed.source, parsed.published, parsed.sha256[:12], len(parsed.entries),
        len(changes.added), len(changes.removed), len(hits), len(delisted),
    )  # fmt: skip
    return InstallReport(
        source=parsed.source,
        version=info,
        added=changes.added,
        removed=changes.removed,
        new_hits=len(hits),
        delisted_hits=len(delisted),
        skipped=parsed.skipped,
        index=index,
        forced=older,
    )


def _is_older(parsed: ParsedList, current: ScreeningListVersion) -> bool:
    """Whether ``parsed`` was published before the version in force (both dates known)."""
    return parsed.published is not None and current.published is not None and parsed.published < current.published


async def record_failure(session: AsyncSession, source: str, reason: str, *, now: datetime | None = None) -> None:
    """Remember why the last attempt to update ``source`` failed (the version in force is untouched)."""
    now = now or utcnow()
    state = await source_state(session, source, lock=True)
    state.failed_at = now
    state.last_error = reason[:2000]
    await session.flush()


async def record_not_modified(session: AsyncSession, source: str, *, now: datetime | None = None) -> None:
    """A conditional GET said the list has not changed: the check counts as a success."""
    now = now or utcnow()
    state = await source_state(session, source, lock=True)
    state.checked_at = now
    state.failed_at = None
    state.last_error = None
    await session.flush()
