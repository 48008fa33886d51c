"""Fiat valuation: value 10,000 stored donations spread over 3 years (fake Coinbase/Kraken server).

Figures: price requests made against the minimum number of 300-candle pages that cover the
donations' distinct hours (per asset, computed here independently; target within 5%), and wall
time against a baseline measured in the same run: fetching exactly those minimum pages with a
bare aiohttp client at the same rate limit, with no ledger at all. A second run over the same
ledger (everything cached) must make no request. The fake runs on its own thread and event loop.

    python -m benchmarks valuation [-- --donations 10000 --years 3 --rps 10 --db postgresql+asyncpg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Coroutine
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from aiolimiter import AsyncLimiter

from ledger.database import Database
from ledger.models import TransferStatus
from ledger.wallets import upsert_wallet
from ledger.writes import TransferIn, record_transfers
from tests.fakes.prices import PriceFake
from valuation.coinbase import CoinbaseSource
from valuation.kraken import KrakenSource
from valuation.markets import ValuationConfig
from valuation.totals import fiat_totals
from valuation.valuer import value_pending

T = TypeVar("T")
NOW = datetime(2025, 6, 1, 12, 30, tzinfo=timezone.utc)
H = 3600
PAGE = 300
# asset, decimals, share of donations
ASSETS = (("BTC", 8, 0.40), ("ETH", 18, 0.30), ("USDT", 6, 0.15), ("USDC", 6, 0.10), ("DAI", 18, 0.05))


class _ServerThread:
    """The fake price server on its own event loop, so its work does not count as ours."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.fake = PriceFake(NOW)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def stop(self) -> None:
        self.run(self.fake.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def minimum_pages(hours: list[int]) -> list[int]:
    """Starts of the fewest 300-hour windows covering every hour (left to right, each window opened
    at the first hour not yet covered: optimal for points on a line)."""
    starts: list[int] = []
    for h in sorted(set(hours)):
        if not starts or h >= starts[-1] + PAGE * H:
            starts.append(h)
    return starts


async def _seed(db: Database, donations: int, years: float, rng: random.Random) -> dict[str, list[int]]:
    span = int(years * 365 * 86400)
    hours: dict[str, list[int]] = defaultdict(list)
    async with db.session() as s:
        btc, _ = await upsert_wallet(s, "bitcoin", "357a3So9CbsNfBBgFYACGvxxS6tMaDoa1P")
        eth, _ = await upsert_wallet(s, "ethereum", "0x165CD37b4C644C2921454429E7F9358d18A45e14")
    items = []
    for i in range(donations):
        asset, decimals, _ = rng.choices(ASSETS, weights=[a[2] for a in ASSETS])[0]
        at = NOW - timedelta(seconds=rng.randrange(2 * H, span))
        ts = int(at.timestamp())
        hours[asset].append(ts - ts % H)
        chain, wallet = ("bitcoin", btc.id) if asset == "BTC" else ("ethereum", eth.id)
        items.append(TransferIn(chain=chain, txid=f"{i:064x}", position=0, wallet_id=wallet, asset=asset, decimals=decimals,
                                amount=rng.randrange(1, 10**decimals * 5), block_height=i, block_hash=f"{i:064x}",
                                block_time=at, status=TransferStatus.CONFIRMED))
    for start in range(0, len(items), 2000):
        async with db.session() as s:
            await record_transfers(s, items[start : start + 2000], now=NOW)
    return hours


async def _baseline(url: str, pages: dict[str, list[int]], rps: float) -> tuple[int, float]:
    """Fetch exactly the minimum pages, bare: one GET each at the same rate limit, body read, nothing stored."""
    limiter = AsyncLimiter(rps, 1.0)
    count = 0
    start = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        for asset, starts in pages.items():
            for p in starts:
                params = {"granularity": str(H), "start": _iso(p), "end": _iso(p + (PAGE - 1) * H)}
                async with limiter:
                    async with session.get(f"{url}/products/{asset}-USD/candles", params=params) as resp:
                        await resp.read()
                        count += 1
    return count, time.perf_counter() - start


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


async def _bench(donations: int, years: float, rps: float, db_url: str | None) -> int:
    server = _ServerThread()
    fake = server.fake
    url = server.run(fake.start())
    tmp = tempfile.TemporaryDirectory()
    db = await Database.open(db_url or f"sqlite+aiosqlite:///{Path(tmp.name) / 'bench.db'}")
    sources = [CoinbaseSource(url, requests_per_second=rps), KrakenSource(url + "/0", requests_per_second=rps)]
    status = 0
    try:
        t0 = time.perf_counter()
        hours = await _seed(db, donations, years, random.Random(11))
        print(f"{donations} donations over {years:g} years in {len(hours)} assets stored in {time.perf_counter() - t0:.1f}s "
              f"(ledger {db.dialect}); rate limit {rps:g} requests/s")
        pages = {asset: minimum_pages(h) for asset, h in sorted(hours.items())}
        minimum = sum(len(p) for p in pages.values())
        distinct = sum(len(set(h)) for h in hours.values())

        base_requests, base_wall = await _baseline(url, pages, rps)
        fake.requests.clear()

        start = time.perf_counter()
        report = await value_pending(db, sources, ValuationConfig(), now=NOW)
        wall = time.perf_counter() - start
        served = fake.total_requests()

        start = time.perf_counter()
        again = await value_pending(db, sources, ValuationConfig(), now=NOW)
        again_wall = time.perf_counter() - start

        start = time.perf_counter()
        async with db.session() as session:
            totals = await fiat_totals(session, "USD")
        totals_wall = time.perf_counter() - start

        print(f"distinct donation hours: {distinct}; minimum 300-candle pages covering them: {minimum} "
              f"({', '.join(f'{a} {len(p)}' for a, p in pages.items())})")
        print(f"baseline (the minimum pages, bare GETs, no ledger): {base_requests} requests, wall {base_wall:.2f}s")
        print(f"value_pending:  valued {report.valued}, unvalued {report.unvalued}; requests {served} "
              f"(source count {report.requests}) = {served / minimum:.3f} x minimum (target <= 1.05); "
              f"wall {wall:.2f}s = {wall / base_wall:.2f} x baseline; {1000 * wall / max(1, report.valued):.2f} ms per donation")
        print(f"second run (all cached): requests {again.requests}, valued {again.valued}, wall {again_wall:.2f}s")
        print(f"fiat_totals over {totals.valued_count} valued donations: {1000 * totals_wall:.0f} ms "
              f"(unvalued {totals.unvalued_count})")
        if report.unvalued or report.valued != donations:
            print("FAIL: not every donation was valued")
            status = 1
        if served > 1.05 * minimum:
            print("FAIL: requests are more than 5% above the minimum")
            status = 1
        if again.requests:
            print("FAIL: the cached run made requests")
            status = 1
    finally:
        for s in sources:
            await s.close()
        await db.close()
        server.stop()
        tmp.cleanup()
    return status


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_valuation")
    parser.add_argument("--donations", type=int, default=10_000)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--rps", type=float, default=10.0, help="request-rate limit (Coinbase's public limit is about 10/s)")
    parser.add_argument("--db", default=None, help="ledger URL (default: a temporary SQLite file)")
    args = parser.parse_args(argv)
    return asyncio.run(_bench(args.donations, args.years, args.rps, args.db))
