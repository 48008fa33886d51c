"""What the end-to-end tests share: the bot's settings file built from parts, the bot run as its
own process (its output collected as it comes), waiting on a condition, and reading its ledger."""

from __future__ import annotations

import asyncio
import inspect
import os
import re
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import tomli_w

from tests.fakes.discord import FakeDiscord

ROOT = Path(__file__).resolve().parents[2]
SANCTIONS = ROOT / "tests" / "data" / "sanctions" / "ofac_sdn_2025-11-19"
OFAC_ETH = SANCTIONS / "sanctioned_addresses_ETH.txt"
OFAC_XBT = SANCTIONS / "sanctioned_addresses_XBT.txt"
OFAC_EXCERPT = SANCTIONS / "sdn_advanced_excerpt.xml"  # a verbatim excerpt of that day's SDN_ADVANCED.XML
WATCHED_ETH = "0x165CD37b4C644C2921454429E7F9358d18A45e14"  # Ukraine's published ETH donation address
WATCHED_BTC = "357a3So9CbsNfBBgFYACGvxxS6tMaDoa1P"
OFFLINE = "http://127.0.0.1:9"  # nothing listens here: a source that is down, and never the internet
ALERTS, ROLE = 5550001, 5550002  # the fake Discord's alerts channel and operator role


def first_listed(path: Path) -> str:
    """The first address of a sanctions list file (one address a line)."""
    return next(line.strip() for line in path.read_text().splitlines() if line.strip())


class BotConfig:
    """A bot settings file built from parts, as an operator writes one; `write()` puts it on disk.

    Defaults keep a test offline and quick: SQLite under the test's directory, HTTP on a free
    port, a 5 s stop, the OFAC download and both price sources pointed at a closed port.
    """

    def __init__(self, directory: Path, name: str = "bot", *, database_url: str | None = None) -> None:
        self.path = directory / f"{name}.toml"
        self.data_dir = directory / ("data" if name == "bot" else name)
        self.db_file = self.data_dir / "ledger.db"
        self.database_url = database_url or f"sqlite+aiosqlite:///{self.db_file}"
        self.doc: dict[str, Any] = {
            "data_dir": str(self.data_dir), "stop_seconds": 5,
            "database": {"url": self.database_url},
            "http": {"port": 0},
            "chains": {}, "wallets": [],
            "screening": {"ofac_url": OFFLINE + "/unreachable"},
        }
        self.prices(OFFLINE)

    def ethereum(self, rpc_url: str, *, confirmations: int = 2, tokens: dict[str, tuple[str, int]] | None = None,
                 **keys: Any) -> BotConfig:
        """The anvil chain (id 31337) as `chains.ethereum`; `tokens` maps a symbol to (address, decimals)."""
        chain = {"kind": "evm", "chain_id": 31337, "rpc_urls": [rpc_url], "confirmations": confirmations,
                 "timeout_seconds": 5, **keys}
        if tokens:
            chain["tokens"] = [{"symbol": s, "address": a, "decimals": d} for s, (a, d) in tokens.items()]
        self.doc["chains"]["ethereum"] = chain
        return self

    def bitcoin(self, esplora_url: str, **keys: Any) -> BotConfig:
        """An Esplora-watched Bitcoin mainnet as `chains.bitcoin`."""
        self.doc["chains"]["bitcoin"] = {"kind": "bitcoin", "esplora_urls": [esplora_url], "requests_per_second": 100.0,
                                         "timeout_seconds": 5, **keys}
        return self

    def wallet(self, chain: str, address: str, *, label: str | None = None, start_height: int | None = None) -> BotConfig:
        entry = {"chain": chain, "address": address, "label": label, "start_height": start_height}
        self.doc["wallets"].append({k: v for k, v in entry.items() if v is not None})
        return self

    def discord(self, fake: FakeDiscord, *, alerts: int = ALERTS, role: int = ROLE) -> BotConfig:
        """Discord through the fake (the token comes from the environment, as in production)."""
        return self.set("discord", alerts_channel_id=alerts, operator_role_id=role, api_base=fake.api_base,
                        gateway_url=fake.gateway_url)

    def prices(self, url: str) -> BotConfig:
        """Both price sources at `url` (the fake price server, or a closed port)."""
        return self.set("valuation", coinbase_url=url, kraken_url=f"{url}/0", coinbase_requests_per_second=100,
                        kraken_requests_per_second=100)

    def set(self, table: str, **keys: Any) -> BotConfig:
        """Set keys of a table (`set("screening", max_list_age_days=3650)`); a dotted name reaches into a sub-table."""
        node = self.doc
        for part in table.split("."):
            node = node.setdefault(part, {})
        node.update(keys)
        return self

    def write(self) -> Path:
        doc = {k: v for k, v in self.doc.items() if v not in ({}, [])}
        self.path.write_text(tomli_w.dumps(doc))
        return self.path


def bot_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **extra}


