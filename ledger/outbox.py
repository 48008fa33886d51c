"""The delivery outbox: what each channel must tell the outside world, sent once and never lost.

``fan_out`` copies the events a channel accepts into ``delivery`` rows and moves the channel's
stream position, in one transaction. A sender then ``claim``s due rows (a short transaction that
leases them; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two senders never take the same row),
sends OUTSIDE any transaction, and marks each row ``sent`` only after the send succeeded (or
``retry`` / ``failed``). A sender killed mid-send leaves its rows leased; they are claimed again
when the lease runs out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.events import Start, consumer_position, move_consumer, read_events
from ledger.models import Event
from ledger.stream_tables import Delivery, DeliveryState
from ledger.types import utcnow

__all__ = [
    "Delivery", "DeliveryState", "backlog", "claim", "external_id_for", "fan_out", "mark_failed",
    "mark_retry", "mark_sent", "subject_of",
]


def subject_of(event: Event) -> str | None:
    """What an event's message is about: ``transfer:ID`` for a transfer's events, else nothing."""
    if event.transfer_id is not None and event.kind.startswith("transfer."):
        return f"transfer:{event.transfer_id}"
    return None


async def fan_out(
    session: AsyncSession,
    channel: str,
    accept: Callable[[Event], bool],
    *,
    start: Start = "now",
    limit: int = 500,
    subject: Callable[[Event], str | None] = subject_of,
) -> int:
    """Queue a delivery for each event after the channel's position that ``accept``s; returns how many.

    The channel's position (consumer ``channel``) moves past every event read, accepted or not,
    in the caller's transaction. A channel seen for the first time starts at ``start``.
    """
    position = await consumer_position(session, channel, start=start)
    queued = 0
    now = utcnow()
    insert_ = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    while True:
        events = await read_events(session, position, limit=limit)
        if not events:
            break
        rows: list[dict[str, Any]] = [
            {
                "channel": channel, "event_id": e.id, "idempotency_key": f"{channel}:{e.id}", "subject": subject(e),
                "state": str(DeliveryState.PENDING), "attempts": 0, "next_try_at": now, "created_at": now,
            }
            for e in events
            if accept(e)
        ]
        if rows:
            stmt = insert_(Delivery).on_conflict_do_nothing(index_elements=[Delivery.idempotency_key])
            result = await session.execute(stmt.returning(Delivery.id), rows)
            queued += len(result.all())
        position = events[-1].position
        if len(events) < limit:
            break
    await move_consumer(session, channel, position)
    return queued


async def claim(
    session: AsyncSession, channel: str, *, limit: int = 20, lease_seconds: float = 60, now: datetime | None = None
) -> list[Delivery]:
    """Lease up to ``limit`` due pending deliveries of ``channel``, oldest event first; attempts += 1.

    Commit right after: the send happens outside this transaction, then ``mark_sent``.
    """
    now = now or utcnow()
    stmt = (
        select(Delivery)
        .where(
            Delivery.channel == channel,
            Delivery.state == str(DeliveryState.PENDING),
            Delivery.next_try_at <= now,
            or_(Delivery.lease_until.is_(None), Delivery.lease_until <= now),  # type: ignore[union-attr]
        )
        .order_by(Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list((await session.execute(stmt.execution_options(populate_existing=True))).scalars())
    until = now + timedelta(seconds=lease_seconds)
    for row in rows:
        row.lease_until = until
        row.attempts += 1
    await session.flush()
    return rows


async def mark_sent(session: AsyncSession, delivery_id: int, external_id: str | None, *, now: datetime | None = None) -> None:
    """The delivery was sent (``external_id``: the outside world's id of it, kept if None)."""
    values: dict[str, Any] = {"state": str(DeliveryState.SENT), "sent_at": now or utcnow(), "lease_until": None}
    if external_id is not None:
        values["external_id"] = external_id
    await session.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values))


async def mark_retry(session: AsyncSession, delivery_id: int, error: str, *, at: datetime) -> None:
    """The send failed for now: try again at ``at``."""
    await session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id)
        .values(next_try_at=at, lease_until=None, last_error=error[:2000])
    )


async def mark_failed(session: AsyncSession, delivery_id: int, error: str) -> None:
    """The send can never succeed (e.g. the channel is gone): not retried."""
    await session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id)
        .values(state=str(DeliveryState.FAILED), lease_until=None, last_error=error[:2000])
    )


async def external_id_for(session: AsyncSession, channel: str, subject: str) -> str | None:
    """The outside world's id of the first message sent on ``channel`` about ``subject`` (the one to edit)."""
    stmt = (
        select(Delivery.external_id)
        .where(
            Delivery.channel == channel,
            Delivery.subject == subject,
            Delivery.state == str(DeliveryState.SENT),
            Delivery.external_id.is_not(None),  # type: ignore[union-attr]
        )
        .order_by(Delivery.id)
        .limit(1)
    )
    return await session.scalar(stmt)


async def backlog(session: AsyncSession, channel: str | None = None) -> tuple[int, datetime | None]:
    """How many deliveries wait to be sent (on ``channel``, or on all), and when the oldest was queued."""
    where = [Delivery.state == str(DeliveryState.PENDING)]
    if channel is not None:
        where.append(Delivery.channel == channel)
    count, oldest = (await session.execute(select(func.count(), func.min(Delivery.created_at)).where(and_(*where)))).one()
    return int(count or 0), oldest
