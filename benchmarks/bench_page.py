"""Public page benchmark: `/` and `/api/v1/totals` at 1,000,000 transfers on PostgreSQL, a bounded load
test while a watcher keeps writing, and the export of every row in bounded memory.

Seeds N transfers (default 1,000,000) through the ledger's own write path (bench_ledger's seeding)
into 4 wallets (a fund's real shape: a few addresses) with a value at arrival for 9 in 10 of them.
The page is served by a separate process (as `run` serves it) that also writes a batch of 20 new
transfers every second through `record_transfers`, like a polling watcher. Then, from this process:

- median of 50 sequential GETs of `/`, `/api/v1/totals`, `/api/v1/donations` and, as the baseline
  in the same run, `/static/style.css` (a file: the server's floor); targets `/` and totals < 50 ms;
- a load test on loopback: 200 concurrent clients, 4,000 requests in all (a mix of `/`, totals and
  donation pages), p50/p99 latency, with and without the 2 s micro-cache, from an aiohttp client in
  this process and from ApacheBench (`ab`, C; installed by `make bench`), each beside the same crowd
  on a static file; target p99 < 200 ms;
- `donation-watch export --format csv` of all rows as a process: wall time, rows/s and peak RSS,
  beside the same command exporting no rows (baseline: what the process needs before any row) and
  a 10% export; target: the 100% export's peak within 50 MB of the baseline's (constant memory).

    python -m benchmarks page                          # 1,000,000 transfers
    python -m benchmarks page -- --transfers 100000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import aiohttp
from sqlalchemy import func, insert, select

from benchmarks.bench_ledger import CHUNK, PG_ADMIN, T0, _pg_admin, _seed, _transfers
from ledger.database import Database
from ledger.models import Transfer, Wallet
from ledger.valuation_tables import TransferValue

ROOT = Path(__file__).resolve().parents[1]
WALLETS = [("bitcoin", "357a3So9CbsNfBBgFYACGvxxS6tMaDoa1P", "Fund BTC"), ("bitcoin", "bc1qm34lsc65zpw79lxes69zkqmk6ee3ewf0j77s3h", "Fund BTC 2"),
           ("ethereum", "0x165CD37b4C644C2921454429E7F9358d18A45e14", "Fund ETH"), ("ethereum", "0xdAC17F958D2ee523a2206206994597C13D831ec7", "Fund ETH 2")]
MEMORY_BOUND_MB = 50.0


def _config(url: str, port: int, tmp: Path, cache_seconds: float) -> Path:
    path = tmp / f"bench-{cache_seconds}.toml"
    path.write_text(f"""
[database]
url = "{url}"
[http]
port = {port}
[chains.bitcoin]
kind = "bitcoin"
esplora_urls = ["http://127.0.0.1:9/api"]
[chains.ethereum]
kind = "evm"
chain_id = 1
rpc_urls = ["http://127.0.0.1:9"]
[page]
enabled = true
title = "Benchmark fund"
rate_limit_per_minute = 1000000000
cache_seconds = {cache_seconds}
[goal]
amount = 50000000
currency = "USD"
""" + "".join(f'[[wallets]]\nchain = "{c}"\naddress = "{a}"\nlabel = "{lbl}"\n' for c, a, lbl in WALLETS))
    return path


async def _seed_ledger(db: Database, n: int) -> None:
    async with db.session() as s:
        await s.execute(insert(Wallet), [{"chain": c, "address": a, "label": lbl, "active": True, "created_at": T0}
                                         for c, a, lbl in WALLETS])
    async with db.session() as s:
        ids: dict[str, list[int]] = {"bitcoin": [], "ethereum": []}
        for w in (await s.execute(Wallet.__table__.select())).all():
            ids[w.chain].append(w.id)
    items = _transfers(n, ids)
    start = time.perf_counter()
    await _seed(db, items, writers=2)
    print(f"[page] seeded {n:,} transfers in {time.perf_counter() - start:.1f}s", flush=True)
    # Values at arrival for 9 in 10 transfers (the rest "not yet valued"), written in bulk.
    rows = []
    async with db.session() as s:
        max_id = (await s.execute(select(func.max(Transfer.id)))).scalar_one()
    for tid in range(1, max_id + 1):
        if tid % 10:
            rows.append({"transfer_id": tid, "currency": "USD", "value": Decimal(tid % 997) + Decimal("0.25"),
                         "price": Decimal("1.5"), "source": "coinbase", "granularity": 3600, "candle_time": T0,
                         "priced_at": T0, "valued_at": T0})
        if len(rows) >= CHUNK * 4:
            async with db.session() as s:
                await s.execute(insert(TransferValue), rows)
            rows = []
    if rows:
        async with db.session() as s:
            await s.execute(insert(TransferValue), rows)
    async with db.engine.connect() as conn:
        await conn.exec_driver_sql("ANALYZE")


def _serve(config: str, ready: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    """The server process: the App's HTTP server with the page, and a watcher-like writer."""
    asyncio.run(_serve_async(config, ready))


