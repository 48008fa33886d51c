"""The event stream: one gap-free reader of the ``event`` table, and each consumer's stored position.

Event ids are handed out at insert, so on PostgreSQL a transaction can commit id 7 after another
committed id 8: a reader of "id greater than the last one" that saw 8 skips 7 forever. Here an
event's place in the stream is (xact, id), where ``xact`` is the id of the transaction that
wrote it (``pg_current_xact_id()``), and a reader only reads events whose transaction is older
than every transaction still running (``pg_snapshot_xmin``, leaving out transactions of other
databases on the server): all of those have finished, so no event can later appear below what
was read. No table lock is taken; a writer still running only holds newer events back until it
ends. On SQLite every transaction starts with BEGIN IMMEDIATE,
so writers are serialised, ids commit in order and ``xact`` is 0.

A consumer keeps its position in ``consumer_position`` and moves it with ``move_consumer`` in the
same transaction as its own effects, so a crash neither skips nor repeats its work.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

from sqlalchemy import and_, literal, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from ledger.errors import LedgerError
from ledger.models import Event
from ledger.stream_tables import ConsumerPosition
from ledger.types import utcnow

log = logging.getLogger(__name__)

Start = Literal["beginning", "now"]


class _Positioned(Protocol):
    @property
    def position(self) -> StreamPosition: ...


R = TypeVar("R", bound=_Positioned)

# How long a PostgreSQL reader waits for a still-running transaction that holds back events
# already committed, before returning what it can read (the rest is read next time).
SETTLE_SECONDS = 2.0
_SETTLE_STEP = 0.02

# The stream's horizon on PostgreSQL: the oldest transaction of THIS database still running as of
# the statement's snapshot (or the snapshot's xmax when none is). Every transaction below it has
# ended, so its events are all visible and no event can later appear below it. Transactions of
# other databases on the same server (pg_stat_activity pairs each backend's xid with its
# database) can never write here and do not hold the stream back; an xid whose database is not
# known (a prepared transaction, a backend that just ended) does, to stay safe.
_PG_HORIZON = """(SELECT coalesce(
    (SELECT min(x::text::bigint) FROM pg_snapshot_xip(snap.s) AS x
      WHERE (x::text::bigint % 4294967296) NOT IN (
        SELECT a.backend_xid::text::bigint FROM pg_stat_activity AS a
         WHERE a.backend_xid IS NOT NULL AND a.datid IS NOT NULL
           AND a.datid <> (SELECT oid FROM pg_database WHERE datname = current_database()))),
    pg_snapshot_xmax(snap.s)::text::bigint)
  FROM (SELECT pg_current_snapshot() AS s) AS snap)"""


async def _fresh_activity(session: AsyncSession) -> None:
    """Drop this transaction's cached copy of pg_stat_activity, so the horizon reads it after its snapshot."""
    if _dialect(session) == "postgresql":
        await session.execute(text("SELECT pg_stat_clear_snapshot()"))


@dataclass(frozen=True, order=True, slots=True)
class StreamPosition:
    """A place in the event stream: after the event ``event_id`` written by transaction ``xact``."""

    xact: int = 0
    event_id: int = 0


BEGINNING = StreamPosition(0, 0)


class UnknownStart(LedgerError):
    """A consumer was asked to start somewhere other than "beginning" or "now"."""

    def __init__(self, consumer: str, start: str) -> None:
        self.consumer, self.start = consumer, start
        super().__init__(f"consumer {consumer!r}: start {start!r} is not one of 'beginning', 'now'")


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _readable(session: AsyncSession) -> ColumnElement[bool]:
    """Events below the horizon (PostgreSQL); every committed one (SQLite, where writers take turns)."""
    if _dialect(session) == "postgresql":
        return Event.xact < text(_PG_HORIZON)
    return literal(True)


def _after(position: StreamPosition) -> ColumnElement[bool]:
    return tuple_(Event.xact, Event.id) > tuple_(literal(position.xact), literal(position.event_id))


async def read_events(
    session: AsyncSession,
    after: StreamPosition,
    *,
    kinds: Collection[str] | None = None,
    limit: int = 500,
    settle: float = SETTLE_SECONDS,
) -> list[Event]:
    """Up to ``limit`` events after ``after``, in stream order, never skipping one that commits later.

    On PostgreSQL, when committed events are held back by an older transaction still running,
    waits up to ``settle`` seconds for it to end before returning what can be read.
    """
    stmt = select(Event).where(_readable_after(session, after, kinds)).order_by(Event.xact, Event.id).limit(limit)
    stmt = stmt.execution_options(populate_existing=True)

    async def fetch() -> list[Event]:
        return list((await session.execute(stmt)).scalars())

    return await _read(session, fetch, after, kinds, limit, settle)


