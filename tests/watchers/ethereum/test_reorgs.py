"""Reorgs made with anvil_reorg: parent-hash checks, orphaning, and re-inclusion stored once."""

from __future__ import annotations

from sqlalchemy import select

from ledger.database import Database
from ledger.models import Event, EventKind, TransferStatus
from tests.watchers.ethereum.conftest import WatcherFactory, add_wallet, cursor, stored, totals
from tests.watchers.ethereum.devchain import ETH, DevChain, fresh_address


async def _events(db: Database, kind: EventKind) -> list[Event]:
    async with db.session() as s:
        return list((await s.execute(select(Event).where(Event.kind == str(kind)))).scalars())


class TestReorgs:
    async def test_dropped_donation_is_orphaned_and_leaves_the_totals(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """A donation whose block is replaced by a branch without it is kept as orphaned and no longer counted."""
        wallet = fresh_address(30)
        wid = await add_wallet(db, wallet, start_height=1)
        dev.mine(3)
        dev.send(dev.accounts[1], wallet, ETH)
        dev.mine(1)
        watcher = make_watcher(confirmations=10)
        await watcher.poll()
        assert await totals(db, wid) == {"ETH": (0, ETH)}
        dev.reorg(3)
        report = await watcher.poll()
        assert report.ok and report.orphaned == 1
        (t,) = await stored(db)
        assert t.status == TransferStatus.ORPHANED
        assert await totals(db, wid) == {"ETH": (0, 0)}
        assert len(await _events(db, EventKind.TRANSFER_ORPHANED)) == 1

    async def test_reincluded_donation_is_stored_once_with_its_new_block(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """A donation that the new branch includes in another block stays one transfer, moved to that block."""
        wallet = fresh_address(31)
        wid = await add_wallet(db, wallet, start_height=1)
        dev.mine(3)
        txid = dev.send(dev.accounts[1], wallet, ETH)
        old = dev.receipt(txid)
        dev.mine(1)
        watcher = make_watcher(confirmations=10)
        await watcher.poll()
        raw = dev.rpc("eth_getRawTransactionByHash", txid)
        dev.reorg(2, [(raw, 1)])
        new = dev.wait(txid)
        assert new["blockHash"] != old["blockHash"]
        report = await watcher.poll()
        assert report.ok
        (t,) = await stored(db)
        assert (t.block_height, t.block_hash, t.status) == (int(new["blockNumber"], 16), new["blockHash"], TransferStatus.PENDING)
        assert await totals(db, wid) == {"ETH": (0, ETH)}

    async def test_same_height_reorg_moves_the_cursor_to_the_new_branch(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """A reorg that keeps the tip's height is still noticed: the cursor ends on the new tip's hash."""
        await add_wallet(db, fresh_address(32), start_height=1)
        dev.mine(5)
        watcher = make_watcher()
        await watcher.poll()
        before = await cursor(db)
        dev.reorg(2)
        await watcher.poll()
        tip = dev.rpc("eth_getBlockByNumber", "latest", False)
        assert await cursor(db) == (int(tip["number"], 16), tip["hash"]) != before

    async def test_confirmed_donation_dropped_by_a_reorg_is_orphaned(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """Even a donation already counted as confirmed is orphaned when its block leaves the best chain."""
        wallet = fresh_address(33)
        wid = await add_wallet(db, wallet, start_height=1)
        dev.mine(2)
        dev.send(dev.accounts[1], wallet, ETH)
        watcher = make_watcher(confirmations=1)
        await watcher.poll()
        assert await totals(db, wid) == {"ETH": (ETH, 0)}
        dev.reorg(1)
        dev.mine(1)
        await watcher.poll()
        assert [t.status for t in await stored(db)] == [TransferStatus.ORPHANED]
        assert await totals(db, wid) == {"ETH": (0, 0)}