async def _serve_async(config: str, ready) -> None:  # type: ignore[no-untyped-def]
    from aiohttp import web

    from bot.app import App
    from bot.settings import load_settings
    from ledger.writes import TransferIn, record_transfers

    settings = load_settings(config)
    async with await App.open(settings) as app:
        await app.setup(("bot.web",))
        runner = web.AppRunner(app.http, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", settings.http.port).start()
        async with app.db.session() as s:
            wallet_id = (await s.execute(Wallet.__table__.select().limit(1))).first().id
        ready.set()
        i = 0
        while True:  # a watcher's polls: 20 new transfers a second, until the benchmark stops us
            batch = [TransferIn(chain="bitcoin", txid=f"live{i:060x}{k:04x}", position=0, wallet_id=wallet_id, asset="BTC",
                                decimals=8, amount=1000 + k, senders=(f"live{k}",)) for k in range(20)]
            async with app.db.session() as s:
                await record_transfers(s, batch)
            i += 1
            await asyncio.sleep(1.0)


async def _median_ms(http: aiohttp.ClientSession, url: str, runs: int = 50) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        async with http.get(url) as r:
            await r.read()
            assert r.status == 200, (url, r.status)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


async def _load(base: str, paths: list[str], clients: int = 200, total: int = 4000) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    counter = iter(range(total))

    async def client(http: aiohttp.ClientSession) -> None:
        nonlocal errors
        for n in counter:
            start = time.perf_counter()
            async with http.get(base + paths[n % len(paths)]) as r:
                await r.read()
                errors += r.status != 200
            latencies.append(time.perf_counter() - start)

    connector = aiohttp.TCPConnector(limit=clients)
    start = time.perf_counter()
    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    wall = time.perf_counter() - start
    latencies.sort()
    return {"p50": latencies[len(latencies) // 2] * 1000, "p99": latencies[int(len(latencies) * 0.99)] * 1000,
            "rps": total / wall, "errors": errors, "n": len(latencies)}


AB = "/usr/bin/ab"


async def _ab_load(base: str, paths: list[str], clients: int = 200, total: int = 4000) -> dict[str, float] | None:
    """The same crowd from ApacheBench (C, one process per path, run together): no Python client in the way.

    Each path gets clients/len(paths) concurrent keep-alive connections and total/len(paths) requests;
    p99 is the worst path's 99th percentile (an upper bound of the mix's).
    """
    if not Path(AB).exists():
        return None
    share_c, share_n = clients // len(paths), total // len(paths)
    procs = [await asyncio.create_subprocess_exec(AB, "-q", "-k", "-n", str(share_n), "-c", str(share_c), base + p,
                                                  stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
             for p in paths]
    outs = [(await proc.communicate())[0].decode() for proc in procs]
    p50s, p99s, rps, failed = [], [], 0.0, 0
    for out in outs:
        for line in out.splitlines():
            parts = line.split()
            if line.strip().startswith("50%"):
                p50s.append(float(parts[1]))
            elif line.strip().startswith("99%"):
                p99s.append(float(parts[1]))
            elif line.startswith("Requests per second:"):
                rps += float(parts[3])
            elif line.startswith("Failed requests:") or line.startswith("Non-2xx responses:"):
                failed += int(parts[-1])
    if len(p99s) != len(paths):
        return None
    return {"p50": max(p50s), "p99": max(p99s), "rps": rps, "errors": failed, "n": share_n * len(paths)}


def _export(config: Path, *args: str) -> dict[str, float]:
    """Run the export CLI in a fresh process; its own peak RSS (VmHWM) is printed at exit."""
    code = ("import atexit, sys\n"
            "def _hwm():\n"
            "    for line in open('/proc/self/status'):\n"
            "        if line.startswith('VmHWM:'): sys.stderr.write('HWM ' + line.split()[1] + '\\n')\n"
            "atexit.register(_hwm)\n"
            "from bot.cli import main\n"
            f"main(['--config', {str(config)!r}, 'export', '--format', 'csv', '-o', '/dev/null', *{list(args)!r}])\n")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    hwm = [int(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("HWM ")]
    return {"seconds": wall, "peak_mb": hwm[-1] / 1024}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _run(args: argparse.Namespace) -> int:
    name = f"dw_bench_page_{uuid.uuid4().hex[:8]}"
    try:
        await _pg_admin(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001
        print(f"[page] skipped: cannot reach PostgreSQL at {PG_ADMIN} ({exc})")
        return 0
    url = f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    server = None
    try:
        db = await Database.open(url)
        try:
            await _seed_ledger(db, args.transfers)
        finally:
            await db.close()
        with tempfile.TemporaryDirectory() as tmp:
            ctx = multiprocessing.get_context("spawn")

            def start(cache_seconds: float) -> tuple[multiprocessing.Process, str, Path]:
                port = _free_port()
                config = _config(url, port, Path(tmp), cache_seconds)
                ready = ctx.Event()
                proc = ctx.Process(target=_serve, args=(str(config), ready), daemon=True)
                proc.start()
                if not ready.wait(120):
                    raise RuntimeError("the page server did not start")
                return proc, f"http://127.0.0.1:{port}", config

            # 1. Every request computed (no micro-cache): what one answer costs.
            server, base, config = start(0)
            async with aiohttp.ClientSession() as http:
                start_t = time.perf_counter()
                async with http.get(base + "/") as r:
                    await r.read()
                cold = (time.perf_counter() - start_t) * 1000
                res = {p: await _median_ms(http, base + p) for p in
                       ("/static/style.css", "/", "/api/v1/totals", "/api/v1/donations?limit=20")}
            print(f"[page] first request (computes the cached full-scan figures): {cold:,.0f} ms")
            base_ms = res["/static/style.css"]
            for path, ms in res.items():
                target = " (target < 50 ms: " + ("ok)" if ms < 50 else "MISSED)") if path in ("/", "/api/v1/totals") else ""
                print(f"[page] GET {path:<28} median {ms:7.2f} ms, no micro-cache ({ms / base_ms:5.1f}x the static file){target}")
            uncached = await _load(base, ["/", "/api/v1/totals", "/api/v1/donations?limit=20", "/api/v1/totals"])
            server.terminate()
            server.join(10)
            # 2. As deployed (2 s micro-cache): the crowd test, beside the same crowd on the static file.
            server, base, config = start(2.0)
            async with aiohttp.ClientSession() as http, http.get(base + "/") as r:
                await r.read()
            mix = ["/", "/api/v1/totals", "/api/v1/donations?limit=20", "/api/v1/totals"]
            static = await _load(base, ["/static/style.css"])
            load = await _load(base, mix)
            runs = [("static file (baseline)", static), ("page mix, 2 s micro-cache", load), ("page mix, no micro-cache", uncached)]
            ab_static = await _ab_load(base, ["/static/style.css"] * 4)
            ab_load = await _ab_load(base, mix)
            if ab_static and ab_load:
                runs += [("ApacheBench, static file (baseline)", ab_static), ("ApacheBench, page mix, 2 s micro-cache", ab_load)]
            else:
                print(f"[page] {AB} not found: `make bench` installs apache2-utils for the C load generator")
            for label, figures in runs:
                mark = "" if "static" in label else (
                    f" (target < 200 ms: {'ok' if figures['p99'] < 200 else 'MISSED'})")
                print(f"[page] load, {label}: 200 clients, {figures['n']:,} requests, {figures['rps']:,.0f} req/s, "
                      f"p50 {figures['p50']:.1f} ms, p99 {figures['p99']:.1f} ms{mark}, errors {figures['errors']}")
            print("[page] (the page mix is /, totals, donations, totals; the server writes 20 transfers/s meanwhile)")
            server.terminate()
            server.join(10)
            server = None
            last_day = (T0 + timedelta(seconds=args.transfers)).date()
            tenth = (T0 + timedelta(seconds=args.transfers // 10)).date()
            none = _export(config, "--since", "2100-01-01")
            part = _export(config, "--until", tenth.isoformat())
            full = _export(config, "--until", (last_day + timedelta(days=1)).isoformat())
            rows = args.transfers
            print(f"[page] export csv: all {rows:,} rows in {full['seconds']:.1f}s = {rows / full['seconds']:,.0f} rows/s, "
                  f"peak RSS {full['peak_mb']:.0f} MB; ~10% of rows: {part['peak_mb']:.0f} MB; "
                  f"no rows (baseline): {none['peak_mb']:.0f} MB")
            grew = full["peak_mb"] - none["peak_mb"]
            print(f"[page] export memory above baseline: {grew:.1f} MB "
                  f"(bound {MEMORY_BOUND_MB:.0f} MB: {'ok' if grew <= MEMORY_BOUND_MB else 'MISSED'})")
            print(json.dumps({"medians_ms": res, "load": load, "load_uncached": uncached, "load_static": static,
                              "ab_load": ab_load, "ab_static": ab_static,
                              "export": {"none": none, "part": part, "full": full}}))
    finally:
        if server is not None:
            server.terminate()
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks page")
    parser.add_argument("--transfers", type=int, default=1_000_000)
    return asyncio.run(_run(parser.parse_args(argv)))
