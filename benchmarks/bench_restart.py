"""What a restart costs the Bitcoin watcher as history grows: the first poll after a start.

A ledger holding 1,000, 10,000 and 100,000 old (deep) transfers, and 100 watched addresses on
the test suite's Esplora server (on its own thread), each with one deep donation. A first watcher
syncs; then a fresh one (as after a restart, no tip seen yet) makes its first poll. Printed side by
side, on SQLite and PostgreSQL: rows the reorg re-check reads, HTTP requests, and the poll's wall
time. The 1,000-transfer ledger is the baseline of the same run: the figures must stay flat.

    python -m benchmarks restart -- [--sizes 1000,10000,100000] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks.bench_ledger import PG_ADMIN, _pg_admin
from ledger.database import Database
from ledger.models import TransferStatus
from ledger.wallets import retire_wallet, upsert_wallet
from ledger.writes import TransferIn, record_transfers
from tests.fakes.esplora import EsploraFake, fake_address, make_tx
from tests.fakes.threaded import ServerThread
import watchers.bitcoin_reorg as reorg
from watchers.bitcoin import BitcoinChainConfig, BitcoinWatcher

ADDRESSES = 100
DEEP_HEIGHTS = 15  # the old transfers spread over heights 1..15; the chain is mined to 40


async def _seed_history(db: Database, count: int) -> None:
    """``count`` confirmed transfers of a retired wallet in deep blocks (a long-running fund's past)."""
    old = fake_address(999_999)
    async with db.session() as s:
        wallet, _ = await upsert_wallet(s, "bitcoin", old, label="past")
        assert wallet.id is not None
        wallet_id = wallet.id
    for start in range(0, count, 10_000):
        items = [
            TransferIn(chain="bitcoin", txid=f"{i:064x}", position=0, wallet_id=wallet_id, asset="BTC", decimals=8,
                       amount=10_000 + i, block_height=1 + i % DEEP_HEIGHTS, block_hash=f"{1 + i % DEEP_HEIGHTS:064x}",
                       status=TransferStatus.CONFIRMED)
            for i in range(start, min(count, start + 10_000))
        ]
        async with db.session() as s:
            await record_transfers(s, items)
    async with db.session() as s:
        await retire_wallet(s, "bitcoin", old)


async def _one(url: str, count: int, fake: EsploraFake, fake_url: str) -> tuple[int, int, float]:
    db = await Database.open(url)
    config = BitcoinChainConfig(name="bitcoin", esplora_urls=(fake_url,), requests_per_second=1_000_000.0)
    try:
        async with db.session() as s:
            for i in range(ADDRESSES):
                await upsert_wallet(s, "bitcoin", fake_address(700_000 + i))
        await _seed_history(db, count)
        first = BitcoinWatcher(config, db)
        await first.poll()
        await first.close()
        # The restart: the process ends (its last SQLite connection folds the write-ahead log back
        # into the file) and a new one opens the ledger; PostgreSQL has had its statistics updated.
        if db.dialect == "postgresql":
            async with db.engine.connect() as conn:
                await conn.exec_driver_sql("ANALYZE")
        await db.close()
        db = await Database.open(url)
        read: list[int] = []
        original = reorg.recent_candidates

        async def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
            rows = await original(*args, **kwargs)
            read.append(len(rows))
            return rows

        reorg.recent_candidates = counting
        restarted = BitcoinWatcher(config, db)
        try:
            before = fake.total_requests()
            started = time.perf_counter()
            report = await restarted.poll()
            took = time.perf_counter() - started
            assert report.ok, report.errors
        finally:
            reorg.recent_candidates = original
            await restarted.close()
        return sum(read), fake.total_requests() - before, took
    finally:
        await db.close()


async def _bench(sizes: list[int], only: str | None) -> int:
    server = ServerThread()
    fake = EsploraFake()
    fake_url = await server.run(fake.start())
    for i in range(ADDRESSES):
        fake.add_tx(make_tx([(fake_address(7), 20_000)], [(fake_address(700_000 + i), 10_000)]))
    fake.mine()
    for _ in range(39):
        fake.mine([])
    status = 0
    try:
        for dialect in ("sqlite", "postgresql"):
            if only not in (None, dialect):
                continue
            print(f"[{dialect}] stored transfers | rows re-checked | requests | first poll after a restart")
            results = []
            for count in sizes:
                name = f"dw_bench_restart_{uuid.uuid4().hex[:8]}"
                tmp = tempfile.TemporaryDirectory()
                if dialect == "sqlite":
                    url = f"sqlite+aiosqlite:///{Path(tmp.name) / 'ledger.db'}"
                else:
                    try:
                        await _pg_admin(f'CREATE DATABASE "{name}"')
                    except Exception as exc:  # noqa: BLE001 - no server: say so and go on
                        print(f"[postgresql] skipped: cannot reach {PG_ADMIN} ({exc})")
                        break
                    url = f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
                try:
                    rows, requests, took = await _one(url, count, fake, fake_url)
                finally:
                    tmp.cleanup()
                    if dialect == "postgresql":
                        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                results.append((count, rows, requests, took))
                print(f"[{dialect}] {count:>16,} | {rows:>15,} | {requests:>8,} | {took * 1000:8.1f} ms", flush=True)
            if len(results) > 1:
                base, last = results[0], results[-1]
                print(f"[{dialect}] {last[0] // base[0]}x the history: rows x{last[1] / max(1, base[1]):.2f}, "
                      f"requests x{last[2] / max(1, base[2]):.2f}, time x{last[3] / base[3]:.2f}")
                if last[1] != base[1] or last[2] != base[2]:
                    print(f"[{dialect}] FAIL: the first poll's rows or requests grow with history")
                    status = 1
    finally:
        await server.run(fake.stop())
        server.close()
    return status


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_restart")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args(argv)
    return asyncio.run(_bench([int(x) for x in args.sizes.split(",")], args.only))
