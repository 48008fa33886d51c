"""Idempotent transfer writes, exact amounts, status changes, running totals and events."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from ledger import queries
from ledger.database import Database
from ledger.models import Event, EventKind, Transfer, TransferSender, TransferStatus
from ledger.types import UINT256_MAX
from ledger.wallets import upsert_wallet
from ledger.writes import TransferIn, confirm_up_to, orphan_above, record_transfers, set_status

ETH_WALLET = "0x165CD37b4C644C2921454429E7F9358d18A45e14"
BTC_WALLET = "357a3So9CbsNfBBgFYACGvxxS6tMaDoa1P"
T0 = datetime(2024, 2, 24, 12, 0, tzinfo=timezone.utc)


async def _wallet(db: Database, chain: str = "ethereum", address: str = ETH_WALLET) -> int:
    async with db.session() as s:
        wallet, _ = await upsert_wallet(s, chain, address, label="test")
        assert wallet.id is not None
        return wallet.id


def _eth(wallet_id: int, txid: str = "0x" + "ab" * 32, amount: int = 10**18, **kw) -> TransferIn:  # type: ignore[no-untyped-def]
    base = dict(chain="ethereum", txid=txid, position=-1, wallet_id=wallet_id, asset="ETH", decimals=18,
                amount=amount, senders=("0x8589427373D6D84E98730D7795D8f6f8731FDA16",),
                block_height=100, block_hash="0x" + "01" * 32, block_time=T0)
    base.update(kw)
    return TransferIn(**base)  # type: ignore[arg-type]


class TestIdempotentWrites:
    async def test_same_transfer_twice_is_stored_once(self, db: Database) -> None:
        """Writing the same transfer twice leaves one row, one sender row and one event."""
        wid = await _wallet(db)
        async with db.session() as s:
            first = await record_transfers(s, [_eth(wid)])
        async with db.session() as s:
            second = await record_transfers(s, [_eth(wid), _eth(wid)])
        assert len(first.inserted) == 1 and second.inserted == [] and second.unchanged == 1
        async with db.session() as s:
            assert await s.scalar(select(func.count()).select_from(Transfer)) == 1
            assert await s.scalar(select(func.count()).select_from(TransferSender)) == 1
            assert await s.scalar(select(func.count()).select_from(Event)) == 1

    async def test_uint256_max_round_trips_exactly(self, db: Database) -> None:
        """2**256-1 base units read back as the same integer, and sum into totals exactly."""
        wid = await _wallet(db)
        async with db.session() as s:
            await record_transfers(s, [_eth(wid, amount=UINT256_MAX, asset="TOK", decimals=18, position=3)])
        async with db.session() as s:
            row = (await s.execute(select(Transfer))).scalar_one()
            assert row.amount == UINT256_MAX and isinstance(row.amount, int)
            [total] = await queries.totals(s)
            assert total.pending == UINT256_MAX

    async def test_amount_out_of_range_is_refused(self, db: Database) -> None:
        """A negative or over-wide amount never reaches the database."""
        wid = await _wallet(db)
        with pytest.raises(Exception, match="outside 0 .. 2\\*\\*256-1"):
            async with db.session() as s:
                await record_transfers(s, [_eth(wid, amount=2**256)])

    async def test_reincluded_transfer_keeps_its_id_and_takes_the_new_block(self, db: Database) -> None:
        """After a reorg, the same transaction in another block is one row with the new block."""
        wid = await _wallet(db)
        async with db.session() as s:
            [tid] = (await record_transfers(s, [_eth(wid)])).inserted
            await orphan_above(s, "ethereum", 99)
        async with db.session() as s:
            res = await record_transfers(s, [_eth(wid, block_height=101, block_hash="0x" + "02" * 32)])
        assert res.reincluded == [tid]
        async with db.session() as s:
            row = (await s.execute(select(Transfer))).scalar_one()
            assert (row.id, row.block_height, row.status, row.orphaned_at) == (tid, 101, "pending", None)


class TestStatusAndTotals:
    async def test_totals_exclude_orphaned_and_split_pending(self, db: Database) -> None:
        """Confirmed, pending and orphaned transfers land in the right columns of the totals."""
        wid = await _wallet(db)
        async with db.session() as s:
            res = await record_transfers(s, [
                _eth(wid, txid="0x01", amount=5, status=TransferStatus.CONFIRMED),
                _eth(wid, txid="0x02", amount=7),
                _eth(wid, txid="0x03", amount=11),
            ])
            await set_status(s, [res.inserted[2]], TransferStatus.ORPHANED)
        async with db.session() as s:
            [t] = await queries.totals(s)
            assert (t.confirmed, t.pending, t.with_pending, t.count) == (5, 7, 12, 2)
            assert await queries.donation_count(s) == 2
            assert await queries.donation_count(s, include_pending=False) == 1

    async def test_confirm_and_orphan_move_totals_and_write_events(self, db: Database) -> None:
        """confirm_up_to and orphan_above change status, totals and the event log together."""
        wid = await _wallet(db)
        async with db.session() as s:
            await record_transfers(s, [_eth(wid, txid="0x01", amount=5, block_height=100),
                                       _eth(wid, txid="0x02", amount=7, block_height=110)])
        async with db.session() as s:
            assert len((await confirm_up_to(s, "ethereum", 105, {100: "0x" + "01" * 32})).confirmed) == 1
            assert len((await orphan_above(s, "ethereum", 105)).orphaned) == 1
        async with db.session() as s:
            [t] = await queries.totals(s)
            assert (t.confirmed, t.pending) == (5, 0)
            kinds = (await s.execute(select(Event.kind).order_by(Event.id))).scalars().all()
            assert kinds == [EventKind.TRANSFER_NEW] * 2 + [EventKind.TRANSFER_CONFIRMED, EventKind.TRANSFER_ORPHANED]

    async def test_totals_are_per_wallet_and_asset(self, db: Database) -> None:
        """Two wallets and two assets give four separate totals."""
        e = await _wallet(db)
        b = await _wallet(db, "bitcoin", BTC_WALLET)
        async with db.session() as s:
            await record_transfers(s, [
                _eth(e, txid="0x01", amount=1), _eth(e, txid="0x02", position=0, asset="USDT", decimals=6, amount=2),
                TransferIn(chain="bitcoin", txid="aa" * 32, position=0, wallet_id=b, asset="BTC", decimals=8, amount=3),
            ])
        async with db.session() as s:
            got = {(t.chain, t.asset): t.pending for t in await queries.totals(s)}
        assert got == {("ethereum", "ETH"): 1, ("ethereum", "USDT"): 2, ("bitcoin", "BTC"): 3}


class TestQueries:
    async def test_recent_largest_senders_and_window(self, db: Database) -> None:
        """recent, largest, unique_senders and totals_between answer from counted transfers only."""
        wid = await _wallet(db)
        async with db.session() as s:
            for i, amount in enumerate([3, 9, 1]):
                await record_transfers(s, [_eth(wid, txid=f"0x0{i}", amount=amount, senders=(f"0xs{i % 2}",))],
                                       now=T0 + timedelta(hours=i))
        async with db.session() as s:
            assert [t.amount for t in await queries.recent(s, 2)] == [1, 9]
            assert [t.amount for t in await queries.largest(s, "ETH", 2)] == [9, 3]
            assert await queries.unique_senders(s) == 2
            window = await queries.totals_between(s, T0, T0 + timedelta(hours=2))
            assert window == {"ETH": (18, 2, 12)}


class TestConcurrentWriters:
    async def test_two_writers_over_the_same_wallets_neither_deadlock_nor_lose_counts(self, db: Database) -> None:
        """Two concurrent transactions touching the same wallets' totals in opposite orders both commit."""
        import asyncio

        async with db.session() as s:
            ids = []
            for i in range(300):
                w, _ = await upsert_wallet(s, "ethereum", f"0x{i:040x}")
                assert w.id is not None
                ids.append(w.id)

        async def writer(tag: str, order: list[int]) -> None:
            for round_ in range(6):
                async with db.session() as s:
                    await record_transfers(s, [_eth(wid, txid=f"0x{tag}-{round_}-{wid}", amount=1) for wid in order])

        await asyncio.gather(writer("a", ids), writer("b", ids[::-1]))
        async with db.session() as s:
            totals = await queries.totals(s)
        assert sum(t.pending for t in totals) == 2 * 6 * 300 and {t.count for t in totals} == {12}


