"""The demo's steps, shared by `make demo` and the end-to-end test that runs it (tests/e2e/test_demo.py)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from tests.fakes.anvil import Anvil, anvil_binary
from tests.fakes.prices import PriceFake, valuation_toml
from tests.watchers.ethereum.devchain import ETH, DevChain

ROOT = Path(__file__).resolve().parents[1]
OFAC_ETH = ROOT / "tests" / "data" / "sanctions" / "ofac_sdn_2025-11-19" / "sanctioned_addresses_ETH.txt"
WATCHED = "0x165CD37b4C644C2921454429E7F9358d18A45e14"  # Ukraine's published ETH donation address
# What the console must show before the demo ends: (what, text in the bot's output, how many times)
EXPECTED = (
    ("donations announced", "New donation: ", 3),
    ("donations confirmed", "Donation confirmed: ", 3),
    ("the sanctions alert", "ALERT Sanctions hit: ", 1),
)


@dataclass
class DemoResult:
    """What the demo saw: the bot's console, the totals table, the seconds it took, and what was missing."""

    console: list[str] = field(default_factory=list)
    totals: str = ""
    seconds: float = 0.0
    missing: list[str] = field(default_factory=list)
    bot_exit: int | None = None
    bot_stderr: str = ""


def _config(tmp: Path, rpc_url: str, usdt: str, prices_url: str) -> Path:
    path = tmp / "demo.toml"
    path.write_text(f"""
# The demo's settings: a local anvil node, one watched wallet, console output (no Discord token).
data_dir = "{tmp / 'data'}"
stop_seconds = 5

[database]
url = "sqlite+aiosqlite:///{tmp / 'data' / 'demo.db'}"

[http]
port = 0

[chains.ethereum]
kind = "evm"
chain_id = 31337
rpc_urls = ["{rpc_url}"]
confirmations = 6
poll_seconds = 1
timeout_seconds = 5

[[chains.ethereum.tokens]]
symbol = "USDT"
address = "{usdt}"
decimals = 6

[[wallets]]
chain = "ethereum"
address = "{WATCHED}"
label = "Relief fund"
start_height = 1

[screening]
# Offline: the download fails (one warning) and the OFAC snapshot bundled with the bot stays in force.
ofac_url = "http://127.0.0.1:9/offline"
# The bundled snapshot is older than the 3 days a running bot allows; the demo accepts it.
max_list_age_days = 3650
""" + valuation_toml(prices_url))
    return path


async def run_demo(say: Callable[[str], None] | None = None, *, timeout: float = 60.0) -> int:
    """Run the demo, printing as it goes; 0 when everything expected was seen within `timeout` s."""
    result = await demo(say or (lambda line: print(line, flush=True)), timeout=timeout)
    return 0 if not result.missing and result.bot_exit == 0 else 1


