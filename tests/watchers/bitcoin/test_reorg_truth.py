"""Reorgs as electrs really answers them: double-spent donations orphaned, statuses told when they go back, one poller."""

from __future__ import annotations

from sqlalchemy import select

from ledger.database import Database
from ledger.locks import chain_lock
from ledger.models import Event, EventKind, TransferStatus, WalletCursor
from tests.fakes.esplora import EsploraFake, fake_address, make_tx
from tests.watchers.bitcoin.conftest import CHAIN, transfers, watch
from watchers.bitcoin import BitcoinWatcher

WALLET = fake_address(41)
DONOR = fake_address(42)
ELSEWHERE = fake_address(43)


def _donation(amount: int = 50_000) -> dict:  # type: ignore[type-arg]
    return make_tx([(DONOR, amount + 10_000)], [(WALLET, amount), (DONOR, 9_000)])


def _double_spend(fake: EsploraFake, txid: str) -> str:
    """Spend the donation's inputs elsewhere: the donation leaves the mempool for good, the conflict enters it."""
    fake.drop(txid)
    return fake.add_tx(make_tx([(DONOR, 60_000)], [(ELSEWHERE, 59_000)]))


async def _kinds(db: Database, transfer_id: int) -> list[str]:
    async with db.session() as s:
        rows = await s.execute(select(Event.kind).where(Event.transfer_id == transfer_id).order_by(Event.id))
        return list(rows.scalars())


async def _anchor(db: Database, wallet_id: int) -> str | None:
    async with db.session() as s:
        row = await s.get(WalletCursor, wallet_id)
        return row.newest_txid if row else None


