"""Replacements and reorgs: what the Bitcoin watcher does when the chain or the mempool changes its mind."""

from __future__ import annotations

from ledger.database import Database
from ledger.models import TransferStatus
from tests.fakes.esplora import EsploraFake, fake_address, make_tx, recorded
from tests.watchers.bitcoin.conftest import transfers, watch
from watchers.bitcoin import BitcoinWatcher

WALLET = fake_address(1)
DONOR = fake_address(2)
RBF_PAYEE = "bc1p5t79edz9w4fcnmkjjk4e6k2tp7kd8cqggz37gal60sp9gyk9x72sk4mk0f"


def _donation(amount: int = 50_000) -> dict:  # type: ignore[type-arg]
    return make_tx([(DONOR, amount + 10_000)], [(WALLET, amount), (DONOR, 9_000)])


class TestReplacement:
    async def test_replaced_unconfirmed_donation_is_orphaned(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """The recorded real RBF pair: 242f3fff... pays the wallet, b6a53d8a... replaces it and pays the sender back."""
        wid = await watch(db, RBF_PAYEE)
        original = fake.add_tx(recorded("rbf_original_242f3fff.json"))
        await watcher.poll()
        [t] = await transfers(db, wid)
        assert (t.txid, t.amount, t.status) == (original, 49_394, TransferStatus.PENDING)
        fake.replace(original, recorded("rbf_replacement_b6a53d8a.json"))
        fake.mine()
        report = await watcher.poll()
        assert report.ok and report.orphaned == 1
        [t] = await transfers(db, wid)
        assert t.status == TransferStatus.ORPHANED and t.orphaned_at is not None

    async def test_fee_bump_that_still_pays_the_wallet_swaps_the_transfer(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """A replacement paying the wallet too, with the address's counts unchanged, orphans the old and stores the new."""
        wid = await watch(db, WALLET)
        old = fake.add_tx(_donation(50_000))
        await watcher.poll()
        new = fake.replace(old, _donation(50_000))
        report = await watcher.poll()
        assert report.ok and (report.new, report.orphaned) == (1, 1)
        assert {(t.txid, t.status) for t in await transfers(db, wid)} == {(old, "orphaned"), (new, "pending")}

    async def test_dropped_unconfirmed_donation_is_orphaned(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """A donation evicted from the mempool (and unknown to the source) is orphaned."""
        wid = await watch(db, WALLET)
        txid = fake.add_tx(_donation())
        await watcher.poll()
        fake.drop(txid)
        await watcher.poll()
        assert [t.status for t in await transfers(db, wid)] == [TransferStatus.ORPHANED]


class TestReorg:
    async def test_reorg_moves_donation_to_another_block(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """A donation whose block is reorged away and re-mined one block later keeps its row and takes the new block."""
        wid = await watch(db, WALLET)
        txid = fake.add_tx(_donation())
        old_block = fake.mine()
        await watcher.poll()
        [before] = await transfers(db, wid)
        fake.reorg(1)
        fake.mine([])
        new_block = fake.mine([txid])
        report = await watcher.poll()
        assert report.ok, report.errors
        [after] = await transfers(db, wid)
        assert after.id == before.id and after.status == TransferStatus.PENDING
        assert (after.block_height, after.block_hash) == (new_block.height, new_block.hash) != (old_block.height, old_block.hash)

    async def test_reorg_removing_donation_orphans_it(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """A donation whose block is reorged away and whose transaction is double-spent is orphaned."""
        wid = await watch(db, WALLET)
        txid = fake.add_tx(_donation())
        fake.mine()
        await watcher.poll()
        fake.reorg(1)
        fake.drop(txid)
        fake.mine([])
        fake.mine([])
        report = await watcher.poll()
        assert report.ok and report.orphaned == 1
        assert [t.status for t in await transfers(db, wid)] == [TransferStatus.ORPHANED]

    async def test_reorg_back_to_mempool_is_pending_without_block(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """A donation whose block is reorged away but which waits in the mempool again is pending with no block."""
        wid = await watch(db, WALLET)
        fake.add_tx(_donation())
        fake.mine()
        await watcher.poll()
        fake.reorg(1)
        fake.mine([])
        fake.mine([])
        await watcher.poll()
        [t] = await transfers(db, wid)
        assert (t.status, t.block_height, t.block_hash) == (TransferStatus.PENDING, None, None)

    async def test_reorg_of_a_confirmed_donation_within_ten_blocks_is_noticed(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """A donation confirmed at depth 7 whose block is then reorged away is moved back to pending."""
        wid = await watch(db, WALLET)
        txid = fake.add_tx(_donation())
        fake.mine()
        for _ in range(6):
            fake.mine([])
        await watcher.poll()
        assert (await transfers(db, wid))[0].status == TransferStatus.CONFIRMED
        fake.reorg(7)
        for _ in range(8):
            fake.mine([])
        block = fake.mine([txid])
        await watcher.poll()
        [t] = await transfers(db, wid)
        assert (t.status, t.block_height) == (TransferStatus.PENDING, block.height)

    async def test_quiet_poll_without_recent_transfers_asks_nothing_about_blocks(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """With every transfer deeper than the window, a poll asks neither the tip nor any block hash."""
        await watch(db, WALLET)
        fake.add_tx(_donation())
        fake.mine()
        for _ in range(11):
            fake.mine([])
        await watcher.poll()
        fake.requests.clear()
        await watcher.poll()
        assert fake.requests["/blocks/tip/height"] == 0 and fake.requests["/block-height/{height}"] == 0


class TestReorgSwap:
    async def test_reorg_swapping_a_donation_for_another_at_equal_counts_finds_the_new_one(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """A reorg replacing one donation by a double-spend paying the wallet too (counts unchanged) orphans one and stores the other."""
        wid = await watch(db, WALLET)
        first = fake.add_tx(_donation(40_000))
        fake.mine()
        await watcher.poll()
        fake.reorg(1)
        fake.drop(first)
        second = fake.add_tx(_donation(41_000))
        fake.mine()
        fake.mine([])
        report = await watcher.poll()  # the re-check orphans the first and has the wallet's history read again
        assert report.ok and (report.orphaned, report.new) == (1, 1)
        assert {(t.txid, t.status) for t in await transfers(db, wid)} == {(first, "orphaned"), (second, "pending")}