async def _kinds(db: Database) -> list[str]:
    async with db.session() as s:
        return list((await s.execute(select(Event.kind).order_by(Event.id))).scalars())


async def _row(db: Database) -> Transfer:
    async with db.session() as s:
        return (await s.execute(select(Transfer))).scalar_one()


class TestStatusesMoveForward:
    async def test_confirmed_back_to_pending_is_told_and_clears_confirmed_at(self, db: Database) -> None:
        """A re-check that finds a confirmed transfer's block gone moves it to pending with a transfer.unconfirmed event."""
        wid = await _wallet(db)
        async with db.session() as s:
            await record_transfers(s, [_eth(wid, status=TransferStatus.CONFIRMED)])
        async with db.session() as s:
            res = await record_transfers(s, [_eth(wid, block_height=None, block_hash=None, block_time=None)], rechecked=True)
        row = await _row(db)
        assert res.unconfirmed == [row.id]
        assert (row.status, row.confirmed_at, row.block_hash) == ("pending", None, None)
        assert await _kinds(db) == [EventKind.TRANSFER_NEW, EventKind.TRANSFER_UNCONFIRMED]
        async with db.session() as s:
            [t] = await queries.totals(s)
            assert (t.confirmed, t.pending) == (0, 10**18)

    async def test_a_lagging_sighting_never_unconfirms(self, db: Database) -> None:
        """A sighting with fewer confirmations (a backfill's old head, a lagging server) leaves a confirmed transfer confirmed."""
        wid = await _wallet(db)
        async with db.session() as s:
            await record_transfers(s, [_eth(wid, status=TransferStatus.CONFIRMED)])
        async with db.session() as s:
            res = await record_transfers(s, [_eth(wid), _eth(wid, block_height=None, block_hash=None, block_time=None)])
        assert res.unchanged == 1 and res.unconfirmed == [] and res.moved == []
        assert (await _row(db)).status == "confirmed"
        assert await _kinds(db) == [EventKind.TRANSFER_NEW]

    async def test_a_mempool_sighting_never_takes_a_transfer_out_of_its_block(self, db: Database) -> None:
        """A pending transfer in a block stays in it when a (lagging) source still shows it in the mempool."""
        wid = await _wallet(db)
        async with db.session() as s:
            await record_transfers(s, [_eth(wid)])
        async with db.session() as s:
            await record_transfers(s, [_eth(wid, block_height=None, block_hash=None, block_time=None)])
        assert (await _row(db)).block_height == 100

    async def test_confirm_up_to_checks_the_block_hash(self, db: Database) -> None:
        """A pending transfer whose stored block is not the canonical one at its height is not confirmed by depth."""
        wid = await _wallet(db)
        async with db.session() as s:
            await record_transfers(s, [_eth(wid, block_height=100, block_hash="0x" + "01" * 32)])
        async with db.session() as s:
            res = await confirm_up_to(s, "ethereum", 105, {100: "0x" + "02" * 32})
        assert res.confirmed == [] and (await _row(db)).status == "pending"


