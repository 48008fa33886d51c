"""Reading and writing list versions, their entries and each source's state in the ledger database."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.screening_tables import ScreeningListEntry, ScreeningListVersion, ScreeningSource
from screening.index import ListVersionInfo, ScreeningIndex
from screening.model import ListedAddress, ParsedList
from screening.normalize import AddressFormat

_BATCH = 1_000
# Rows read per step when loading a list's entries: each step gives the event loop back.
_READ_PARTITION = 1_000
from screening.model import PROGRAMME_SEPARATOR  # noqa: E402


def info_of(version: ScreeningListVersion) -> ListVersionInfo:
    """The citation of a stored version."""
    return ListVersionInfo(
        source=version.source,
        version_id=version.id,
        origin=version.origin,
        published=version.published,
        sha256=version.sha256,
        count=version.count,
        loaded_at=version.loaded_at,
    )


async def source_state(session: AsyncSession, source: str, *, lock: bool = False) -> ScreeningSource:
    """The state row of ``source``, created when missing; ``lock`` serialises writers across instances."""
    insert_ = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(insert_(ScreeningSource).values(source=source).on_conflict_do_nothing(index_elements=["source"]))
    stmt = select(ScreeningSource).where(ScreeningSource.source == source).execution_options(populate_existing=True)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one()


async def sources(session: AsyncSession) -> list[ScreeningSource]:
    """Every known source's state, by name."""
    return list((await session.execute(select(ScreeningSource).order_by(ScreeningSource.source))).scalars())


async def current_versions(session: AsyncSession) -> dict[str, ScreeningListVersion]:
    """The version in force for each source that has one."""
    rows = await session.execute(
        select(ScreeningListVersion).join(ScreeningSource, ScreeningSource.current_version_id == ScreeningListVersion.id)
    )
    return {v.source: v for v in rows.scalars()}


async def fingerprint(session: AsyncSession) -> tuple[tuple[str, int | None], ...]:
    """Which versions are in force: changes exactly when some source's current version does."""
    rows = await session.execute(
        select(ScreeningSource.source, ScreeningSource.current_version_id).order_by(ScreeningSource.source)
    )
    return tuple((s, v) for s, v in rows.all())


_ENTRY_COLUMNS = (
    ScreeningListEntry.address,
    ScreeningListEntry.key,
    ScreeningListEntry.format,
    ScreeningListEntry.asset,
    ScreeningListEntry.party,
    ScreeningListEntry.party_ref,
    ScreeningListEntry.programmes,
    ScreeningListEntry.listed_on,
)


async def entries_of(session: AsyncSession, version_id: int) -> list[ListedAddress]:
    """The listed addresses of one stored version.

    Read as plain rows in partitions, so a list of 100,000 addresses never holds the event loop
    for long (ORM objects for every entry took seconds).
    """
    conn = await session.connection()
    result = await conn.stream(select(*_ENTRY_COLUMNS).where(ScreeningListEntry.version_id == version_id))
    out: list[ListedAddress] = []
    async for rows in result.partitions(_READ_PARTITION):
        out.extend(
            ListedAddress(
                address=address,
                key=key,
                format=AddressFormat(fmt),
                asset=asset,
                party=party,
                party_ref=party_ref,
                programmes=tuple(p for p in programmes.split(PROGRAMME_SEPARATOR) if p),
                listed_on=listed_on,
            )
            for address, key, fmt, asset, party, party_ref, programmes, listed_on in rows
        )
    return out


async def load_index(session: AsyncSession) -> ScreeningIndex:
    """An index over the current version of every source, as stored (built off the event loop)."""
    lists = []
    for version in (await current_versions(session)).values():
        assert version.id is not None
        lists.append((info_of(version), await entries_of(session, version.id)))
    return await asyncio.to_thread(ScreeningIndex, lists)


async def store_version(session: AsyncSession, parsed: ParsedList, now: datetime) -> ScreeningListVersion:
    """Write a parsed list as a new version with its entries (not yet in force)."""
    version = ScreeningListVersion(
        source=parsed.source,
        origin=parsed.origin[:300],
        published=parsed.published,
        sha256=parsed.sha256,
        count=len(parsed.entries),
        skipped=len(parsed.skipped),
        loaded_at=now,
    )
    session.add(version)
    await session.flush()
    assert version.id is not None
    rows = await asyncio.to_thread(_entry_rows, version.id, parsed)
    for start in range(0, len(rows), _BATCH):
        await session.execute(insert(ScreeningListEntry), rows[start : start + _BATCH])
    return version


def _entry_rows(version_id: int, parsed: ParsedList) -> list[dict[str, Any]]:
    """The entry rows of a parsed list (built in a thread: a large list takes a while)."""
    return [
        {
            "version_id": version_id,
            "key": e.key,
            "address": e.address,
            "format": str(e.format),
            "asset": e.asset[:16],
            "party": e.party,
            "party_ref": e.party_ref[:64],
            "programmes": PROGRAMME_SEPARATOR.join(e.programmes),
            "listed_on": e.listed_on,
        }
        for e in parsed.entries
    ]


async def versions(session: AsyncSession, source: str | None = None, limit: int = 20) -> list[ScreeningListVersion]:
    """The newest stored versions, of one source or all."""
    stmt = select(ScreeningListVersion).order_by(ScreeningListVersion.id.desc()).limit(limit)
    if source is not None:
        stmt = stmt.where(ScreeningListVersion.source == source)
    return list((await session.execute(stmt)).scalars())