class BotProcess:
    """`python -m bot --config CONFIG ARGS...` as its own process; stdout and stderr collected as they come.

    Reading all the time keeps a chatty process from blocking on a full pipe; `async with` makes
    sure no bot outlives its test.
    """

    def __init__(self, proc: asyncio.subprocess.Process, name: str) -> None:
        self.proc, self.name = proc, name
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [asyncio.create_task(self._read(proc.stdout, self.out)),  # type: ignore[arg-type]
                         asyncio.create_task(self._read(proc.stderr, self.err))]  # type: ignore[arg-type]

    @classmethod
    async def start(cls, config: Path, *args: str, name: str = "bot", env: dict[str, str] | None = None) -> BotProcess:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--config", str(config), *args, cwd=ROOT, env=env or bot_env(),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        return cls(proc, name)

    @staticmethod
    async def _read(stream: asyncio.StreamReader, into: list[str]) -> None:
        while line := await stream.readline():
            into.append(line.decode(errors="replace"))

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    @property
    def stdout(self) -> str:
        return "".join(self.out)

    @property
    def stderr(self) -> str:
        return "".join(self.err)

    def tail(self, chars: int = 3000) -> str:
        """The end of what the process said on both streams, for an assertion's message."""
        return f"--- {self.name} stdout ---\n{self.stdout[-chars:]}\n--- {self.name} stderr ---\n{self.stderr[-chars:]}"

    async def said(self, text: str, *, stream: str = "stdout", timeout: float = 60) -> str:
        """Wait until a line containing `text` appears (stdout or stderr); returns that line."""
        lines = self.out if stream == "stdout" else self.err

        def found() -> str | None:
            return next((line for line in lines if text in line), None)

        await until(lambda: found() or self.returncode is not None, f"{self.name} to say {text!r}", timeout, detail=self.tail)
        line = found()
        assert line is not None, f"{self.name} exited ({self.returncode}) before saying {text!r}\n{self.tail()}"
        return line

    async def http_base(self, timeout: float = 60) -> str:
        """The bot's HTTP address, from its "http listening on" log line."""
        line = await self.said("http listening on", stream="stderr", timeout=timeout)
        return re.search(r"http://[\d.]+:\d+", line)[0]  # type: ignore[index]

    async def kill(self) -> None:
        """SIGKILL: no clean shutdown; the output read so far is kept."""
        if self.returncode is None:
            self.proc.kill()
        await self.wait()

    async def stop(self, timeout: float = 30) -> int:
        """SIGTERM, then the exit status (SIGKILL if it has not stopped within `timeout`)."""
        if self.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.wait(), timeout)
        except TimeoutError:
            await self.kill()
        return self.proc.returncode  # type: ignore[return-value]

    async def wait(self) -> int:
        status = await self.proc.wait()
        await asyncio.gather(*self._readers)
        return status

    async def __aenter__(self) -> BotProcess:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.kill()


async def run_bot(config: Path, *args: str, timeout: float = 120) -> tuple[int, str, str]:
    """Run the bot to completion; returns (exit status, stdout, stderr)."""
    async with await BotProcess.start(config, *args) as bot:
        await asyncio.wait_for(bot.wait(), timeout)
        return bot.returncode or 0, bot.stdout, bot.stderr


async def until(check: Callable[[], object], what: str, timeout: float = 60, *, every: float = 0.2,
                detail: Callable[[], str] | None = None) -> None:
    """Poll `check` (sync or async) until it is truthy; fail naming `what` after a generous `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}" + (f"\n{detail()}" if detail else ""))
        await asyncio.sleep(every)


async def ready(bot: BotProcess, discord: FakeDiscord | None = None, timeout: float = 90) -> str:
    """Wait until `bot` has made a good poll of every chain (what came before it is history, not
    news) and, with a fake Discord, has flushed its alerts channel once (its stream position is
    made: later events are told) and a gateway IDENTIFY was seen; returns its HTTP base URL."""
    base = await bot.http_base()

    async def done() -> bool:
        _, body = await get_json(base + "/healthz")
        if not body.get("chains") or not all(c.get("last_ok_at") for c in body["chains"].values()):
            return False
        if discord is None:
            return True
        return body.get("jobs", {}).get("channel:discord:alerts", {}).get("runs", 0) >= 1 and discord.identifies > 0

    await until(done, f"{bot.name} to poll every chain once" + (" and flush its Discord alerts" if discord else ""),
                timeout, detail=bot.tail)
    return base


async def get_json(url: str) -> tuple[int, Any]:
    """(status, JSON body) of a GET."""
    import aiohttp

    async with aiohttp.ClientSession() as client, client.get(url) as response:
        return response.status, await response.json()


async def ledger_rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a query on the bot's ledger (SQLite or PostgreSQL); [] while its tables do not exist yet."""
    from sqlalchemy.exc import DBAPIError

    from ledger.database import Database

    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            return [tuple(row) for row in (await conn.exec_driver_sql(sql)).all()]
    except DBAPIError as exc:
        if "no such table" in str(exc) or "does not exist" in str(exc):
            return []
        raise
    finally:
        await db.close()
