"""The event stream: a gap-free reader on both databases, and consumer positions kept in the database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from sqlalchemy import select, text

from ledger.database import Database
from ledger.events import (
    BEGINNING, EventRef, StreamPosition, UnknownStart, consumer_position, move_consumer, read_event_refs, read_events,
)
from ledger.models import Event, EventKind
from ledger.writes import record_event

ONLY_POSTGRES = pytest.mark.parametrize("db", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)


async def _event(db: Database, kind: EventKind = EventKind.WATCHER_FAILED, **detail: object) -> None:
    async with db.session() as s:
        await record_event(s, kind, chain="ethereum", **detail)


async def _read(db: Database, after: StreamPosition = BEGINNING, **kw: object) -> list[Event]:
    async with db.session() as s:
        return await read_events(s, after, **kw)  # type: ignore[arg-type]


INSERT = "INSERT INTO event (kind, detail, created_at) VALUES ('watcher.failed', '{}', CURRENT_TIMESTAMP) RETURNING id"

T = TypeVar("T")


async def _while_an_older_writer_finishes(db: Database, read: Callable[[], Awaitable[list[T]]]) -> list[T]:
    """What ``read`` returns while an older transaction that wrote an event commits 0.2 s later (a newer one already has)."""
    async with db.engine.connect() as first:
        await first.begin()
        await first.execute(text(INSERT))
        await _event(db)

        async def finish() -> None:
            await asyncio.sleep(0.2)
            await first.commit()

        task = asyncio.create_task(finish())
        found = await read()
        await task
    return found


class TestReader:
    async def test_reads_every_event_in_order(self, db: Database) -> None:
        """Events come back in the order they were committed, each with its stream position."""
        for n in range(3):
            await _event(db, n=n)
        events = await _read(db)
        assert [e.detail["n"] for e in events] == [0, 1, 2]
        assert [e.position for e in events] == sorted(e.position for e in events)
        assert all(e.position == StreamPosition(e.xact, e.id) for e in events)  # type: ignore[arg-type]

    async def test_reads_after_a_position_with_a_limit(self, db: Database) -> None:
        """Reading after the last event read, in pages of ``limit``, returns each event once."""
        for n in range(5):
            await _event(db, n=n)
        seen: list[int] = []
        position = BEGINNING
        while page := await _read(db, position, limit=2):
            seen.extend(e.detail["n"] for e in page)
            position = page[-1].position
        assert seen == [0, 1, 2, 3, 4]

    async def test_kinds_filter(self, db: Database) -> None:
        """Only the asked kinds are read."""
        await _event(db, EventKind.WATCHER_FAILED)
        await _event(db, EventKind.WATCHER_RECOVERED)
        assert [e.kind for e in await _read(db, kinds=[EventKind.WATCHER_RECOVERED])] == ["watcher.recovered"]

    async def test_sqlite_events_carry_no_transaction(self, db: Database) -> None:
        """On SQLite xact is 0 (ids commit in order); on PostgreSQL it is the writing transaction's id."""
        await _event(db)
        [event] = await _read(db)
        assert (event.xact == 0) == (db.dialect == "sqlite")


class TestOutOfOrderCommits:
    @ONLY_POSTGRES
    async def test_event_committed_late_with_a_lower_id_is_not_skipped(self, db: Database) -> None:
        """Two real connections commit ids 2 then 1: the reader returns both; "id > last" would have skipped 1."""
        async with db.engine.connect() as first, db.engine.connect() as second:
            await first.begin()
            low = (await first.execute(text(INSERT))).scalar_one()
            await second.begin()
            high = (await second.execute(text(INSERT))).scalar_one()
            await second.commit()
            assert low < high
            # While the lower id is uncommitted, "id > last" reads the higher one and moves past the lower.
            async with db.session() as s:
                old_last = max((await s.execute(select(Event.id).where(Event.id > 0))).scalars())
            stream = await _read(db, settle=0)
            assert old_last == high and stream == []
            await first.commit()
        async with db.session() as s:
            assert list((await s.execute(select(Event.id).where(Event.id > old_last))).scalars()) == []
        assert [e.id for e in await _read(db)] == [low, high]

    @ONLY_POSTGRES
    async def test_transaction_of_another_database_does_not_hold_the_stream(self, db: Database) -> None:
        """A writing transaction open in another database on the server does not delay this ledger's readers."""
        import asyncpg

        from tests.conftest import PG_ADMIN_URL

        other = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            tx = other.transaction()
            await tx.start()
            await other.fetchval("SELECT pg_current_xact_id()")
            await _event(db)
            assert len(await _read(db, settle=0)) == 1
            await tx.rollback()
        finally:
            await other.close()

    @ONLY_POSTGRES
    async def test_reader_waits_briefly_for_an_older_writer(self, db: Database) -> None:
        """An older writer still running holds newer events back; the reader returns them once it ends."""
        assert len(await _while_an_older_writer_finishes(db, lambda: _read(db, settle=5))) == 2


