"""Polite to public nodes: getLogs filters within the node's address cap, and a per-URL request rate."""

from __future__ import annotations

import time

from ledger.database import Database
from tests.fakes.rpc_proxy import RpcProxy
from tests.watchers.ethereum.conftest import FAST_RETRY, WatcherFactory, add_wallet, stored
from tests.watchers.ethereum.devchain import DevChain, fresh_address
from watchers.evm_mapping import TokenSpec
from watchers.evm_rpc import RpcClient


async def _token_donations(db: Database, dev: DevChain, wallets: int) -> tuple[str, list[str]]:
    """``wallets`` watched addresses, the last three of which get a USDC donation each."""
    usdc = dev.deploy_token("USDC", 6)
    addresses = [fresh_address(300 + i) for i in range(wallets)]
    for address in addresses:
        await add_wallet(db, address, start_height=1)
    txids = [dev.mint(usdc, address, 7_000 + i) for i, address in enumerate(addresses[-3:])]
    dev.mine(2)
    return usdc, txids


class TestLogFilterSize:
    async def test_many_watched_addresses_are_spread_over_filters_of_the_configured_size(
        self, db: Database, dev: DevChain, proxy: RpcProxy, make_watcher: WatcherFactory
    ) -> None:
        """With 25 watched addresses and max_log_addresses = 10, each getLogs lists at most 10 and none is missed."""
        usdc, txids = await _token_donations(db, dev, 25)
        watcher = make_watcher(rpc_urls=(proxy.url,), tokens=(TokenSpec("USDC", usdc, 6),), max_log_addresses=10)
        report = await watcher.poll()
        assert report.ok
        assert proxy.log_address_counts and max(proxy.log_address_counts) <= 10
        assert sorted(t.txid for t in await stored(db)) == sorted(txids)

    async def test_a_filter_the_node_calls_too_large_is_split_by_addresses(
        self, db: Database, dev: DevChain, proxy: RpcProxy, make_watcher: WatcherFactory
    ) -> None:
        """A node refusing more than 8 addresses per filter (geth's error) still yields every donation, and the size is learned."""
        usdc, txids = await _token_donations(db, dev, 20)
        proxy.logs_max_addresses = 8
        watcher = make_watcher(rpc_urls=(proxy.url,), tokens=(TokenSpec("USDC", usdc, 6),))
        report = await watcher.poll()
        assert report.ok
        assert sorted(t.txid for t in await stored(db)) == sorted(txids)
        assert watcher.source.log_addresses <= 8
        assert watcher.source.log_span is None  # the block range was never the problem


class TestRequestRate:
    async def test_requests_to_one_url_keep_to_its_rate(self, dev: DevChain, proxy: RpcProxy) -> None:
        """At 4 requests per second, 8 one-call requests after the first second's burst take about another second."""
        client = RpcClient([proxy.url], retry=FAST_RETRY, requests_per_second=4)
        try:
            started = time.monotonic()
            for _ in range(8):
                await client.call("eth_blockNumber")
            elapsed = time.monotonic() - started
        finally:
            await client.close()
        assert proxy.http_requests == 8
        assert elapsed >= 0.9  # a behaviour bound (the limiter waited), not a speed target
