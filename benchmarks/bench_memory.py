"""Memory of a long `run`: 1,000 watched addresses on each chain, polled over and over.

The real `donation-watch run` process watches 1,000 Bitcoin addresses (the test suite's Esplora
server, on this process's own thread, each address with one past donation) and 1,000 EVM addresses
(an anvil node mining a block a second), polling as fast as the fakes answer; the OFAC list and
the price sources are the test suite's fakes too. Its resident memory
is read from /proc after the first poll (the baseline, same run), at the 100th poll and at the
last; peak RSS is the kernel's high-water mark (VmHWM). Targets: peak < 200 MB, and no growth
between the 100th and the last poll (within 5 %, as allocators keep freed pages).

    python -m benchmarks memory -- --polls 1000     # ~10 minutes on 2 cores; --polls 200 for a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import aiohttp

from tests.fakes.anvil import Anvil, anvil_binary
from tests.fakes.esplora import EsploraFake, fake_address, make_tx
from tests.fakes.ofac import FakeOfac
from tests.fakes.prices import PriceFake, valuation_toml
from tests.fakes.threaded import ServerThread

ROOT = Path(__file__).resolve().parents[1]
EXCERPT = ROOT / "tests" / "data" / "sanctions" / "ofac_sdn_2025-11-19" / "sdn_advanced_excerpt.xml"
PEAK_TARGET_MB = 200.0
GROWTH_TOLERANCE = 0.05


def _status_kb(pid: int, field: str) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    return int(match.group(1)) if match else 0


def _config(tmp: Path, esplora: str, rpc: str, ofac: str, prices: str, addresses: int) -> Path:
    lines = [
        f'data_dir = "{tmp / "data"}"',
        'log_level = "INFO"',  # the HTTP server's port is read from the log
        "[database]",
        f'url = "sqlite+aiosqlite:///{tmp / "ledger.db"}"',
        "[http]",
        "port = 0",
        "[screening]",
        f'ofac_url = "{ofac}"',
        "[chains.bitcoin]",
        'kind = "bitcoin"',
        f'esplora_urls = ["{esplora}"]',
        "requests_per_second = 100000.0",
        "poll_seconds = 0.2",
        "[chains.ethereum]",
        'kind = "evm"',
        "chain_id = 31337",
        f'rpc_urls = ["{rpc}"]',
        "confirmations = 1",
        "requests_per_second = 1000.0",
        "poll_seconds = 0.2",
    ]
    for i in range(addresses):
        lines += ["[[wallets]]", 'chain = "bitcoin"', f'address = "{fake_address(500_000 + i)}"']
        lines += ["[[wallets]]", 'chain = "ethereum"', f'address = "0x{(0xD0_0000 + i):040x}"']
    path = tmp / "bench.toml"
    path.write_text("\n".join(lines) + "\n" + valuation_toml(prices))
    return path


async def _drain(stream: asyncio.StreamReader, path: Path) -> None:
    with path.open("wb") as out:
        while chunk := await stream.read(1 << 16):
            out.write(chunk)


async def _polls(session: aiohttp.ClientSession, metrics: str) -> dict[str, int]:
    async with session.get(metrics) as resp:
        text = await resp.text()
    out: dict[str, int] = {}
    for chain, value in re.findall(r'donation_watch_polls_total\{chain="(\w+)",outcome="ok"\} ([0-9.e+]+)', text):
        out[chain] = int(float(value))
    return out


async def _bench(polls: int, addresses: int) -> int:
    if anvil_binary() is None:
        print("anvil is not installed: run `make test` once (npm installs it into node_modules/)")
        return 2
    server = ServerThread()
    esplora = EsploraFake()
    ofac = FakeOfac(body=EXCERPT.read_bytes())
    esplora_url = await server.run(esplora.start())
    ofac_url = await server.run(ofac.start())
    prices = PriceFake(datetime.now(timezone.utc))
    prices_url = await server.run(prices.start())
    donor = fake_address(7)
    for i in range(addresses):
        esplora.add_tx(make_tx([(donor, 20_000)], [(fake_address(500_000 + i), 10_000), (donor, 9_000)]))
    esplora.mine()
    for _ in range(8):
        esplora.mine([])
    node = Anvil("--block-time", "1")
    tmp = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    config = _config(tmp, esplora_url, node.url, ofac_url, prices_url, addresses)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "run",
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    status = 0
    try:
        assert proc.stderr is not None
        port = None
        deadline = time.monotonic() + 120
        while port is None and time.monotonic() < deadline:
            line = (await asyncio.wait_for(proc.stderr.readline(), 120)).decode()
            found = re.search(r"http listening on http://[\d.]+:(\d+)", line)
            port = int(found.group(1)) if found else None
        if port is None:
            print("FAIL: the bot never said where its HTTP server listens")
            return 1
        log_path = tmp / "bot.log"
        asyncio.create_task(_drain(proc.stderr, log_path))  # keep reading its log, kept beside its ledger
        metrics = f"http://127.0.0.1:{port}/metrics"
        marks: dict[int, tuple[int, float]] = {}
        started = time.monotonic()
        async with aiohttp.ClientSession() as session:
            done = 0
            while done < polls:
                await asyncio.sleep(0.5)
                counts = await _polls(session, metrics)
                done = min(counts.get("bitcoin", 0), counts.get("ethereum", 0))
                for mark in (1, min(100, polls), polls):
                    if done >= mark and mark not in marks:
                        marks[mark] = (_status_kb(proc.pid, "VmRSS"), time.monotonic() - started)
                if proc.returncode is not None:
                    print("FAIL: the bot stopped")
                    return 1
        peak_mb = _status_kb(proc.pid, "VmHWM") / 1024
        middle = min(100, polls)
        base_mb, at100_mb, last_mb = (marks[m][0] / 1024 for m in (1, middle, polls))
        print(f"the bot's log: {log_path}")
        print(f"{addresses} Bitcoin + {addresses} EVM addresses; {polls} polls of each chain in {marks[polls][1]:.0f} s")
        print(f"RSS after the first poll (baseline): {base_mb:7.1f} MB")
        print(f"RSS at poll {middle}:{' ' * (26 - len(str(middle)))}{at100_mb:7.1f} MB")
        print(f"RSS at poll {polls}:{' ' * (26 - len(str(polls)))}{last_mb:7.1f} MB  "
              f"(growth since poll {middle}: {last_mb - at100_mb:+.1f} MB = {100 * (last_mb - at100_mb) / at100_mb:+.1f} %)")
        print(f"peak RSS (VmHWM):                     {peak_mb:7.1f} MB  (target < {PEAK_TARGET_MB:.0f} MB)")
        if peak_mb >= PEAK_TARGET_MB:
            print("FAIL: peak RSS over the target")
            status = 1
        if polls > 100 and last_mb > at100_mb * (1 + GROWTH_TOLERANCE):
            print("FAIL: memory grows between the 100th and the last poll")
            status = 1
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()
        node.stop()
        await server.run(esplora.stop())
        await server.run(ofac.stop())
        await server.run(prices.stop())
        server.close()
    return status


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_memory")
    parser.add_argument("--polls", type=int, default=1_000)
    parser.add_argument("--addresses", type=int, default=1_000)
    args = parser.parse_args(argv)
    return asyncio.run(_bench(max(args.polls, 2), args.addresses))