class TestTokenIdentity:
    async def test_token_transfer_moved_to_another_log_index_keeps_its_row(self, db: Database) -> None:
        """The same token transfer (same ordinal) re-included at another log index is one row whose log_index moves."""
        wid = await _wallet(db)
        usdt = dict(asset="USDT", decimals=6, amount=99_000_000, token="0x" + "dd" * 20, position=0)
        async with db.session() as s:
            [tid] = (await record_transfers(s, [_eth(wid, log_index=1, **usdt)])).inserted
            await orphan_above(s, "ethereum", 99)
        async with db.session() as s:
            res = await record_transfers(s, [_eth(wid, log_index=0, block_height=101, block_hash="0x" + "02" * 32, **usdt)])
        assert res.reincluded == [tid] and res.inserted == []
        row = await _row(db)
        assert (row.id, row.log_index, row.block_height, row.status) == (tid, 0, 101, "pending")

    async def test_two_tokens_in_one_transaction_are_two_transfers(self, db: Database) -> None:
        """Ordinal 0 of two tokens to one wallet in one transaction are two transfers (the key holds the asset)."""
        wid = await _wallet(db)
        async with db.session() as s:
            res = await record_transfers(s, [
                _eth(wid, asset="USDT", decimals=6, amount=1, position=0, log_index=0),
                _eth(wid, asset="USDC", decimals=6, amount=2, position=0, log_index=1),
            ])
        assert len(res.inserted) == 2
