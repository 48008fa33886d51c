"""Backfill of history: resumable, independent of the live cursor, and safe to kill at any moment."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from ledger.database import Database
from tests.fakes.rpc_proxy import RpcProxy
from ledger.models import TransferStatus
from tests.watchers.ethereum.conftest import CHAIN, WatcherFactory, add_wallet, cursor, stored, totals
from tests.watchers.ethereum.devchain import ETH, DevChain, fresh_address
from watchers.block_scan import BackfillProgress

ROOT = Path(__file__).resolve().parents[3]


class TestBackfill:
    async def test_backfill_finds_history_the_live_poll_skipped(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """Donations before the live cursor's start are stored by a backfill, which leaves the live cursor alone."""
        wallet = fresh_address(60)
        await add_wallet(db, wallet)
        old = [dev.send(dev.accounts[1], wallet, ETH + i) for i in range(3)]
        dev.mine(120)
        watcher = make_watcher()
        await watcher.poll()
        live = await cursor(db)
        assert await stored(db) == []
        seen: list[BackfillProgress] = []
        assert await watcher.backfill(1, progress=seen.append) == (1, dev.height())
        assert sorted(t.txid for t in await stored(db)) == sorted(old)
        assert await cursor(db) == live
        assert seen[-1].done == seen[-1].end and sum(p.found for p in seen) == 3

    async def test_backfill_run_again_resumes_and_duplicates_nothing(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """A second run with the same start continues from its stored progress and adds nothing twice."""
        wallet = fresh_address(61)
        await add_wallet(db, wallet)
        dev.send(dev.accounts[1], wallet, ETH)
        dev.mine(60)
        end = dev.height()
        await make_watcher().backfill(1, end)
        calls: list[BackfillProgress] = []
        await make_watcher().backfill(1, end, progress=calls.append)
        assert [(p.done, p.found) for p in calls] == [(end, 0)]
        assert len(await stored(db)) == 1

    async def test_backfill_beside_the_live_poll_never_unconfirms(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """A backfill that read the confirmed height before the live poll confirmed a donation leaves it confirmed."""
        from tests.conftest import run_in_thread
        from watchers.ethereum import EvmWatcher

        wallet = fresh_address(62)
        wid = await add_wallet(db, wallet, start_height=1)
        dev.send(dev.accounts[1], wallet, ETH)
        backfill = make_watcher(confirmations=3)
        await backfill.poll()
        url = db.url.render_as_string(hide_password=False)

        async def live_poll() -> None:
            # Another instance, on its own connection and loop, polls after more blocks arrived.
            other = await Database.open(url, upgrade=False)
            watcher = EvmWatcher(backfill.config, other)
            try:
                dev.mine(3)
                assert (await watcher.poll()).confirmed == 1
            finally:
                await watcher.close()
                await other.close()

        def between(step: BackfillProgress) -> None:
            if step.done < step.start:  # the backfill has read its head and stored nothing yet
                run_in_thread(live_poll())

        await backfill.backfill(1, progress=between)
        [t] = await stored(db)
        assert t.status == TransferStatus.CONFIRMED and await totals(db, wid) == {"ETH": (ETH, 0)}


def _config(tmp: Path, db_file: Path, rpc: str, wallet: str, token: str) -> Path:
    path = tmp / "backfill.toml"
    path.write_text(
        f"""
data_dir = "{tmp}"
[database]
url = "sqlite+aiosqlite:///{db_file}"
[chains.{CHAIN}]
kind = "evm"
chain_id = 31337
rpc_urls = ["{rpc}"]
confirmations = 1
timeout_seconds = 10
tokens = [{{ symbol = "USDC", address = "{token}", decimals = 6 }}]
[[wallets]]
chain = "{CHAIN}"
address = "{wallet}"
"""
    )
    return path


def _progress(db_file: Path) -> int | None:
    if not db_file.exists():
        return None
    try:
        with sqlite3.connect(db_file, timeout=1) as conn:
            row = conn.execute("SELECT height FROM backfill_cursor").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


class TestCrashSafety:
    async def test_killed_backfill_restarts_without_loss_or_duplicates(self, tmp_path: Path, dev: DevChain) -> None:
        """SIGKILL in the middle of a backfill, then a re-run: every donation is stored exactly once."""
        usdc = dev.deploy_token("USDC", 6)
        wallet = fresh_address(62)
        expected = set()
        for i in range(12):
            expected.add(dev.send(dev.accounts[1], wallet, ETH + i))
            expected.add(dev.mint(usdc, wallet, 1_000 + i))
            dev.mine(40)
        end = dev.height()
        proxy, db_file, cmd = await _slow_backfill(tmp_path, dev, wallet, usdc)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        try:
            first = subprocess.Popen([*cmd[:3], "-v", *cmd[3:]], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(3000):
                done = _progress(db_file)
                if done is not None and done >= 100 or first.poll() is not None:
                    break
                await asyncio.sleep(0.01)
            first.send_signal(signal.SIGKILL)
            _, err = first.communicate()
            killed_at = _progress(db_file)
            assert killed_at is not None and 1 <= killed_at < end, "the kill should land mid-backfill"
            # Its scan process notices that nobody reads what it sends, and ends too.
            await _ends(_scan_pid(err.decode()))
            proxy.delay_seconds = 0
            second = await asyncio.create_subprocess_exec(*cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out, err = await second.communicate()
            assert second.returncode == 0, err.decode()[-2000:]
            assert f"blocks 1..{end} stored" in out.decode()
        finally:
            await proxy.stop()
        with sqlite3.connect(db_file) as conn:
            rows = conn.execute("SELECT txid, position, COUNT(*) FROM transfer GROUP BY txid, position").fetchall()
            assert conn.execute("SELECT height, to_height FROM backfill_cursor").fetchone() == (end, end)
        assert {r[0] for r in rows} == expected and all(r[2] == 1 for r in rows) and len(rows) == 24


    async def test_ctrl_c_stops_the_scan_process_and_a_rerun_finishes(self, tmp_path: Path, dev: DevChain) -> None:
        """Ctrl-C in the middle: "aborted", no traceback, the scan process gone; the rerun stores the rest once."""
        wallet, usdc = fresh_address(65), dev.deploy_token("USDC", 6)
        for i in range(8):
            dev.send(dev.accounts[1], wallet, ETH + i)
            dev.mine(80)  # 650 blocks: two writes of up to 8 ranges of 50 blocks
        end = dev.height()
        proxy, db_file, cmd = await _slow_backfill(tmp_path, dev, wallet, usdc, "-v")
        pipes = dict(cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            first = await asyncio.create_subprocess_exec(*cmd, **pipes)  # type: ignore[arg-type]
            for _ in range(3000):
                done = _progress(db_file)
                if done is not None and done >= 50 or first.returncode is not None:
                    break
                await asyncio.sleep(0.01)
            first.send_signal(signal.SIGINT)
            _, raw = await asyncio.wait_for(first.communicate(), 30)
            err = raw.decode()
            assert first.returncode == 1 and err.rstrip().endswith("aborted") and "Traceback" not in err, err[-2000:]
            stopped_at = _progress(db_file)
            assert stopped_at is not None and 1 <= stopped_at < end, "Ctrl-C should land mid-backfill"
            await _ends(_scan_pid(err))
            proxy.delay_seconds = 0
            second = await asyncio.create_subprocess_exec(*[c for c in cmd if c != "-v"], **pipes)  # type: ignore[arg-type]
            out, raw = await second.communicate()
            assert second.returncode == 0 and f"blocks 1..{end} stored" in out.decode(), raw.decode()[-2000:]
        finally:
            await proxy.stop()
        with sqlite3.connect(db_file) as conn:
            assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT txid) FROM transfer").fetchone() == (8, 8)


async def _slow_backfill(tmp_path: Path, dev: DevChain, wallet: str, token: str, *options: str) -> tuple[RpcProxy, Path, list[str]]:
    """A backfill command from block 1 through a proxy that delays every answer by 30 ms (a kill lands mid-way):
    the running proxy, the ledger file and the command line."""
    proxy = RpcProxy(dev.url)
    await proxy.start()
    proxy.delay_seconds = 0.03
    db_file = tmp_path / "ledger.db"
    config = _config(tmp_path, db_file, proxy.url, wallet, token)
    return proxy, db_file, [sys.executable, "-m", "bot", *options, "--config", str(config), "backfill", CHAIN, "--from-block", "1"]


def _scan_pid(log: str) -> int:
    """The pid of the command's scan process, from its debug log."""
    import re

    found = re.search(r"scan process started chain=\S+ pid=(\d+)", log)
    assert found, log[-2000:]
    return int(found.group(1))


async def _ends(pid: int, seconds: float = 15.0) -> None:
    """Wait until process ``pid`` has ended (gone, or a zombie nobody reaped yet)."""
    for _ in range(int(seconds * 20)):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return
        if state in ("Z", "X"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the scan process {pid} still runs {seconds:g}s after the command ended")


class TestBackfillCommand:
    async def test_command_screens_each_transfer_once_and_leaves_the_node_to_its_scan_process(self, tmp_path: Path, dev: DevChain) -> None:
        """`backfill` screens while it stores (several passes) yet counts every transfer once. The command's own
        process imports no HTTP client (its scan process asks the node, over the aiohttp transport) and no web3."""
        usdc = dev.deploy_token("USDC", 6)
        wallet = fresh_address(64)
        for i in range(6):
            dev.send(dev.accounts[1], wallet, ETH + i)
            dev.mint(usdc, wallet, 1_000 + i)
            dev.mine(80)  # 10 ranges of 50 blocks: more than one write, so screening passes run while it stores
        db_file = tmp_path / "ledger.db"
        config = _config(tmp_path, db_file, dev.url, wallet, usdc)
        code = (
            "import atexit, sys\n"
            "atexit.register(lambda: print('web3 imported:', 'web3' in sys.modules, 'aiohttp imported:', 'aiohttp' in sys.modules))\n"
            "from bot.cli import main\n"
            f"main(['--config', {str(config)!r}, 'backfill', {CHAIN!r}, '--from-block', '1'])\n"
        )
        done = await asyncio.create_subprocess_exec(sys.executable, "-c", code, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await done.communicate()
        assert done.returncode == 0, err.decode()[-2000:]
        text = out.decode()
        assert "screened the senders of 12 stored transfer(s): 0 sanctions hit(s)" in text
        assert "web3 imported: False aiohttp imported: False" in text
        with sqlite3.connect(db_file) as conn:
            assert conn.execute("SELECT COUNT(*) FROM transfer").fetchone() == (12,)
            events = conn.execute("SELECT COUNT(*) FROM event WHERE kind = 'transfer.new'").fetchone()
        assert events == (12,)


class TestBackfillInput:
    async def test_start_above_the_tip_is_a_clear_error(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """A backfill asked to start above the tip says so and stores no progress."""
        import pytest

        from watchers.errors import WatcherError

        await add_wallet(db, fresh_address(63))
        with pytest.raises(WatcherError, match="start block 500 is above the node's tip 0"):
            await make_watcher().backfill(500)
