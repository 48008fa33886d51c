"""What a poll asks the node: a fixed number of requests, whatever the number of watched addresses."""

from __future__ import annotations

from ledger.database import Database
from ledger.models import TransferStatus
from tests.fakes.rpc_proxy import RpcProxy
from tests.watchers.ethereum.conftest import WatcherFactory, add_wallet, stored
from tests.watchers.ethereum.devchain import ETH, DevChain, fresh_address
from watchers.evm_mapping import TokenSpec


class TestRequestBudget:
    async def test_cost_does_not_grow_with_watched_addresses(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """Scanning the same blocks for 1 or 300 watched addresses takes the same number of requests."""
        usdc = dev.deploy_token("USDC", 6)
        first = fresh_address(200)
        await add_wallet(db, first, start_height=1, chain="one")
        dev.send(dev.accounts[1], first, ETH)
        dev.mine(30)
        one = await make_watcher(tokens=(TokenSpec("USDC", usdc, 6),), name="one").poll()
        for i in range(300):
            await add_wallet(db, fresh_address(201 + i), start_height=1, chain="many")
        await add_wallet(db, first, start_height=1, chain="many")
        many = await make_watcher(tokens=(TokenSpec("USDC", usdc, 6),), name="many").poll()
        assert one.ok and many.ok and one.new == many.new == 1
        assert many.requests == one.requests

    async def test_following_the_tip_takes_one_request_per_quiet_block(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """Once synced, a poll over one new block costs one request, and one more when it holds a payment."""
        wallet = fresh_address(210)
        await add_wallet(db, wallet)
        watcher = make_watcher()
        await watcher.poll()
        dev.mine(1)
        quiet = await watcher.poll()
        dev.send(dev.accounts[1], wallet, ETH)
        busy = await watcher.poll()
        nothing = await watcher.poll()
        assert (quiet.requests, busy.requests, nothing.requests) == (1, 2, 1)
        assert busy.new == 1


class TestFinalizedFallback:
    async def test_node_without_finalized_tag_counts_twelve_blocks(
        self, db: Database, dev: DevChain, proxy: RpcProxy, make_watcher: WatcherFactory
    ) -> None:
        """When the node has no finalized block, a donation is confirmed after 12 confirmations instead."""
        proxy.no_finalized = True
        wallet = fresh_address(220)
        await add_wallet(db, wallet, start_height=1)
        dev.send(dev.accounts[1], wallet, ETH)
        watcher = make_watcher(rpc_urls=(proxy.url,), confirmations="finalized")
        assert (await watcher.poll()).ok
        dev.mine(10)
        await watcher.poll()
        assert [t.status for t in await stored(db)] == [TransferStatus.PENDING]
        dev.mine(1)
        await watcher.poll()
        assert [t.status for t in await stored(db)] == [TransferStatus.CONFIRMED]
