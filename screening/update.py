"""Updating the lists: fetch or read, parse, and put in force — or keep the last good version and say why.

Each source is updated on its own: one failing never stops the others. Every failure is recorded
on the source (``sanctions status`` shows it) and the version in force stays untouched.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from ledger.database import Database
from screening.errors import OlderListRefused, ScreeningListError
from screening.fetch import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, USER_AGENT, fetch
from screening.health import DEFAULT_MAX_AGE, SourceHealth, assess
from screening.index import ListVersionInfo
from screening.model import ParsedList
from screening.ofac_xml import SOURCE as OFAC_SOURCE
from screening.ofac_xml import parse_file as parse_ofac_file
from screening.opensanctions import SOURCE as OPENSANCTIONS_SOURCE
from screening.opensanctions import parse_ftm_file
from screening.own_list import parse_own_list, source_name as own_source_name
from screening.plain_list import asset_from_name, parse_bytes, parse_text_file
from screening.store import current_versions, info_of, source_state
from screening.versions import InstallReport, install, record_failure, record_not_modified

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ListsConfig:
    """Where the lists come from and how to fetch them (built from the bot's settings)."""

    ofac_url: str
    download_dir: Path
    extra_lists: tuple[str, ...] = ()
    own_list: str | None = None
    opensanctions_file: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    max_bytes: int = DEFAULT_MAX_BYTES
    user_agent: str = USER_AGENT
    # A list older than this, and not confirmed current within it, is told as stale.
    max_age: timedelta = DEFAULT_MAX_AGE


@dataclass
class UpdateResult:
    """One source's update: installed, unchanged, not modified, refused (older than the list in force) or failed."""

    source: str
    outcome: str
    in_force: ListVersionInfo | None = None
    report: InstallReport | None = None
    reason: str | None = None
    skipped: tuple[str, ...] = field(default=())
    health: SourceHealth | None = None

    @property
    def failed(self) -> bool:
        return self.outcome == "failed"

    @property
    def refused(self) -> bool:
        """An older list offered from a file: not a failure of the source, an operator's decision."""
        return self.outcome == "refused"


async def _in_force(db: Database, source: str) -> ListVersionInfo | None:
    async with db.session() as s:
        version = (await current_versions(s)).get(source)
        return info_of(version) if version is not None else None


async def _fail(db: Database, source: str, exc: ScreeningListError) -> UpdateResult:
    async with db.session() as s:
        await record_failure(s, source, exc.reason)
    in_force = await _in_force(db, source)
    kept = f"; still in force: {in_force.describe()}" if in_force else "; no version of this list is in force"
    # Said once, by whoever asked: `sanctions update` prints it, the bot's scheduled job logs it.
    log.debug("list update failed source=%s reason=%s%s", source, exc.reason, kept)
    return UpdateResult(source, "failed", in_force=in_force, reason=exc.reason + kept)


async def _put_in_force(
    db: Database,
    parsed: ParsedList,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    allow_empty: bool = False,
    checked: bool = True,
    forced_by: str | None = None,
) -> UpdateResult:
    async with db.session() as s:
        report = await install(
            s, parsed, etag=etag, last_modified=last_modified, allow_empty=allow_empty, checked=checked, forced_by=forced_by
        )
    outcome = "unchanged" if report.unchanged else "installed"
    return UpdateResult(parsed.source, outcome, in_force=report.version, report=report, skipped=parsed.skipped)


async def _guarded(db: Database, source: str, work: Callable[[], Awaitable[UpdateResult]]) -> UpdateResult:
    try:
        return await work()
    except ScreeningListError as exc:
        return await _fail(db, source, exc)


async def update_from_file(db: Database, path: str | Path, *, forced_by: str | None = None) -> UpdateResult:
    """Put a local SDN_ADVANCED.XML (plain or .bz2) in force as the OFAC list.

    A file published before the list in force is refused (outcome "refused", nothing recorded on
    the source) unless ``forced_by`` names who insists. Loading a file is not a check of OFAC
    itself: the source's last successful check and failure state are left as they are.
    """

    async def work() -> UpdateResult:
        parsed = await asyncio.to_thread(parse_ofac_file, path)
        try:
            return await _put_in_force(db, parsed, checked=False, forced_by=forced_by)
        except OlderListRefused as exc:
            log.debug("older list refused source=%s file=%s published=%s in_force=%s", exc.source, path, exc.published, exc.in_force)
            return UpdateResult(OFAC_SOURCE, "refused", in_force=await _in_force(db, OFAC_SOURCE), reason=exc.reason)

    return await _guarded(db, OFAC_SOURCE, work)


async def update_ofac(db: Database, config: ListsConfig) -> UpdateResult:
    """Fetch OFAC's SDN_ADVANCED.XML with a conditional GET and put it in force if it is new and sound."""

    async def work() -> UpdateResult:
        async with db.session() as s:
            state = await source_state(s, OFAC_SOURCE)
            in_force = (await current_versions(s)).get(OFAC_SOURCE)
            # The validators only count while the version they describe is the one in force.
            etag, modified = (state.etag, state.last_modified) if in_force is not None else (None, None)
        got = await fetch(
            config.ofac_url,
            config.download_dir,
            source=OFAC_SOURCE,
            etag=etag,
            last_modified=modified,
            timeout=config.timeout,
            max_bytes=config.max_bytes,
            user_agent=config.user_agent,
        )
        if got.path is None:
            async with db.session() as s:
                await record_not_modified(s, OFAC_SOURCE)
            return UpdateResult(OFAC_SOURCE, "not modified", in_force=await _in_force(db, OFAC_SOURCE))
        try:
            parsed = await asyncio.to_thread(parse_ofac_file, got.path, origin=config.ofac_url)
        finally:
            await asyncio.to_thread(got.path.unlink, missing_ok=True)  # a 121 MB file takes a moment to free
        return await _put_in_force(db, parsed, etag=got.etag, last_modified=got.last_modified)

    return await _guarded(db, OFAC_SOURCE, work)


def plain_source_name(location: str) -> str:
    """The source name a plain list is stored under."""
    return f"list:{location.rstrip('/').rsplit('/', 1)[-1]}"[:64]


async def update_plain(db: Database, location: str, config: ListsConfig) -> UpdateResult:
    """Read (or download) one plain address list and put it in force."""
    source = plain_source_name(location)

    async def work() -> UpdateResult:
        if not location.startswith(("http://", "https://")):
            return await _put_in_force(db, await asyncio.to_thread(parse_text_file, location, source=source))
        got = await fetch(location, config.download_dir, source=source, timeout=config.timeout, max_bytes=config.max_bytes)
        assert got.path is not None
        path = got.path
        try:
            parsed = await asyncio.to_thread(
                lambda: parse_bytes(path.read_bytes(), source=source, origin=location, asset=asset_from_name(location))
            )
        finally:
            await asyncio.to_thread(path.unlink, missing_ok=True)
        return await _put_in_force(db, parsed)

    return await _guarded(db, source, work)


async def update_own(db: Database, path: str) -> UpdateResult:
    """Read the operator's own CSV list and put it in force (it may be empty)."""
    source = own_source_name(path)

    async def work() -> UpdateResult:
        return await _put_in_force(db, await asyncio.to_thread(parse_own_list, path, source=source), allow_empty=True)

    return await _guarded(db, source, work)


async def update_opensanctions(db: Database, path: str) -> UpdateResult:
    """Read an OpenSanctions ``entities.ftm.json`` export and put its crypto wallets in force."""

    async def work() -> UpdateResult:
        return await _put_in_force(db, await asyncio.to_thread(parse_ftm_file, path))

    return await _guarded(db, OPENSANCTIONS_SOURCE, work)


async def update_all(
    db: Database, config: ListsConfig, *, ofac_file: str | Path | None = None, forced_by: str | None = None
) -> list[UpdateResult]:
    """Update every configured source, each on its own; the results say what happened to each.

    After each source, its health is assessed: a failure or a stale list starts a streak told
    once as an event, and its end is told as ``sanctions.list_ok`` (see screening.health).
    """
    results = [await (update_from_file(db, ofac_file, forced_by=forced_by) if ofac_file else update_ofac(db, config))]
    for location in config.extra_lists:
        results.append(await update_plain(db, location, config))
    if config.own_list:
        results.append(await update_own(db, config.own_list))
    if config.opensanctions_file:
        results.append(await update_opensanctions(db, config.opensanctions_file))
    for result in results:
        async with db.session() as s:
            result.health = await assess(s, result.source, max_age=config.max_age)
    return results
