"""Native ETH donations found by scanning blocks on a real anvil node."""

from __future__ import annotations

from pathlib import Path

from eth_utils import to_checksum_address

from ledger.database import Database
from ledger.models import TransferStatus
from tests.watchers.ethereum.conftest import WatcherFactory, add_wallet, cursor, senders, stored, totals
from tests.watchers.ethereum.devchain import ETH, REVERTING_CODE, DevChain, fresh_address

OFAC_ETH = Path(__file__).parents[2] / "data" / "sanctions" / "ofac_sdn_2025-11-19" / "sanctioned_addresses_ETH.txt"


class TestNativeTransfers:
    async def test_native_transfer_is_stored(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """A plain ETH payment to a watched address is stored with its amount, sender and block."""
        wallet = fresh_address(1)
        wid = await add_wallet(db, wallet, start_height=1)
        txid = dev.send(dev.accounts[1], wallet, 3 * ETH)
        block = dev.receipt(txid)
        report = await make_watcher().poll()
        assert report.ok and report.new == 1
        (t,) = await stored(db)
        assert (t.txid, t.position, t.wallet_id, t.asset, t.decimals, t.amount) == (txid, -1, wid, "ETH", 18, 3 * ETH)
        assert (t.block_height, t.block_hash) == (int(block["blockNumber"], 16), block["blockHash"])
        assert await senders(db, t.id) == [dev.accounts[1]]

    async def test_failed_transaction_is_ignored(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """A reverted transaction carrying value to a watched address is not a donation."""
        wallet = fresh_address(2)
        dev.set_code(wallet, REVERTING_CODE)
        await add_wallet(db, wallet, start_height=1)
        txid = dev.send(dev.accounts[1], wallet, ETH, gas=100_000)
        assert dev.receipt(txid)["status"] == "0x0"
        report = await make_watcher().poll()
        assert report.ok and await stored(db) == []

    async def test_transfer_between_two_watched_addresses(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """A payment from one watched address to another is stored once, as income of the receiver."""
        payer, payee = dev.accounts[2], fresh_address(3)
        await add_wallet(db, payer, start_height=1)
        payee_id = await add_wallet(db, payee, start_height=1)
        dev.send(payer, payee, 2 * ETH)
        await make_watcher().poll()
        (t,) = await stored(db)
        assert t.wallet_id == payee_id and await senders(db, t.id) == [payer]

    async def test_sanctioned_sender_is_recorded(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """A donation from a real OFAC-listed address keeps that address as its sender."""
        listed = to_checksum_address(OFAC_ETH.read_text().split()[0])
        wallet = fresh_address(4)
        await add_wallet(db, wallet, start_height=1)
        dev.impersonate(listed)
        dev.send(listed, wallet, ETH)
        await make_watcher().poll()
        (t,) = await stored(db)
        assert await senders(db, t.id) == [listed]

    async def test_unwatched_and_zero_value_payments_are_ignored(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """Payments to other addresses and zero-value calls to a watched one store nothing."""
        wallet = fresh_address(5)
        await add_wallet(db, wallet, start_height=1)
        dev.send(dev.accounts[1], fresh_address(6), ETH)
        dev.send(dev.accounts[1], wallet, 0)
        report = await make_watcher().poll()
        assert report.ok and await stored(db) == []


class TestCursorAndConfirmations:
    async def test_first_poll_starts_at_the_tip(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """Without a start height the first poll does not scan history."""
        wallet = fresh_address(7)
        await add_wallet(db, wallet)
        dev.send(dev.accounts[1], wallet, ETH)
        dev.mine(3)
        report = await make_watcher().poll()
        assert report.ok and await stored(db) == []
        assert (await cursor(db))[0] == dev.height()  # type: ignore[index]
        dev.send(dev.accounts[1], wallet, ETH)
        assert (await make_watcher().poll()).new == 1

    async def test_pending_until_confirmations(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """A donation is pending until it has the configured confirmations, then confirmed."""
        wallet = fresh_address(8)
        wid = await add_wallet(db, wallet, start_height=1)
        watcher = make_watcher(confirmations=3)
        dev.send(dev.accounts[1], wallet, ETH)
        await watcher.poll()
        assert [t.status for t in await stored(db)] == [TransferStatus.PENDING]
        assert await totals(db, wid) == {"ETH": (0, ETH)}
        dev.mine(1)
        await watcher.poll()
        assert [t.status for t in await stored(db)] == [TransferStatus.PENDING]
        dev.mine(1)
        report = await watcher.poll()
        assert report.confirmed == 1 and [t.status for t in await stored(db)] == [TransferStatus.CONFIRMED]
        assert await totals(db, wid) == {"ETH": (ETH, 0)}

    async def test_polling_again_stores_nothing_twice(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """A second poll over an unchanged chain adds nothing and keeps the cursor."""
        wallet = fresh_address(9)
        await add_wallet(db, wallet, start_height=1)
        dev.send(dev.accounts[1], wallet, ETH)
        watcher = make_watcher()
        await watcher.poll()
        before = await cursor(db)
        report = await watcher.poll()
        assert report.ok and report.new == 0 and len(await stored(db)) == 1 and await cursor(db) == before

    async def test_far_behind_poll_stops_after_its_block_budget(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """A poll far behind the tip stores a bounded number of blocks; the next polls continue from the cursor."""
        wallet = fresh_address(12)
        await add_wallet(db, wallet, start_height=1)
        dev.mine(24)
        txid = dev.send(dev.accounts[1], wallet, ETH)
        watcher = make_watcher(blocks_per_range=5, max_blocks_per_poll=10)
        heights = []
        for _ in range(3):
            assert (await watcher.poll()).ok
            heights.append((await cursor(db))[0])  # type: ignore[index]
        assert heights == [10, 20, 25]
        assert [t.txid for t in await stored(db)] == [txid]

    async def test_wrong_chain_id_is_a_clear_error(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """A node of another chain is reported with the configured and the real chain id."""
        await add_wallet(db, fresh_address(10))
        report = await make_watcher(chain_id=1).poll()
        assert not report.ok and "chain id 31337" in report.errors[0] and "chain_id is 1" in report.errors[0]
        assert await cursor(db) is None

    async def test_finalized_tag_confirms_up_to_the_finalized_block(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """With confirmations = "finalized" a donation is confirmed once the node's finalized block passes it."""
        wallet = fresh_address(11)
        await add_wallet(db, wallet, start_height=1)
        dev.send(dev.accounts[1], wallet, ETH)
        watcher = make_watcher(confirmations="finalized")
        await watcher.poll()
        assert [t.status for t in await stored(db)] == [TransferStatus.PENDING]
        dev.mine(100)
        await watcher.poll()
        assert [t.status for t in await stored(db)] == [TransferStatus.CONFIRMED]


class TestManyInOneBlock:
    async def test_many_donations_in_one_block_are_all_stored(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """Six payments in one block to watched addresses are all stored (the block's receipts come at once)."""
        wallets = [fresh_address(100 + i) for i in range(6)]
        for w in wallets:
            await add_wallet(db, w, start_height=1)
        dev.rpc("evm_setAutomine", False)
        txids = [dev.send(dev.accounts[1 + i % 3], w, ETH + i, wait=False) for i, w in enumerate(wallets)]
        dev.mine(1)
        dev.rpc("evm_setAutomine", True)
        assert len({dev.wait(t)["blockNumber"] for t in txids}) == 1
        watcher = make_watcher()
        report = await watcher.poll()
        assert report.ok and sorted(t.txid for t in await stored(db)) == sorted(txids)
        assert "eth_getBlockReceipts" not in report.errors

    async def test_node_without_block_receipts_is_asked_per_transaction(
        self, db: Database, dev: DevChain, proxy: object, make_watcher: WatcherFactory
    ) -> None:
        """A node lacking eth_getBlockReceipts still yields every donation, through per-transaction receipts."""
        from tests.fakes.rpc_proxy import RpcProxy

        assert isinstance(proxy, RpcProxy)
        proxy.missing_methods.add("eth_getBlockReceipts")
        wallets = [fresh_address(110 + i) for i in range(6)]
        for w in wallets:
            await add_wallet(db, w, start_height=1)
        dev.rpc("evm_setAutomine", False)
        txids = [dev.send(dev.accounts[1 + i % 3], w, ETH, wait=False) for i, w in enumerate(wallets)]
        dev.mine(1)
        dev.rpc("evm_setAutomine", True)
        report = await make_watcher(rpc_urls=(proxy.url,)).poll()
        assert report.ok and sorted(t.txid for t in await stored(db)) == sorted(txids)
        assert "eth_getBlockReceipts" in proxy.calls and "eth_getTransactionReceipt" in proxy.calls


class TestFirstPollPast:
    async def test_blocks_up_to_the_first_polls_tip_are_history_across_polls(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """The first poll from a start height records donations up to the tip it saw as history (counted,
        not announced), also when the catch-up takes several polls; a donation after it is news."""
        from sqlalchemy import select

        from ledger.models import Event, EventKind

        wallet = fresh_address(5)
        await add_wallet(db, wallet, start_height=1)
        dev.send(dev.accounts[1], wallet, ETH)
        dev.mine(3)
        dev.send(dev.accounts[2], wallet, 2 * ETH)  # the tip at the first poll
        watcher = make_watcher(max_blocks_per_poll=2, blocks_per_range=1)
        first = await watcher.poll()
        assert first.ok and first.new == 1  # only blocks 1..2 this time
        dev.send(dev.accounts[3], wallet, 3 * ETH)  # block 6: after the first poll
        for _ in range(2):  # blocks 3..4, then 5..6
            assert (await watcher.poll()).ok
        assert (await cursor(db))[0] == 6  # type: ignore[index]
        async with db.session() as s:
            events = (await s.execute(select(Event).where(Event.kind == EventKind.TRANSFER_NEW).order_by(Event.id))).scalars()
            said = [bool((e.detail or {}).get("history")) for e in events]
        assert said == [True, True, False]

