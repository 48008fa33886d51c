"""No silent gaps: blocks stored while the node gives no traces are recorded, reported, and checked later."""

from __future__ import annotations

from sqlalchemy import select

from ledger.database import Database
from ledger.models import Event, EventKind
from ledger.scan_gaps import ScanGap, forget_above, open_gaps, record_gap
from tests.fakes.rpc_proxy import RpcProxy
from tests.watchers.ethereum.conftest import WatcherFactory, add_wallet, stored
from tests.watchers.ethereum.devchain import ETH, DevChain, fresh_address


async def _events(db: Database, kind: EventKind) -> list[Event]:
    async with db.session() as s:
        return list((await s.execute(select(Event).where(Event.kind == str(kind)).order_by(Event.id))).scalars())


async def _gaps(db: Database) -> list[tuple[str, int, int]]:
    async with db.session() as s:
        return [(g.kind, g.from_height, g.to_height) for g in await open_gaps(s, "ethereum")]


class TestTraceGaps:
    async def test_blocks_scanned_without_traces_are_recorded_and_reported_once(
        self, db: Database, dev: DevChain, proxy: RpcProxy, make_watcher: WatcherFactory
    ) -> None:
        """A node without trace_filter: the range is kept as a gap, one chain.degraded event, later polls extend the same gap."""
        forwarder = dev.deploy_forwarder()
        wallet = fresh_address(80)
        await add_wallet(db, wallet, start_height=1)
        dev.forward(forwarder, dev.accounts[2], wallet, ETH)
        proxy.missing_methods.add("trace_filter")
        watcher = make_watcher(rpc_urls=(proxy.url,), traces=True, trace_retry_seconds=0)
        assert (await watcher.poll()).ok
        tip = int(dev.node.rpc("eth_blockNumber"), 16)
        assert await stored(db) == []
        assert await _gaps(db) == [("traces", 1, tip)]
        dev.mine(2)
        assert (await watcher.poll()).ok
        assert await _gaps(db) == [("traces", 1, tip + 2)]
        (degraded,) = await _events(db, EventKind.CHAIN_DEGRADED)
        assert degraded.chain == "ethereum" and degraded.detail["missing"] == "traces"
        assert "trace_filter" in degraded.detail["reason"]

    async def test_the_gap_is_filled_when_the_node_answers_traces_again(
        self, db: Database, dev: DevChain, proxy: RpcProxy, make_watcher: WatcherFactory
    ) -> None:
        """Once trace_filter answers, the contract's payment in the gap is stored, the gap closed, chain.restored said."""
        forwarder = dev.deploy_forwarder()
        wallet = fresh_address(81)
        await add_wallet(db, wallet, start_height=1)
        txid = dev.forward(forwarder, dev.accounts[2], wallet, 3 * ETH)
        proxy.missing_methods.add("trace_filter")
        watcher = make_watcher(rpc_urls=(proxy.url,), traces=True, trace_retry_seconds=0)
        await watcher.poll()
        assert await stored(db) == []
        proxy.missing_methods.discard("trace_filter")
        dev.mine(1)
        report = await watcher.poll()
        assert report.ok
        (t,) = await stored(db)
        assert (t.txid, t.amount) == (txid, 3 * ETH) and t.block_height is not None
        assert await _gaps(db) == []
        (restored,) = await _events(db, EventKind.CHAIN_RESTORED)
        assert restored.detail["missing"] == "traces"

    async def test_a_node_still_without_traces_is_asked_again_only_after_the_retry_time(
        self, db: Database, dev: DevChain, proxy: RpcProxy, make_watcher: WatcherFactory
    ) -> None:
        """With the default retry time, a second poll does not ask trace_filter again, yet still records its blocks."""
        await add_wallet(db, fresh_address(82), start_height=1)
        proxy.missing_methods.add("trace_filter")
        watcher = make_watcher(rpc_urls=(proxy.url,), traces=True)
        await watcher.poll()
        dev.mine(3)
        await watcher.poll()
        assert proxy.calls.count("trace_filter") == 1
        assert await _gaps(db) == [("traces", 1, int(dev.node.rpc("eth_blockNumber"), 16))]


class TestGapRecords:
    async def test_a_reorg_forgets_the_gap_above_the_common_ancestor(self, db: Database) -> None:
        """Blocks above a rewind are scanned again whole: their part of a gap is dropped, the rest kept."""
        async with db.session() as s:
            await record_gap(s, "ethereum", "traces", 10, 20, "no trace_filter")
            await record_gap(s, "ethereum", "traces", 30, 40, "no trace_filter")
            await forget_above(s, "ethereum", 15)
        assert await _gaps(db) == [("traces", 10, 15)]

    async def test_only_the_first_gap_of_a_streak_says_degraded(self, db: Database) -> None:
        """record_gap answers True for the chain's first open gap only, and joins a range to the one it continues."""
        async with db.session() as s:
            assert await record_gap(s, "ethereum", "traces", 1, 5, "x") is True
            assert await record_gap(s, "ethereum", "traces", 6, 9, "x") is False
            rows = (await s.execute(select(ScanGap))).scalars().all()
        assert [(r.from_height, r.to_height) for r in rows] == [(1, 9)]
