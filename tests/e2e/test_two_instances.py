"""Two `run` processes on one PostgreSQL ledger against one anvil node, as a fund that outgrew one
process runs them: every donation stored once (no duplicate transfer or event), and when one
process is SIGKILLed mid-work the other goes on polling the chain."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ledger.database import Database
from tests.conftest import PG_ADMIN_URL, _pg_admin
from tests.e2e.botproc import start_bot
from tests.fakes.anvil import Anvil, anvil_binary
from tests.fakes.prices import PriceFake, valuation_toml
from tests.watchers.ethereum.devchain import ETH, DevChain

WATCHED = "0x165CD37b4C644C2921454429E7F9358d18A45e14"


@pytest.fixture
def dev() -> Iterator[DevChain]:
    if anvil_binary() is None:
        pytest.fail("anvil is not installed: run `make test` (npm installs it into node_modules/)", pytrace=False)
    node = Anvil()
    try:
        yield DevChain(node)
    finally:
        node.stop()


@pytest.fixture
async def pg_ledger(pg_url: str) -> AsyncIterator[str]:
    """A database of its own on the test PostgreSQL server (the processes migrate it), dropped afterwards."""
    name = f"dw_two_{uuid.uuid4().hex[:8]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def config(tmp_path: Path, name: str, url: str, rpc: str, prices: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(f"""
data_dir = "{tmp_path / name}"
stop_seconds = 5
[database]
url = "{url}"
[http]
port = 0
[chains.ethereum]
kind = "evm"
chain_id = 31337
rpc_urls = ["{rpc}"]
confirmations = 2
poll_seconds = 0.5
timeout_seconds = 5
[[wallets]]
chain = "ethereum"
address = "{WATCHED}"
start_height = 1
[screening]
ofac_url = "http://127.0.0.1:9/offline"
max_list_age_days = 3650
""" + valuation_toml(prices))
    return path


async def counts(url: str) -> tuple[int, int, int]:
    """(transfers, distinct txids, transfer.new events) in the ledger."""
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            transfers = (await conn.exec_driver_sql("SELECT count(*), count(DISTINCT txid) FROM transfer")).one()
            new = (await conn.exec_driver_sql("SELECT count(*) FROM event WHERE kind = 'transfer.new'")).scalar()
        return int(transfers[0]), int(transfers[1]), int(new or 0)
    finally:
        await db.close()


async def wait_for(url: str, transfers: int, seconds: float = 30) -> tuple[int, int, int]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        try:
            got = await counts(url)
        except Exception:  # noqa: BLE001 - tables not there until the first process migrated
            got = (0, 0, 0)
        if got[0] >= transfers or loop.time() > deadline:
            return got
        await asyncio.sleep(0.3)


async def started(proc: asyncio.subprocess.Process) -> None:
    assert proc.stdout is not None
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        assert line, "run exited at start"
        if line.startswith("watching "):
            return


@pytest.mark.postgres
@pytest.mark.slow
class TestTwoInstances:
    async def test_no_duplicates_and_the_survivor_polls_on(self, tmp_path: Path, dev: DevChain, prices: PriceFake,
                                                           pg_ledger: str) -> None:
        """Both processes poll one chain: each donation is stored once; after SIGKILL of one, the other stores the next."""
        a = await start_bot(config(tmp_path, "a", pg_ledger, dev.url, prices.url), "run")
        await started(a)
        b = await start_bot(config(tmp_path, "b", pg_ledger, dev.url, prices.url), "run")
        try:
            await started(b)
            for account in dev.accounts[1:4]:
                dev.send(account, WATCHED, ETH)
            dev.mine(3)
            assert await wait_for(pg_ledger, 3) == (3, 3, 3)
            a.kill()  # SIGKILL: its connections (and any poll lock it held) drop with it
            await a.wait()
            dev.send(dev.accounts[4], WATCHED, 2 * ETH)
            dev.mine(3)
            assert await wait_for(pg_ledger, 4) == (4, 4, 4)
            b.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(b.communicate(), 30)
            assert b.returncode == 0, err.decode()[-2000:]
            assert "Traceback" not in err.decode()
        finally:
            for proc in (a, b):
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
