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


class TestReinclusionIdentity:
    async def test_token_transfer_reincluded_at_another_log_index_keeps_its_id(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """A USDT transfer at log index 1 (after a spam-token log) re-included alone one block higher is one transfer, reincluded."""
        from tests.watchers.ethereum.test_tokens import _spec

        usdt, spam = dev.deploy_token("USDT", 6), dev.deploy_token("SPAM", 6)
        wallet = fresh_address(34)
        wid = await add_wallet(db, wallet, start_height=1)
        donor, spammer = dev.accounts[3], dev.accounts[4]
        dev.mint(usdt, donor, 10**9)
        dev.mint(spam, spammer, 10**9)
        dev.rpc("evm_setAutomine", False)
        dev.transfer_token(spam, spammer, wallet, 5, wait=False)
        txid = dev.transfer_token(usdt, donor, wallet, 99_000_000, wait=False)
        dev.mine(1)
        dev.rpc("evm_setAutomine", True)
        dev.mine(1)
        old = dev.receipt(txid)
        assert int(old["logs"][0]["logIndex"], 16) == 1
        watcher = make_watcher(tokens=(_spec("USDT", usdt, 6),), confirmations=10)
        await watcher.poll()
        [before] = await stored(db)
        dev.reorg(2, [(dev.rpc("eth_getRawTransactionByHash", txid), 1)])
        new = dev.wait(txid)
        assert int(new["logs"][0]["logIndex"], 16) == 0 and int(new["blockNumber"], 16) == int(old["blockNumber"], 16) + 1
        report = await watcher.poll()
        assert report.ok, report.errors
        [after] = await stored(db)
        assert (after.id, after.position, after.log_index, after.block_hash, after.status) == (
            before.id, 0, 0, new["blockHash"], TransferStatus.PENDING)
        assert [e.transfer_id for e in await _events(db, EventKind.TRANSFER_NEW)] == [before.id]
        assert [e.transfer_id for e in await _events(db, EventKind.TRANSFER_REINCLUDED)] == [before.id]
        assert await totals(db, wid) == {"USDT": (0, 99_000_000)}

    async def test_internal_transfer_reincluded_in_another_block_keeps_its_id(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """A contract's payment (a trace) re-included one block higher by a reorg is one transfer, reincluded."""
        forwarder = dev.deploy_forwarder()
        wallet = fresh_address(35)
        await add_wallet(db, wallet, start_height=1)
        txid = dev.forward(forwarder, dev.accounts[2], wallet, 2 * ETH)
        old = dev.receipt(txid)
        dev.mine(1)
        watcher = make_watcher(traces=True, confirmations=10)
        await watcher.poll()
        [before] = await stored(db)
        dev.reorg(2, [(dev.rpc("eth_getRawTransactionByHash", txid), 1)])
        new = dev.wait(txid)
        assert new["blockHash"] != old["blockHash"]
        report = await watcher.poll()
        assert report.ok, report.errors
        [after] = await stored(db)
        assert (after.id, after.position, after.block_hash, after.status) == (before.id, -3, new["blockHash"], TransferStatus.PENDING)
        assert [e.transfer_id for e in await _events(db, EventKind.TRANSFER_REINCLUDED)] == [before.id]


class TestPollLock:
    async def test_poll_while_another_instance_polls_the_chain_is_skipped(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """Two pollers of one chain never interleave: the second one skips while the first holds the chain."""
        from ledger.locks import chain_lock

        wallet = fresh_address(36)
        await add_wallet(db, wallet, start_height=1)
        dev.send(dev.accounts[1], wallet, ETH)
        watcher = make_watcher()
        other = Database(db.url.render_as_string(hide_password=False))
        try:
            async with chain_lock(other, "ethereum") as held:
                assert held
                report = await watcher.poll()
            assert report.skipped and report.requests == 0 and await stored(db) == []
            assert (await watcher.poll()).new == 1
        finally:
            await other.close()

    async def test_two_instances_polling_at_once_store_and_tell_everything_once(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """Two instances (their own engines) polling one chain at the same moment store each donation once and tell each change once."""
        import asyncio

        from watchers.ethereum import EvmWatcher

        wallet = fresh_address(37)
        wid = await add_wallet(db, wallet, start_height=1)
        for i in range(3):
            dev.send(dev.accounts[1], wallet, ETH + i)
        first = make_watcher(confirmations=2)
        other_db = Database(db.url.render_as_string(hide_password=False))
        second = EvmWatcher(first.config, other_db)
        try:
            for _ in range(3):
                await asyncio.gather(first.poll(), second.poll())
                dev.mine(1)
            await asyncio.gather(first.poll(), second.poll())
        finally:
            await second.close()
            await other_db.close()
        rows = await stored(db)
        assert [t.status for t in rows] == [TransferStatus.CONFIRMED] * 3
        assert sorted(e.transfer_id for e in await _events(db, EventKind.TRANSFER_NEW)) == [t.id for t in rows]
        confirmed = [e.transfer_id for e in await _events(db, EventKind.TRANSFER_CONFIRMED)]
        assert len(confirmed) == len(set(confirmed))
        assert await totals(db, wid) == {"ETH": (3 * ETH + 3, 0)}
