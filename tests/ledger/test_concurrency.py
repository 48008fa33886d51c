"""Two writers on one ledger: status changes as compare-and-set, one poller per chain, one migrator."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select

from ledger import queries
from ledger.database import Database
from ledger.locks import chain_lock
from ledger.models import Event, EventKind, TransferStatus
from ledger.wallets import upsert_wallet
from ledger.writes import TransferIn, record_transfers, set_status

WALLET = "0x165CD37b4C644C2921454429E7F9358d18A45e14"


async def _pending_transfer(db: Database) -> int:
    async with db.session() as s:
        wallet, _ = await upsert_wallet(s, "ethereum", WALLET)
        assert wallet.id is not None
        item = TransferIn(chain="ethereum", txid="0x" + "ab" * 32, position=-1, wallet_id=wallet.id, asset="ETH",
                          decimals=18, amount=5, block_height=10, block_hash="0x" + "01" * 32)
        [tid] = (await record_transfers(s, [item])).inserted
        return tid


async def _wait_until_blocked(db: Database, task: asyncio.Task[object]) -> None:
    """Return once ``task`` waits on a row lock (PostgreSQL) or on the write lock (SQLite)."""
    if db.dialect != "postgresql":
        await asyncio.sleep(0.2)
        return
    for _ in range(500):
        async with db.engine.connect() as conn:
            waiting = (await conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )).scalar()
        if waiting or task.done():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the second writer never waited for the first")


class TestCompareAndSet:
    async def test_two_writers_confirming_one_transfer_tell_it_once(self, db: Database) -> None:
        """Two transactions that both read a transfer as pending and confirm it write one event and move the totals once."""
        tid = await _pending_transfer(db)

        async def second() -> None:
            async with db.session() as b:
                await b.execute(select(func.count()).select_from(Event))  # B's snapshot: still pending
                await set_status(b, [tid], TransferStatus.CONFIRMED)

        async with db.session() as a:
            await set_status(a, [tid], TransferStatus.CONFIRMED)
            task = asyncio.create_task(second())
            await _wait_until_blocked(db, task)
        await task
        async with db.session() as s:
            kinds = list((await s.execute(select(Event.kind).order_by(Event.id))).scalars())
            [t] = await queries.totals(s)
        assert kinds == [EventKind.TRANSFER_NEW, EventKind.TRANSFER_CONFIRMED]
        assert (t.confirmed, t.pending, t.count) == (5, 0, 1)

    async def test_a_writer_that_lost_decides_again_from_the_fresh_row(self, db: Database) -> None:
        """An orphaning that loses to a confirmation still orphans the now confirmed transfer, once."""
        tid = await _pending_transfer(db)

        async def second() -> None:
            async with db.session() as b:
                await set_status(b, [tid], TransferStatus.ORPHANED)

        async with db.session() as a:
            await set_status(a, [tid], TransferStatus.CONFIRMED)
            task = asyncio.create_task(second())
            await _wait_until_blocked(db, task)
        await task
        async with db.session() as s:
            kinds = list((await s.execute(select(Event.kind).order_by(Event.id))).scalars())
            [t] = await queries.totals(s)
        assert kinds == [EventKind.TRANSFER_NEW, EventKind.TRANSFER_CONFIRMED, EventKind.TRANSFER_ORPHANED]
        assert (t.confirmed, t.pending, t.count) == (0, 0, 0)


class TestChainLock:
    async def test_a_second_instance_does_not_get_the_chain(self, db: Database) -> None:
        """While one instance (its own engine) holds a chain's poll lock, another is refused at once; then it gets it."""
        other = Database(str(db.url.render_as_string(hide_password=False)))
        try:
            async with chain_lock(db, "bitcoin") as first:
                async with chain_lock(other, "bitcoin") as second, chain_lock(other, "ethereum") as third:
                    assert (first, second, third) == (True, False, True)
            async with chain_lock(other, "bitcoin") as again:
                assert again
        finally:
            await other.close()


@pytest.mark.postgres
class TestMigrationLock:
    async def test_instances_migrating_a_fresh_database_together_all_succeed(self, pg_url: str) -> None:
        """Three instances upgrading one empty PostgreSQL database at once all succeed (one migrates, two wait)."""
        from tests.conftest import _pg_admin

        name = f"dw_migrate_{uuid.uuid4().hex[:8]}"
        await _pg_admin(f'CREATE DATABASE "{name}"')
        url = pg_url.rsplit("/", 1)[0] + "/" + name
        dbs = [Database(url) for _ in range(3)]
        try:
            # Without the lock they fail (a table that already exists) or wait on each other forever.
            await asyncio.wait_for(asyncio.gather(*(d.upgrade() for d in dbs)), timeout=60)
        finally:
            for d in dbs:
                await d.close()
            await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
