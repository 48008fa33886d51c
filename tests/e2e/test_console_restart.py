"""Nothing a person must hear is lost on a restart: `run` killed right after it stored a sanctions hit
prints that hit, once, when it is started again; history from `backfill` is screened in the same run
and only its hits are announced."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.botproc import run_bot, start_bot
from tests.e2e.test_bot_ethereum import OFAC_ETH, WATCHED
from tests.fakes.anvil import Anvil, anvil_binary
from tests.fakes.prices import valuation_toml
from tests.watchers.ethereum.devchain import DevChain

HIT = "ALERT Sanctions hit: "


@pytest.fixture
def dev() -> Iterator[DevChain]:
    if anvil_binary() is None:
        pytest.fail("anvil is not installed: run `make test` (npm installs it into node_modules/)", pytrace=False)
    node = Anvil()
    try:
        yield DevChain(node)
    finally:
        node.stop()


def _config(tmp_path: Path, rpc_url: str, *, start_height: int = 1) -> tuple[Path, Path]:
    db_file = tmp_path / "data" / "ledger.db"
    path = tmp_path / "bot.toml"
    path.write_text(f"""
data_dir = "{tmp_path / 'data'}"
[database]
url = "sqlite+aiosqlite:///{db_file}"
[chains.ethereum]
kind = "evm"
chain_id = 31337
rpc_urls = ["{rpc_url}"]
confirmations = 2
timeout_seconds = 5
[[wallets]]
chain = "ethereum"
address = "{WATCHED}"
label = "Relief fund (ETH)"
start_height = {start_height}
[screening]
ofac_url = "http://127.0.0.1:9/unreachable"
""" + valuation_toml("http://127.0.0.1:9"))
    return path, db_file


def _hits_stored(db_file: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT COUNT(*) FROM event WHERE kind = 'sanctions.hit'").fetchone()[0]
    except sqlite3.Error:
        return 0


def _listed() -> str:
    return next(line.strip() for line in OFAC_ETH.read_text().splitlines() if line.strip())


class TestRestartAfterKill:
    async def test_hit_stored_just_before_a_sigkill_is_printed_once_after_restart(self, tmp_path: Path, dev: DevChain) -> None:
        """run stores and screens a donation from a listed sender, is SIGKILLed at once, and the restart prints the hit once."""
        listed = _listed()
        dev.impersonate(listed)
        dev.send(listed, WATCHED, 25 * 10**17)
        dev.mine(3)
        config, db_file = _config(tmp_path, dev.url)

        first = await start_bot(config, "run")
        try:
            for _ in range(3000):
                if _hits_stored(db_file) or first.returncode is not None:
                    break
                await asyncio.sleep(0.01)
        finally:
            if first.returncode is None:
                first.kill()  # SIGKILL: no clean shutdown
            out1, err1 = await first.communicate()
        assert _hits_stored(db_file) == 1, f"the first run should have stored the hit: {err1.decode()[-3000:]}"
        before = out1.decode()
        assert HIT not in before, "the kill should land before the console's next flush"

        second = await start_bot(config, "run")
        assert second.stdout is not None
        lines: list[str] = []

        async def until_hit() -> None:
            while True:
                line = (await second.stdout.readline()).decode()  # type: ignore[union-attr]
                assert line, "run exited early"
                lines.append(line)
                if HIT in line:
                    return

        try:
            await asyncio.wait_for(until_hit(), timeout=60)
        except TimeoutError:
            pass  # said below, with what the process printed
        finally:
            if second.returncode is None:
                second.send_signal(signal.SIGTERM)
            try:
                out2, err2 = await asyncio.wait_for(second.communicate(), timeout=30)
            finally:
                if second.returncode is None:  # never leave a bot running after the test
                    second.kill()
                    await second.wait()
        after = "".join(lines) + out2.decode()
        assert HIT in after, after + err2.decode()[-3000:]
        assert (before + after).count(HIT) == 1
        assert f"Sender {listed} is listed" in after
        assert "New donation: 2.5 ETH" not in before + after  # sent before the first poll: history, counted, not announced


class TestBackfillIsHistory:
    async def test_backfill_screens_in_the_same_run_and_announces_only_the_hit(self, tmp_path: Path, dev: DevChain) -> None:
        """backfill screens the senders it stored at once; the console then prints the hit but no "new donation"."""
        listed = _listed()
        dev.impersonate(listed)
        dev.send(listed, WATCHED, 10**18)
        dev.mine(5)
        config, db_file = _config(tmp_path, dev.url, start_height=dev.height() + 1)

        status, out, err = await run_bot(config, "poll", "--once")  # the console channel exists from here on
        assert status == 0, err + out
        status, out, err = await run_bot(config, "backfill", "ethereum", "--from-block", "1")
        assert status == 0, err + out
        assert "1 transfers found" in out and "1 sanctions hit(s)" in out
        assert _hits_stored(db_file) == 1

        status, out, err = await run_bot(config, "poll", "--once")
        assert status == 0, err + out
        assert out.count(HIT) == 1 and f"Sender {listed} is listed" in out and "New donation" not in out
