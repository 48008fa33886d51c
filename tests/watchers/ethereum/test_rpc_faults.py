"""Faulty RPC providers, played by a proxy in front of anvil: retries, failover, refused ranges, bad bodies."""

from __future__ import annotations

import logging

import pytest

from ledger.database import Database
from tests.fakes.anvil import free_port
from tests.fakes.rpc_proxy import RpcProxy
from tests.watchers.ethereum.conftest import WatcherFactory, add_wallet, cursor, stored
from tests.watchers.ethereum.devchain import ETH, DevChain, fresh_address
from watchers.evm_mapping import TokenSpec


async def _one_donation(db: Database, dev: DevChain, n: int) -> str:
    wallet = fresh_address(n)
    await add_wallet(db, wallet, start_height=1)
    return dev.send(dev.accounts[1], wallet, ETH)


class TestRetries:
    @pytest.mark.parametrize("transport", ["web3", "aiohttp"])
    @pytest.mark.parametrize("fault", ["429", "500", "rate-limit-json"])
    async def test_transient_http_errors_are_retried(
        self, db: Database, dev: DevChain, proxy: RpcProxy, make_watcher: WatcherFactory, fault: str, transport: str
    ) -> None:
        """A 429, a 500 or a rate-limit error inside a 200 answer is retried with backoff, on either transport; the donation is stored."""
        txid = await _one_donation(db, dev, 40)
        proxy.fail_next(fault, times=2)
        report = await make_watcher(rpc_urls=(proxy.url,), transport=transport).poll()
        assert report.ok and [t.txid for t in await stored(db)] == [txid]
        assert not proxy.faults

    async def test_stalled_request_times_out_and_is_retried(
        self, db: Database, dev: DevChain, proxy: RpcProxy, make_watcher: WatcherFactory
    ) -> None:
        """A request the provider never answers times out and is retried."""
        txid = await _one_donation(db, dev, 41)
        proxy.stall_seconds = 2.0
        proxy.fail_next("stall")
        report = await make_watcher(rpc_urls=(proxy.url,), timeout_seconds=0.3).poll()
        assert report.ok and [t.txid for t in await stored(db)] == [txid]

    @pytest.mark.parametrize("transport", ["web3", "aiohttp"])
    async def test_persistent_failure_fails_the_poll_and_keeps_the_cursor(
        self, db: Database, dev: DevChain, proxy: RpcProxy, make_watcher: WatcherFactory, transport: str
    ) -> None:
        """When every retry fails the poll reports it, stores nothing, and the next poll catches up once."""
        txid = await _one_donation(db, dev, 42)
        watcher = make_watcher(rpc_urls=(proxy.url,), transport=transport)
        proxy.always = "500"
        report = await watcher.poll()
        assert not report.ok and "HTTP 500" in report.errors[0]
        assert await stored(db) == [] and await cursor(db) is None
        proxy.always = None
        assert (await watcher.poll()).ok and [t.txid for t in await stored(db)] == [txid]
        assert (await watcher.poll()).new == 0


class TestBadBodies:
    @pytest.mark.parametrize("transport", ["web3", "aiohttp"])
    @pytest.mark.parametrize("fault", ["truncated", "garbage"])
    async def test_unreadable_answer_fails_only_that_poll(
        self, db: Database, dev: DevChain, proxy: RpcProxy, make_watcher: WatcherFactory, fault: str, transport: str
    ) -> None:
        """Truncated JSON or an HTML page fails the poll as malformed without moving the cursor, on either transport."""
        txid = await _one_donation(db, dev, 43)
        watcher = make_watcher(rpc_urls=(proxy.url,), transport=transport)
        assert (await watcher.poll()).ok
        before = await cursor(db)
        second = await _one_donation(db, dev, 44)
        proxy.always = fault
        report = await watcher.poll()
        assert not report.ok and "malformed response" in report.errors[0]
        assert await cursor(db) == before
        proxy.always = None
        assert (await watcher.poll()).ok
        assert sorted(t.txid for t in await stored(db)) == sorted([txid, second])