class TestRefs:
    async def test_refs_are_the_events_places_and_transfers_in_the_same_pages(self, db: Database) -> None:
        """read_event_refs (screening's reader) pages through the same events as read_events, filtered alike."""
        for n in range(5):
            await _event(db, EventKind.WATCHER_FAILED if n % 2 else EventKind.WATCHER_RECOVERED, n=n)
        async with db.session() as s:
            await record_event(s, EventKind.WATCHER_RECOVERED, chain="ethereum")
        kinds = [EventKind.WATCHER_RECOVERED]
        pages: list[list[tuple[StreamPosition, int | None]]] = []
        position = BEGINNING
        async with db.session() as s:
            while refs := await read_event_refs(s, position, kinds=kinds, limit=2):
                events = await read_events(s, position, kinds=kinds, limit=2)
                assert [(r.position, r.transfer_id) for r in refs] == [(e.position, e.transfer_id) for e in events]
                pages.append([(r.position, r.transfer_id) for r in refs])
                position = refs[-1].position
        assert [len(p) for p in pages] == [2, 2]

    @ONLY_POSTGRES
    async def test_refs_wait_briefly_for_an_older_writer_too(self, db: Database) -> None:
        """The same gap-free rule: an older writer's event is not skipped."""

        async def refs() -> list[EventRef]:
            async with db.session() as s:
                return await read_event_refs(s, BEGINNING, settle=5)

        assert len(await _while_an_older_writer_finishes(db, refs)) == 2


class TestConsumerPosition:
    async def test_new_consumer_from_the_beginning(self, db: Database) -> None:
        """A consumer created with start="beginning" reads every stored event."""
        await _event(db)
        async with db.session() as s:
            position = await consumer_position(s, "test", start="beginning")
            assert len(await read_events(s, position)) == 1

    async def test_new_consumer_from_now(self, db: Database) -> None:
        """A consumer created with start="now" reads only what is stored after its creation, and keeps that start."""
        await _event(db, n=0)
        async with db.session() as s:
            created = await consumer_position(s, "test", start="now")
        await _event(db, n=1)
        async with db.session() as s:
            position = await consumer_position(s, "test", start="now")
            assert position == created
            assert [e.detail["n"] for e in await read_events(s, position)] == [1]

    async def test_position_moves_with_the_transaction(self, db: Database) -> None:
        """A move in a transaction that rolls back is undone; a committed move is kept."""
        await _event(db)
        [event] = await _read(db)
        with pytest.raises(RuntimeError):
            async with db.session() as s:
                await consumer_position(s, "test")
                await move_consumer(s, "test", event.position)
                raise RuntimeError("crash before commit")
        async with db.session() as s:
            assert await consumer_position(s, "test") == BEGINNING
            await move_consumer(s, "test", event.position)
        async with db.session() as s:
            assert await consumer_position(s, "test") == event.position
            assert await read_events(s, event.position) == []

    async def test_unknown_start_is_refused(self, db: Database) -> None:
        """A start other than "beginning" or "now" is one clear error."""
        async with db.session() as s:
            with pytest.raises(UnknownStart, match="'yesterday' is not one of 'beginning', 'now'"):
                await consumer_position(s, "test", start="yesterday")  # type: ignore[arg-type]
