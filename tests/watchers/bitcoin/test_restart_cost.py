"""A restart costs what the reorg window holds, not the chain's whole history."""

from __future__ import annotations

from collections.abc import Callable

from ledger.database import Database
from ledger.models import TransferStatus
from ledger.writes import TransferIn, record_transfers
from tests.fakes.esplora import EsploraFake, fake_address, make_tx
from tests.watchers.bitcoin.conftest import transfers, watch
from watchers.bitcoin import BitcoinWatcher
from watchers.bitcoin_reorg import recent_candidates


async def _history(db: Database, wallet_id: int, heights: range) -> None:
    """One confirmed transfer per height, as a long-running bot has stored them."""
    items = [
        TransferIn(chain="bitcoin", txid=f"{h:064x}", position=0, wallet_id=wallet_id, asset="BTC", decimals=8,
                   amount=1_000 + h, block_height=h, block_hash=f"{h:064x}", status=TransferStatus.CONFIRMED)
        for h in heights
    ]
    async with db.session() as s:
        await record_transfers(s, items)


class TestRestartCost:
    async def test_after_a_start_only_the_window_below_the_stored_tip_is_read(self, db: Database) -> None:
        """With no tip seen yet, the re-check reads the rows within the window below the highest stored block, not all 300."""
        wallet_id = await watch(db, fake_address(1))
        await _history(db, wallet_id, range(1, 301))
        async with db.session() as s:
            rows = await recent_candidates(s, "bitcoin", None, 10)
        assert sorted(r.block_height for r in rows) == list(range(291, 301))

    async def test_a_known_tip_bounds_the_rows_as_before(self, db: Database) -> None:
        """Once a tip has been seen, the window below it is what is read."""
        wallet_id = await watch(db, fake_address(2))
        await _history(db, wallet_id, range(1, 301))
        async with db.session() as s:
            rows = await recent_candidates(s, "bitcoin", 320, 10)
        assert rows == []

    async def test_a_restarted_watcher_still_catches_a_reorg_in_the_window(
        self, db: Database, fake: EsploraFake, watcher_factory: Callable[..., BitcoinWatcher]
    ) -> None:
        """A fresh watcher (as after a restart) finds a confirmed donation whose block was reorged away back in the mempool."""
        address = fake_address(3)
        wallet_id = await watch(db, address)
        fake.add_tx(make_tx([(fake_address(9), 60_000)], [(address, 50_000)]))
        fake.mine()
        assert (await watcher_factory(confirmations=1).poll()).new == 1
        assert (await transfers(db, wallet_id))[0].status == TransferStatus.CONFIRMED
        fake.reorg(1)  # the block is detached; its transaction goes back to the mempool
        fake.mine([])
        fake.mine([])
        report = await watcher_factory(confirmations=1).poll()
        assert report.ok
        (row,) = await transfers(db, wallet_id)
        assert row.status == TransferStatus.PENDING and row.block_height is None
