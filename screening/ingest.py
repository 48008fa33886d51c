"""Screening on ingest: the senders of every newly stored transfer, found through the event log.

A cursor over the ids of ``transfer.new`` events says how far screening has read. It advances in
the same transaction as the hits it stores, so a crash never skips a transfer nor raises a hit
twice, and any instance can run it right after a watcher poll.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import Event, EventKind, Transfer, TransferSender
from ledger.screening_tables import ScreeningCursor, ScreeningHit
from ledger.types import utcnow
from screening.hits import Candidate, store_hits
from screening.index import ScreeningIndex

CURSOR = "ingest"
BATCH = 1_000


@dataclass
class IngestReport:
    """What one screening pass read and found."""

    transfers: int = 0
    senders: int = 0
    hits: list[ScreeningHit] | None = None
    cursor: int = 0


async def _cursor(session: AsyncSession) -> ScreeningCursor:
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        # Event ids are taken before commit, so a concurrent writer could still commit a lower id
        # than one already visible. This lock waits for every such writer to finish and keeps
        # new ones out for this short transaction, so the cursor never steps over an event.
        # (SQLite needs nothing: each transaction there is BEGIN IMMEDIATE.)
        await session.execute(text("LOCK TABLE event IN SHARE ROW EXCLUSIVE MODE"))
    insert_ = pg_insert if postgres else sqlite_insert
    await session.execute(insert_(ScreeningCursor).values(name=CURSOR, event_id=0, updated_at=utcnow()).on_conflict_do_nothing())
    stmt = select(ScreeningCursor).where(ScreeningCursor.name == CURSOR).with_for_update()
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one()


async def screen_new_transfers(
    session: AsyncSession, index: ScreeningIndex, *, now: datetime | None = None, batch: int = BATCH
) -> IngestReport:
    """Screen the senders of every transfer stored since the last pass; store hits; advance the cursor."""
    now = now or utcnow()
    cursor = await _cursor(session)
    report = IngestReport(hits=[], cursor=cursor.event_id)
    while True:
        events = (
            await session.execute(
                select(Event.id, Event.transfer_id)
                .where(Event.id > cursor.event_id, Event.kind == str(EventKind.TRANSFER_NEW))
                .order_by(Event.id)
                .limit(batch)
            )
        ).all()
        if not events:
            break
        transfer_ids = sorted({t for _, t in events if t is not None})
        rows = (
            await session.execute(
                select(TransferSender.transfer_id, TransferSender.address, Transfer.chain)
                .join(Transfer, Transfer.id == TransferSender.transfer_id)
                .where(TransferSender.transfer_id.in_(transfer_ids))
            )
        ).all()
        candidates = [
            Candidate(transfer_id, chain, address, match)
            for transfer_id, address, chain in rows
            for match in index.lookup(address)
        ]
        report.transfers += len(transfer_ids)
        report.senders += len(rows)
        report.hits.extend(await store_hits(session, candidates, cause="ingest", now=now))
        cursor.event_id = events[-1][0]
        cursor.updated_at = now
        await session.flush()
    report.cursor = cursor.event_id
    return report
