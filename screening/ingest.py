"""Screening on ingest: the senders of every newly stored transfer, found through the event stream.

Screening is the event consumer "screening": it reads ``transfer.new`` events with the gap-free
reader (``ledger.events``) and moves its stored position in the same transaction as the hits it
stores, so a crash never skips a transfer nor raises a hit twice, and any instance can run it
right after a watcher poll. No table lock: writers go on while it reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.events import StreamPosition, consumer_position, move_consumer, read_event_refs
from ledger.models import EventKind, Transfer, TransferSender
from ledger.screening_tables import ScreeningHit
from ledger.types import utcnow
from screening.hits import Candidate, store_hits
from screening.index import ScreeningIndex

CONSUMER = "screening"
BATCH = 1_000


@dataclass
class IngestReport:
    """What one screening pass read and found, and the stream position it ended at."""

    transfers: int = 0
    senders: int = 0
    hits: list[ScreeningHit] | None = None
    position: StreamPosition = StreamPosition()


async def screen_new_transfers(
    session: AsyncSession, index: ScreeningIndex, *, now: datetime | None = None, batch: int = BATCH
) -> IngestReport:
    """Screen the senders of every transfer stored since the last pass; store hits; move the position."""
    now = now or utcnow()
    position = await consumer_position(session, CONSUMER, start="beginning")
    report = IngestReport(hits=[], position=position)
    while True:
        events = await read_event_refs(session, position, kinds=(EventKind.TRANSFER_NEW,), limit=batch)
        if not events:
            break
        transfer_ids = sorted({e.transfer_id for e in events if e.transfer_id is not None})
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
        position = events[-1].position
        if len(events) < batch:
            break
    if position != report.position:
        await move_consumer(session, CONSUMER, position)
    report.position = position
    return report
