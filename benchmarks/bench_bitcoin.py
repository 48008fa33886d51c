"""Bitcoin watcher: requests per poll and poll wall time for 1,000 watched addresses (fake Esplora).

Targets (issue 5): a steady poll (nothing new) makes exactly one request per address; a poll
where 1% of the addresses receive a donation makes at most 1.05 x addresses + the history pages
actually new. The fake server runs on its own thread and event loop, the ledger on SQLite (or
PostgreSQL with --db URL). The rate limit is set high so the figures measure the watcher.

The first-sync case (``--case first-sync``) gives one address 10,000 past transactions and
imports its history (``donation-watch import`` and the background import run the same code) with
the rate limit set to ``--rate`` requests a second: Esplora pages the history 25 at a time, each
page after the last, so the import is one request after another. Baseline: requests / rate, the
time the rate limit alone allows; the figure is how close the import runs to it.

    python -m benchmarks bitcoin [-- --addresses 1000 --db postgresql+asyncpg://postgres@127.0.0.1/x]
    python -m benchmarks bitcoin -- --case first-sync [--history 10000 --rate 20]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from ledger.database import Database
from ledger.wallets import upsert_wallet
from tests.fakes.esplora import EsploraFake, fake_address, make_tx
from tests.fakes.threaded import ServerThread
from watchers.bitcoin import BitcoinChainConfig, BitcoinWatcher
from watchers.base import PollReport



async def _poll(watcher: BitcoinWatcher, fake: EsploraFake, label: str) -> tuple[PollReport, int, float]:
    before = fake.total_requests()
    start = time.perf_counter()
    report = await watcher.poll()
    took = time.perf_counter() - start
    served = fake.total_requests() - before
    print(f"{label:<34} requests {served:>6}  (watcher counted {report.requests:>6})  wall {took:7.2f}s  "
          f"new {report.new:>5}  confirmed {report.confirmed:>5}  errors {len(report.errors)}")
    return report, served, took


async def _bench(addresses: int, db_url: str | None, concurrency: int) -> int:
    server = ServerThread()
    fake = EsploraFake()
    url = await server.run(fake.start())
    tmp = tempfile.TemporaryDirectory()
    db = await Database.open(db_url or f"sqlite+aiosqlite:///{Path(tmp.name) / 'bench.db'}")
    watcher = BitcoinWatcher(
        BitcoinChainConfig(name="bitcoin", esplora_urls=(url,), requests_per_second=1_000_000.0, concurrency=concurrency),
        db,
    )
    status = 0
    try:
        wallets = [fake_address(100_000 + i) for i in range(addresses)]
        donor = fake_address(7)
        async with db.session() as s:
            for a in wallets:
                await upsert_wallet(s, "bitcoin", a)
        # History: two old donations per address, buried deeper than the re-check window.
        for round_ in range(2):
            for a in wallets:
                fake.add_tx(make_tx([(donor, 20_000)], [(a, 10_000 + round_), (donor, 9_000)]))
            fake.mine()
        for _ in range(12):
            fake.mine([])
        print(f"{addresses} watched addresses, 2 old donations each; concurrency {concurrency}; ledger {db.dialect}")
        await _poll(watcher, fake, "first sync")
        _, steady, steady_time = await _poll(watcher, fake, "steady (nothing new)")
        # 1% of the addresses receive a donation in the mempool, then it is mined.
        lucky = wallets[:: max(1, addresses // max(1, addresses // 100))][: max(1, addresses // 100)]
        for a in lucky:
            fake.add_tx(make_tx([(donor, 70_000)], [(a, 50_000), (donor, 9_000)]))
        _, mempool_poll, mempool_time = await _poll(watcher, fake, "1% new in the mempool")
        fake.mine()
        _, mined_poll, mined_time = await _poll(watcher, fake, "1% of them mined")
        _, steady2, _ = await _poll(watcher, fake, "steady again (1% pending in block)")

        # History pages actually new: one per address with new confirmed transactions.
        pages_new = len(lucky)
        bound = 1.05 * addresses
        print()
        print(f"steady poll: {steady} requests for {addresses} addresses = {steady / addresses:.3f} per address "
              f"(target exactly 1.000); wall {steady_time:.2f}s = {1000 * steady_time / addresses:.2f} ms per address")
        print(f"1% new (mempool): {mempool_poll} requests; target <= {bound:.0f}; ratio to addresses {mempool_poll / addresses:.3f}; "
              f"wall {mempool_time:.2f}s")
        print(f"1% new (mined):   {mined_poll} requests; target <= {bound:.0f} + {pages_new} new pages = {bound + pages_new:.0f}; "
              f"ratio {mined_poll / addresses:.3f}; wall {mined_time:.2f}s")
        print(f"steady with {len(lucky)} donations pending in a block: {steady2} requests "
              f"(addresses + tip + block hash re-checks)")
        if steady != addresses:
            print("FAIL: the steady poll is not exactly one request per address")
            status = 1
        if mempool_poll > bound or mined_poll > bound + pages_new:
            print("FAIL: a 1% poll is over its request budget")
            status = 1
    finally:
        await watcher.close()
        await db.close()
        await server.run(fake.stop())
        server.close()
        tmp.cleanup()
    return status


async def _first_sync(history: int, rate: float, db_url: str | None) -> int:
    """One wallet with ``history`` past transactions imported at ``rate`` requests a second."""
    from ledger.history_import import plan_import
    from watchers.bitcoin_history import BitcoinHistory
    from watchers.evm_history import ImportProgress

    server = ServerThread()
    fake = EsploraFake()
    url = await server.run(fake.start())
    tmp = tempfile.TemporaryDirectory()
    db = await Database.open(db_url or f"sqlite+aiosqlite:///{Path(tmp.name) / 'bench.db'}")
    watcher = BitcoinWatcher(BitcoinChainConfig(name="bitcoin", esplora_urls=(url,), requests_per_second=rate), db)
    status = 0
    try:
        wallet, donor = fake_address(1), fake_address(7)
        started = time.perf_counter()
        for block in range(history // 100 + 1):
            for i in range(min(100, history - block * 100)):
                fake.add_tx(make_tx([(donor, 100_000 + block)], [(wallet, 1_000 + block * 100 + i), (donor, 9_000)]))
            fake.mine()
        for _ in range(12):
            fake.mine([])
        async with db.session() as s:
            row, _ = await upsert_wallet(s, "bitcoin", wallet)
            await plan_import(s, row, force=True, unit="transactions")
            wallet_id = row.id
        assert wallet_id is not None
        print(f"first sync: one address with {history} past transactions ({time.perf_counter() - started:.1f}s to script); "
              f"rate limit {rate:g} requests/s; ledger {db.dialect}")
        steps: list[tuple[float, int]] = []

        def progress(p: ImportProgress) -> None:
            steps.append((time.perf_counter(), p.done))

        importer = BitcoinHistory(db, watcher.client, "bitcoin")
        before = fake.total_requests()
        start = time.perf_counter()
        outcome = await importer.run(wallet_id, progress=progress)
        took = time.perf_counter() - start
        served = fake.total_requests() - before
        ideal = served / rate
        print(f"first sync: {served} requests, {took:.2f}s; the rate limit allows {ideal:.2f}s ({served} / {rate:g}); "
              f"{took / ideal:.2f}x the ideal, {served / took:.1f} requests/s of {rate:g}; "
              f"{outcome.stored} transfers stored, {len(steps)} progress steps")
        if outcome.stored != history or not outcome.finished:
            print(f"FAIL: stored {outcome.stored} of {history} (finished: {outcome.finished})")
            status = 1
    finally:
        await watcher.close()
        await db.close()
        await server.run(fake.stop())
        server.close()
        tmp.cleanup()
    return status


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_bitcoin")
    parser.add_argument("--case", choices=("poll", "first-sync", "both"), default="both",
                        help="poll: 1,000 addresses polled; first-sync: one address's long history imported at the rate limit")
    parser.add_argument("--addresses", type=int, default=1_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--history", type=int, default=10_000, help="past transactions of the first-sync address")
    parser.add_argument("--rate", type=float, default=20.0, help="the first sync's rate limit, requests per second")
    parser.add_argument("--db", default=None, help="ledger URL (default: a temporary SQLite file)")
    args = parser.parse_args(argv)
    status = 0
    if args.case in ("poll", "both"):
        status |= asyncio.run(_bench(args.addresses, args.db, args.concurrency))
    if args.case in ("first-sync", "both"):
        status |= asyncio.run(_first_sync(args.history, args.rate, args.db))
    return status
