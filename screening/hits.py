"""Storing screening hits and their events, and marking them delisted, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import EventKind
from ledger.screening_tables import ScreeningHit
from ledger.writes import record_event
from screening.index import ListVersionInfo, Match
from screening.store import PROGRAMME_SEPARATOR


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stored sender that matched a list entry."""

    transfer_id: int
    chain: str
    address: str
    match: Match


def _detail(hit: ScreeningHit, info: ListVersionInfo) -> dict[str, Any]:
    return {
        "hit_id": hit.id,
        "address": hit.address,
        "verdict": hit.verdict,
        "source": hit.source,
        "list_version_id": hit.version_id,
        "list_published": info.published.isoformat() if info.published else None,
        "list_sha256": info.sha256,
        "asset": hit.asset,
        "party": hit.party,
        "party_ref": hit.party_ref,
        "programmes": hit.programmes,
        "listed_on": hit.listed_on.isoformat() if hit.listed_on else None,
        "cause": hit.cause,
    }


async def store_hits(session: AsyncSession, candidates: Sequence[Candidate], *, cause: str, now: datetime) -> list[ScreeningHit]:
    """Store each candidate as a hit with a ``sanctions.hit`` event, unless it is already an active hit.

    A hit is the same when transfer, comparison key, source and party agree and it is not delisted.
    """
    if not candidates:
        return []
    insert_ = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    transfer_ids = sorted({c.transfer_id for c in candidates})
    active: set[tuple[int, str, str, str]] = set()
    for start in range(0, len(transfer_ids), 1000):
        rows = await session.execute(
            select(ScreeningHit.transfer_id, ScreeningHit.key, ScreeningHit.source, ScreeningHit.party_ref).where(
                ScreeningHit.transfer_id.in_(transfer_ids[start : start + 1000]), ScreeningHit.delisted_at.is_(None)
            )
        )
        active.update((t, k, s, p) for t, k, s, p in rows.all())
    stored: list[ScreeningHit] = []
    for c in candidates:
        entry, info = c.match.entry, c.match.list
        ident = (c.transfer_id, entry.key, info.source, entry.party_ref)
        if ident in active or info.version_id is None:
            continue
        active.add(ident)
        hit = ScreeningHit(
            transfer_id=c.transfer_id,
            address=c.address,
            key=entry.key,
            source=info.source,
            version_id=info.version_id,
            asset=entry.asset,
            party=entry.party,
            party_ref=entry.party_ref,
            programmes=PROGRAMME_SEPARATOR.join(entry.programmes),
            listed_on=entry.listed_on,
            cause=cause,
            found_at=now,
        )
        # The partial unique index on active hits settles a race with another instance: nothing is stored twice.
        values = hit.model_dump(exclude={"id", "delisted_at", "delisted_version_id"})
        stmt = (
            insert_(ScreeningHit)
            .values(**values)
            .on_conflict_do_nothing(
                index_elements=["transfer_id", "key", "source", "party_ref"], index_where=ScreeningHit.delisted_at.is_(None)
            )
            .returning(ScreeningHit.id)
        )
        hit.id = (await session.execute(stmt)).scalar_one_or_none()
        if hit.id is None:
            continue
        await record_event(session, EventKind.SANCTIONS_HIT, chain=c.chain, transfer_id=c.transfer_id, **_detail(hit, info))
        stored.append(hit)
    return stored


async def delist(
    session: AsyncSession, source: str, keys: Iterable[str], version: ListVersionInfo, *, now: datetime
) -> list[ScreeningHit]:
    """Mark the active hits of ``source`` on ``keys`` delisted as of ``now``, each with a ``sanctions.delisted`` event.

    The hits stay as history; they are not raised again.
    """
    wanted = sorted(set(keys))
    changed: list[ScreeningHit] = []
    for start in range(0, len(wanted), 1000):
        rows = await session.execute(
            select(ScreeningHit).where(
                ScreeningHit.source == source,
                ScreeningHit.key.in_(wanted[start : start + 1000]),
                ScreeningHit.delisted_at.is_(None),
            )
        )
        changed.extend(rows.scalars())
    if not changed:
        return []
    ids = [h.id for h in changed]
    await session.execute(
        update(ScreeningHit).where(ScreeningHit.id.in_(ids)).values(delisted_at=now, delisted_version_id=version.version_id)
    )
    for hit in changed:
        hit.delisted_at = now
        hit.delisted_version_id = version.version_id
        await record_event(
            session,
            EventKind.SANCTIONS_DELISTED,
            transfer_id=hit.transfer_id,
            hit_id=hit.id,
            address=hit.address,
            source=source,
            party=hit.party,
            delisted_at=now.isoformat(),
            list_version_id=version.version_id,
            list_published=version.published.isoformat() if version.published else None,
            list_sha256=version.sha256,
        )
    return changed