class TestDoubleSpentAfterReorg:
    async def test_stale_block_transaction_is_still_served_unconfirmed(self, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """The fake answers as electrs does: a double-spent transaction of a stale block is 200 and unconfirmed, in no list."""
        txid = fake.add_tx(_donation())
        fake.mine()
        fake.reorg(1)
        _double_spend(fake, txid)
        tx = await watcher.client.tx(txid)
        assert tx is not None and tx["status"] == {"confirmed": False}
        assert txid not in {t["txid"] for t in await watcher.client.mempool_txs(WALLET)}

    async def test_donation_reorged_out_at_depth_three_and_double_spent_is_orphaned(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """A donation whose block a depth-3 reorg removes, its inputs spent elsewhere, is orphaned once and leaves the totals."""
        wid = await watch(db, WALLET)
        txid = fake.add_tx(_donation())
        fake.mine()
        fake.mine([])
        fake.mine([])
        await watcher.poll()
        fake.reorg(3)
        _double_spend(fake, txid)
        for _ in range(4):
            fake.mine()
        report = await watcher.poll()
        assert report.ok and report.orphaned == 1
        [t] = await transfers(db, wid)
        assert t.status == TransferStatus.ORPHANED
        assert await _kinds(db, t.id) == [EventKind.TRANSFER_NEW, EventKind.TRANSFER_ORPHANED]
        fake.requests.clear()
        await watcher.poll()
        assert fake.requests["/tx/{txid}"] == 0  # nothing left to ask about every poll

    async def test_donation_back_in_the_mempool_then_double_spent_is_orphaned(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """A donation a reorg sent back to the mempool, then double-spent there, is orphaned though /tx still answers."""
        wid = await watch(db, WALLET)
        txid = fake.add_tx(_donation())
        fake.mine()
        await watcher.poll()
        fake.reorg(1)
        fake.mine([])
        fake.mine([])
        await watcher.poll()
        assert [(t.status, t.block_height) for t in await transfers(db, wid)] == [(TransferStatus.PENDING, None)]
        _double_spend(fake, txid)
        fake.mine()
        report = await watcher.poll()
        assert report.ok and report.orphaned == 1
        assert [t.status for t in await transfers(db, wid)] == [TransferStatus.ORPHANED]

    async def test_cursor_anchor_reorged_out_is_orphaned_and_no_longer_the_anchor(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """The cursor's newest transaction, reorged out and double-spent, is orphaned, dropped as anchor, and later donations are found."""
        wid = await watch(db, WALLET)
        txid = fake.add_tx(_donation())
        fake.mine()
        await watcher.poll()
        assert await _anchor(db, wid) == txid
        fake.reorg(1)
        _double_spend(fake, txid)
        fake.mine()
        fake.mine([])
        report = await watcher.poll()
        assert report.ok and report.orphaned == 1
        assert await _anchor(db, wid) is None
        later = fake.add_tx(_donation(70_000))
        fake.mine()
        report = await watcher.poll()
        assert report.ok and report.new == 1
        assert {(t.txid, t.status) for t in await transfers(db, wid)} == {(txid, "orphaned"), (later, "pending")}
        assert await _anchor(db, wid) == later


class TestUnconfirmed:
    async def test_confirmed_donation_back_in_the_mempool_is_told_unconfirmed(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """A confirmed donation whose block a reorg removes, waiting in the mempool again, is pending with transfer.unconfirmed."""
        wid = await watch(db, WALLET)
        fake.add_tx(_donation())
        fake.mine()
        for _ in range(6):
            fake.mine([])
        await watcher.poll()
        fake.reorg(7)
        for _ in range(8):
            fake.mine([])
        await watcher.poll()
        [t] = await transfers(db, wid)
        assert (t.status, t.block_height, t.confirmed_at) == (TransferStatus.PENDING, None, None)
        assert await _kinds(db, t.id) == [EventKind.TRANSFER_NEW, EventKind.TRANSFER_UNCONFIRMED]  # new: stored confirmed

    async def test_failover_to_a_lagging_server_never_unconfirms(self, db: Database, fake: EsploraFake, watcher_factory) -> None:  # type: ignore[no-untyped-def]
        """When the up-to-date server fails and a lagging one (donation still in its mempool) answers, the donation stays confirmed."""
        lagging = EsploraFake()
        await lagging.start()
        try:
            watcher = watcher_factory(esplora_urls=(fake.url, lagging.url))
            wid = await watch(db, WALLET)
            doc = _donation()
            txid = fake.add_tx(doc)
            lagging.add_tx(doc)
            fake.mine()
            for _ in range(6):
                fake.mine([])
            await watcher.poll()
            assert [t.status for t in await transfers(db, wid)] == [TransferStatus.CONFIRMED]
            await fake.stop()
            report = await watcher.poll()
            assert report.ok, report.errors
            assert lagging.total_requests() > 0
            [t] = await transfers(db, wid)
            assert (t.txid, t.status, t.block_height) == (txid, TransferStatus.CONFIRMED, fake.tip - 6)
            assert await _kinds(db, t.id) == [EventKind.TRANSFER_NEW]  # stored confirmed, never moved
        finally:
            await lagging.stop()

    async def test_failover_to_a_lagging_server_never_orphans_a_waiting_donation(self, db: Database, fake: EsploraFake, watcher_factory) -> None:  # type: ignore[no-untyped-def]
        """A donation waiting in the mempool is not orphaned because a lagging server (below the tip seen before) has not seen it."""
        lagging = EsploraFake()
        await lagging.start()
        try:
            watcher = watcher_factory(esplora_urls=(fake.url, lagging.url))
            wid = await watch(db, WALLET)
            confirmed = fake.add_tx(_donation(30_000))
            fake.mine()
            fake.mine([])
            waiting = fake.add_tx(_donation())
            await watcher.poll()  # the recent block's re-check asks the tip: the best tip seen
            await fake.stop()
            report = await watcher.poll()
            assert report.ok, report.errors
            assert {(t.txid, t.status) for t in await transfers(db, wid)} == {
                (confirmed, TransferStatus.PENDING), (waiting, TransferStatus.PENDING)}
        finally:
            await lagging.stop()


class TestPollLock:
    async def test_poll_while_another_instance_polls_the_chain_is_skipped(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """A poll of a chain another instance is polling does nothing and says it skipped."""
        await watch(db, WALLET)
        fake.add_tx(_donation())
        other = Database(db.url.render_as_string(hide_password=False))
        try:
            async with chain_lock(other, CHAIN) as held:
                assert held
                report = await watcher.poll()
            assert report.skipped and report.ok and fake.total_requests() == 0
            assert (await watcher.poll()).new == 1
        finally:
            await other.close()
