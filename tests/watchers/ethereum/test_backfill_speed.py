"""Backfill at the node's speed: ranges fetched ahead in order, failures cancel what is in flight, history stays history."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from ledger.database import Database
from ledger.models import Event
from tests.watchers.ethereum.conftest import WatcherFactory, add_wallet, stored
from tests.watchers.ethereum.devchain import ETH, DevChain, fresh_address
from watchers.scanned import Scanned
from watchers.errors import WatcherError


class TestScansAhead:
    async def test_ranges_are_fetched_ahead_and_written_in_order(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """Several range fetches are in flight at once, yet every donation is stored once and progress only moves forward."""
        wallet = fresh_address(700)
        await add_wallet(db, wallet)
        sent = []
        for _ in range(6):
            sent.append(dev.send(dev.accounts[1], wallet, ETH))
            dev.mine(20)
        watcher = make_watcher(blocks_per_range=10)
        scanner = watcher.scanner
        inner = scanner.source.scan
        active, most = 0, 0

        async def counting(start: int, end: int, watched: Any) -> Scanned:
            nonlocal active, most
            active += 1
            most = max(most, active)
            try:
                await asyncio.sleep(0.01)
                return await inner(start, end, watched)
            finally:
                active -= 1

        scanner.source.scan = counting  # type: ignore[method-assign]
        done: list[int] = []
        await watcher.backfill(1, progress=lambda p: done.append(p.done))
        assert most > 1
        assert done == sorted(done) and done[-1] == dev.height()
        assert sorted(t.txid for t in await stored(db)) == sorted(sent)

    async def test_a_failed_range_stops_the_backfill_and_cancels_the_rest(
        self, db: Database, dev: DevChain, make_watcher: WatcherFactory
    ) -> None:
        """When one range fails, the ranges fetched ahead are cancelled and the error reaches the caller."""
        await add_wallet(db, fresh_address(701))
        dev.mine(100)
        watcher = make_watcher(blocks_per_range=10)
        scanner = watcher.scanner
        inner = scanner.source.scan
        cancelled = 0

        async def failing(start: int, end: int, watched: Any) -> Scanned:
            nonlocal cancelled
            if start == 21:
                raise WatcherError("node gone")
            try:
                await asyncio.sleep(5 if start > 21 else 0)  # the ranges fetched ahead are still waiting
                return await inner(start, end, watched)
            except asyncio.CancelledError:
                cancelled += 1
                raise

        scanner.source.scan = failing  # type: ignore[method-assign]
        with pytest.raises(WatcherError, match="node gone"):
            await watcher.backfill(1)
        assert cancelled >= 1
        assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and "scan" in repr(t)] == []

    async def test_backfilled_transfers_are_history(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """A backfill records what it finds as history: screened, never announced one by one."""
        wallet = fresh_address(702)
        await add_wallet(db, wallet)
        dev.send(dev.accounts[1], wallet, ETH)
        await make_watcher().backfill(1)
        async with db.session() as s:
            events = (await s.execute(select(Event).where(Event.kind == "transfer.new"))).scalars().all()
        assert [e.detail.get("history") for e in events] == [True]