@dataclass(frozen=True, slots=True)
class EventRef:
    """An event's place in the stream and its transfer, without the rest of the row."""

    xact: int
    id: int
    transfer_id: int | None

    @property
    def position(self) -> StreamPosition:
        return StreamPosition(self.xact, self.id)


async def read_event_refs(
    session: AsyncSession,
    after: StreamPosition,
    *,
    kinds: Collection[str] | None = None,
    limit: int = 500,
    settle: float = SETTLE_SECONDS,
) -> list[EventRef]:
    """``read_events`` for a consumer that needs only each event's transfer (screening reads
    thousands after a backfill): the same rows in the same order, as plain tuples, not ORM objects."""
    stmt = (
        select(Event.xact, Event.id, Event.transfer_id)
        .where(_readable_after(session, after, kinds))
        .order_by(Event.xact, Event.id)
        .limit(limit)
    )

    async def fetch() -> list[EventRef]:
        return [EventRef(int(xact), int(id_), transfer_id) for xact, id_, transfer_id in (await session.execute(stmt)).all()]

    return await _read(session, fetch, after, kinds, limit, settle)


def _readable_after(session: AsyncSession, after: StreamPosition, kinds: Collection[str] | None) -> ColumnElement[bool]:
    where = [_after(after), _readable(session)]
    if kinds is not None:
        where.append(Event.kind.in_([str(k) for k in kinds]))
    return and_(*where)


async def _read(
    session: AsyncSession,
    fetch: Callable[[], Awaitable[list[R]]],
    after: StreamPosition,
    kinds: Collection[str] | None,
    limit: int,
    settle: float,
) -> list[R]:
    """Run ``fetch`` (events after ``after``) until it is full, or nothing committed is held back."""
    deadline = time.monotonic() + settle
    while True:
        await _fresh_activity(session)
        events = await fetch()
        if len(events) >= limit or _dialect(session) != "postgresql" or time.monotonic() >= deadline:
            return events
        if not await _more_committed(session, events[-1].position if events else after, kinds):
            return events
        await asyncio.sleep(_SETTLE_STEP)


async def _more_committed(session: AsyncSession, after: StreamPosition, kinds: Collection[str] | None) -> bool:
    """Whether an event after ``after`` is committed (held back by an older transaction still running)."""
    where = [_after(after)]
    if kinds is not None:
        where.append(Event.kind.in_([str(k) for k in kinds]))
    return (await session.scalar(select(Event.id).where(and_(*where)).limit(1))) is not None


async def stream_end(session: AsyncSession) -> StreamPosition:
    """The position of the newest readable event (the beginning when there is none)."""
    stmt = (
        select(Event.xact, Event.id)
        .where(_readable(session))
        .order_by(Event.xact.desc(), Event.id.desc())
        .limit(1)
    )
    await _fresh_activity(session)
    row = (await session.execute(stmt)).first()
    return StreamPosition(int(row[0]), int(row[1])) if row else BEGINNING


async def consumer_position(session: AsyncSession, consumer: str, *, start: Start = "beginning") -> StreamPosition:
    """The consumer's stored position, locked for this transaction; created on first use.

    A new consumer starts at the beginning of the stream, or with ``start="now"`` after every event
    readable now (a brand-new channel hears what happens from its creation on).
    """
    if start not in ("beginning", "now"):
        raise UnknownStart(consumer, start)
    row = await _locked(session, consumer)
    if row is None:
        at = await stream_end(session) if start == "now" else BEGINNING
        insert_ = pg_insert if _dialect(session) == "postgresql" else sqlite_insert
        await session.execute(
            insert_(ConsumerPosition)
            .values(consumer=consumer, xact=at.xact, event_id=at.event_id, updated_at=utcnow())
            .on_conflict_do_nothing()
        )
        row = await _locked(session, consumer)
        assert row is not None
        if (row.xact, row.event_id) == (at.xact, at.event_id):
            log.info("event consumer=%s starts at xact=%d event=%d (%s)", consumer, at.xact, at.event_id, start)
    return StreamPosition(int(row.xact), int(row.event_id))


async def _locked(session: AsyncSession, consumer: str) -> ConsumerPosition | None:
    stmt = select(ConsumerPosition).where(ConsumerPosition.consumer == consumer).with_for_update()
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()


async def move_consumer(session: AsyncSession, consumer: str, to: StreamPosition) -> None:
    """Store the consumer's new position (call it in the transaction that holds its effects)."""
    insert_ = pg_insert if _dialect(session) == "postgresql" else sqlite_insert
    now = utcnow()
    stmt = insert_(ConsumerPosition).values(consumer=consumer, xact=to.xact, event_id=to.event_id, updated_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[ConsumerPosition.consumer],
        set_={"xact": to.xact, "event_id": to.event_id, "updated_at": now},
    )
    await session.execute(stmt)