async def demo(say: Callable[[str], None], *, timeout: float = 60.0) -> DemoResult:
    """The demo's steps; returns what it saw (the end-to-end test checks it)."""
    result = DemoResult()
    started = time.monotonic()
    if anvil_binary() is None:
        say("demo: anvil is not installed; run `make test` once (it installs it from npm into node_modules/)")
        result.missing = ["anvil"]
        return result
    tmp = Path(tempfile.mkdtemp(prefix="donation-watch-demo-"))
    say("demo: starting anvil, a local Ethereum node (chain id 31337)")
    node = Anvil()
    prices = PriceFake(datetime.now(timezone.utc))
    bot: asyncio.subprocess.Process | None = None
    try:
        dev = DevChain(node)
        prices_url = await prices.start()
        usdt = dev.deploy_token("USDT", 6)
        spam = dev.deploy_token("SPAM", 18)
        donor, other = dev.accounts[1], dev.accounts[2]
        listed = next(line.strip() for line in OFAC_ETH.read_text().splitlines() if line.strip())
        dev.mint(usdt, other, 1_000 * 10**6)
        dev.mint(spam, other, 10**24)
        config = _config(tmp, node.url, usdt, prices_url)
        say(f"demo: watching {WATCHED} (\"Relief fund\"); USDT at {usdt} is allowlisted, SPAM at {spam} is not")
        say(f"demo: settings in {config}; prices come from a local simulated price server")
        say("demo: starting `donation-watch run` in console mode")
        bot = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--config", str(config), "run", cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        log: list[str] = []
        stderr_task = asyncio.create_task(_collect(bot.stderr, log))  # type: ignore[arg-type]
        ready = asyncio.Event()
        reader = asyncio.create_task(_echo(bot.stdout, result.console, say, ready))  # type: ignore[arg-type]
        await asyncio.wait_for(ready.wait(), timeout)
        health = await _first_good_poll(log, started + timeout, stderr_task)
        if health is not None:
            say(f"demo: the bot's first poll is done; {health}/healthz answers 200")
        if bot.returncode is not None or reader.done() or health is None:
            await reader
            result.bot_exit = await bot.wait()
            result.bot_stderr = await stderr_task
            result.missing = ["the bot running (it exited at start)"]
            say("demo: the bot stopped at start; its log:\n" + result.bot_stderr[-3000:])
            return result

        say("demo: a donor sends 1.5 ETH")
        dev.send(donor, WATCHED, 15 * ETH // 10)
        say("demo: another donor sends 250 USDT (allowlisted token) and 1,000,000 SPAM (a token nobody allowlisted)")
        dev.transfer_token(usdt, other, WATCHED, 250 * 10**6)
        dev.transfer_token(spam, other, WATCHED, 10**24)
        say(f"demo: {listed}, an address on OFAC's SDN list, sends 0.1 ETH (impersonated on anvil)")
        dev.impersonate(listed)
        dev.send(listed, WATCHED, ETH // 10)

        deadline = started + timeout
        while _missing(result.console) and time.monotonic() < deadline:
            dev.mine(1)  # a new block every second: a donation counts as confirmed 6 blocks deep
            await asyncio.sleep(1)
        result.missing = _missing(result.console)

        say("demo: `donation-watch totals`")
        totals = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--config", str(config), "totals", cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, _ = await asyncio.wait_for(totals.communicate(), 30)
        result.totals = out.decode()
        for line in result.totals.splitlines():
            say("  " + line)

        say("demo: stopping the bot (SIGTERM)")
        if bot.returncode is None:
            bot.send_signal(signal.SIGTERM)
        result.bot_exit = await asyncio.wait_for(bot.wait(), 15)
        await reader
        result.bot_stderr = await stderr_task
    finally:
        if bot is not None and bot.returncode is None:
            bot.kill()
            await bot.wait()
        await prices.stop()
        node.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    result.seconds = time.monotonic() - started
    if result.missing:
        say(f"demo: NOT SEEN within {timeout:.0f} s: {', '.join(result.missing)}")
        say("demo: the bot's log:\n" + result.bot_stderr[-3000:])
    else:
        say(f"demo: done in {result.seconds:.0f} s: 3 donations announced and confirmed, the SPAM token ignored, "
            "the sanctions alert raised, totals shown")
    return result


def _missing(console: list[str]) -> list[str]:
    text = "\n".join(console)
    return [what for what, needle, count in EXPECTED if text.count(needle) < count]


async def _echo(stream: asyncio.StreamReader, lines: list[str], say: Callable[[str], None], ready: asyncio.Event) -> None:
    while line := await stream.readline():
        text = line.decode().rstrip("\n")
        lines.append(text)
        say("  bot | " + text)
        if text.startswith("watching "):
            ready.set()
    ready.set()


async def _collect(stream: asyncio.StreamReader, lines: list[str]) -> str:
    while line := await stream.readline():
        lines.append(line.decode())
    return "".join(lines)


async def _first_good_poll(log: list[str], deadline: float, stderr: asyncio.Task[str]) -> str | None:
    """The bot's base URL once /healthz reports a successful poll of the chain; None if it never does."""
    import aiohttp

    base = None
    async with aiohttp.ClientSession() as client:
        while time.monotonic() < deadline and not stderr.done():
            if base is None:
                base = next((re.search(r"http://127\.0\.0\.1:\d+", line)[0] for line in log  # type: ignore[index]
                             if "http listening on" in line), None)
            if base is not None:
                try:
                    async with client.get(base + "/healthz") as r:
                        body = await r.json()
                        if r.status == 200 and body["chains"]["ethereum"]["last_ok_at"]:
                            return base
                except aiohttp.ClientError:
                    pass
            await asyncio.sleep(0.2)
    return None