class TestFailover:
    @pytest.mark.parametrize("transport", ["web3", "aiohttp"])
    async def test_dead_first_url_fails_over_to_the_next(
        self, db: Database, dev: DevChain, make_watcher: WatcherFactory, transport: str
    ) -> None:
        """With the first RPC URL refusing connections the second one serves the poll, on either transport."""
        txid = await _one_donation(db, dev, 45)
        dead = f"http://127.0.0.1:{free_port()}/"
        report = await make_watcher(rpc_urls=(dead, dev.url), transport=transport).poll()
        assert report.ok and [t.txid for t in await stored(db)] == [txid]

    async def test_failing_first_url_fails_over_in_order(
        self, db: Database, dev: DevChain, proxy: RpcProxy, make_watcher: WatcherFactory
    ) -> None:
        """A first provider that keeps answering 429 is passed over for the next one."""
        txid = await _one_donation(db, dev, 46)
        proxy.always = "429"
        report = await make_watcher(rpc_urls=(proxy.url, dev.url)).poll()
        assert report.ok and [t.txid for t in await stored(db)] == [txid]


class TestRefusedBatches:
    async def test_batch_limit_is_learned_and_respected(
        self, db: Database, dev: DevChain, proxy: RpcProxy, make_watcher: WatcherFactory
    ) -> None:
        """A provider refusing batches over 8 calls gets smaller batches, and every donation is still found."""
        wallet = fresh_address(50)
        await add_wallet(db, wallet, start_height=1)
        txids = []
        for _ in range(3):
            txids.append(dev.send(dev.accounts[1], wallet, ETH))
            dev.mine(10)
        proxy.max_batch = 8
        watcher = make_watcher(rpc_urls=(proxy.url,))
        report = await watcher.poll()
        assert report.ok and sorted(t.txid for t in await stored(db)) == sorted(txids)
        assert watcher.rpc.max_batch <= 8


class TestRefusedRanges:
    async def test_rate_limit_on_get_logs_is_not_mistaken_for_a_large_range(
        self, db: Database, dev: DevChain, proxy: RpcProxy, make_watcher: WatcherFactory
    ) -> None:
        """Infura's -32005 "request rate limited" is retried as-is, not answered by splitting the range."""
        usdc = dev.deploy_token("USDC", 6)
        wallet = fresh_address(49)
        await add_wallet(db, wallet, start_height=1)
        txid = dev.mint(usdc, wallet, 5)
        dev.mine(10)
        proxy.fail_next("ok")  # the head request; the next one carries the blocks and getLogs
        proxy.fail_next("rate-limit-json")
        watcher = make_watcher(rpc_urls=(proxy.url,), tokens=(TokenSpec("USDC", usdc, 6),))
        report = await watcher.poll()
        assert report.ok and [t.txid for t in await stored(db)] == [txid]
        assert watcher.source.log_span is None and proxy.calls.count("eth_getLogs") == 2

    async def test_get_logs_range_is_split_when_the_node_refuses_it(
        self, db: Database, dev: DevChain, proxy: RpcProxy, make_watcher: WatcherFactory
    ) -> None:
        """A node refusing getLogs over more than 4 blocks (-32005) still yields every token donation."""
        usdc = dev.deploy_token("USDC", 6)
        wallet = fresh_address(47)
        await add_wallet(db, wallet, start_height=1)
        txids = []
        for i in range(6):
            txids.append(dev.mint(usdc, wallet, 1_000 + i))
            dev.mine(2)
        proxy.logs_max_blocks = 4
        report = await make_watcher(rpc_urls=(proxy.url,), tokens=(TokenSpec("USDC", usdc, 6),)).poll()
        assert report.ok and proxy.refused_log_ranges
        assert sorted(t.txid for t in await stored(db)) == sorted(txids)

    async def test_node_without_trace_filter_gets_a_warning_not_a_crash(
        self, db: Database, dev: DevChain, proxy: RpcProxy, make_watcher: WatcherFactory, caplog: pytest.LogCaptureFixture
    ) -> None:
        """With traces on and no trace_filter on the node, the poll warns once and stores the rest."""
        txid = await _one_donation(db, dev, 48)
        proxy.missing_methods.add("trace_filter")
        watcher = make_watcher(rpc_urls=(proxy.url,), traces=True)
        with caplog.at_level(logging.WARNING):
            report = await watcher.poll()
        assert report.ok and [t.txid for t in await stored(db)] == [txid]
        assert "trace_filter" in caplog.text
        dev.mine(1)
        await watcher.poll()
        assert proxy.calls.count("trace_filter") == 1
