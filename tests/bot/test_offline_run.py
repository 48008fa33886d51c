"""`donation-watch run` with every chain source unreachable: the operator hears it once per chain, not per attempt."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.runner import Runner
from ledger.database import Database
from tests.bot.test_runner import ScriptedWatcher, _wallet

ROOT = Path(__file__).resolve().parents[2]
DEAD = "http://127.0.0.1:9"  # the discard port: nothing listens, connections are refused at once


def offline_config(tmp_path: Path) -> Path:
    path = tmp_path / "offline.toml"
    path.write_text(f"""
data_dir = "{tmp_path / 'data'}"
stop_seconds = 2
[database]
url = "sqlite+aiosqlite:///{tmp_path / 'dw.db'}"
[http]
port = 0
[screening]
ofac_url = "{DEAD}/SDN_ADVANCED.XML"
[chains.bitcoin]
kind = "bitcoin"
esplora_urls = ["{DEAD}/one/api", "{DEAD}/two/api"]
poll_seconds = 0.5
[chains.ethereum]
kind = "evm"
chain_id = 1
rpc_urls = ["{DEAD}/one", "{DEAD}/two"]
poll_seconds = 0.5
[[wallets]]
chain = "bitcoin"
address = "357a3So9CbsNfBBgFYACGvxxS6tMaDoa1P"
[[wallets]]
chain = "ethereum"
address = "0x165CD37b4C644C2921454429E7F9358d18A45e14"
""")
    return path


class TestOfflineRun:
    def test_unreachable_sources_are_told_once_per_chain(self, tmp_path: Path) -> None:
        """Several polls of two chains whose two sources each refuse: one warning per chain on stderr, no per-attempt lines."""
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(offline_config(tmp_path)), "run"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        time.sleep(12)  # enough for several polls of each chain, each retrying every source four times
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        about_chains = [line for line in err.splitlines() if "127.0.0.1:9" in line and "SDN_ADVANCED" not in line]
        assert len(about_chains) == 2, err
        assert sum("chain=bitcoin: poll failed" in line for line in about_chains) == 1
        assert sum("chain=ethereum: poll failed" in line for line in about_chains) == 1
        assert all("said again when a poll works" in line for line in about_chains)


class TestStreakLines:
    async def test_a_failing_streak_is_told_once_and_its_end_once(self, db: Database, caplog: pytest.LogCaptureFixture) -> None:
        """Three failed scheduled polls then a good one: one warning when it starts, one info line when it ends."""
        caplog.set_level(logging.INFO, logger="bot.runner")
        runner = Runner(db)
        runner.add_watcher(ScriptedWatcher(db, await _wallet(db), ["fail", "fail", "fail", "store"]), 60)  # type: ignore[arg-type]
        job = runner.scheduler.get_job("watch:ethereum").func
        for _ in range(4):
            runner.health["ethereum"].skip = 0  # the back-off's skipped runs, left out
            await job()
        lines = [f"{r.levelname} {r.getMessage()}" for r in caplog.records]
        assert lines == [
            "WARNING chain=ethereum: poll failed: http://node: HTTP 503: busy (retrying with back-off; said again when a poll works)",
            "INFO chain=ethereum: polls work again after 3 failed",
        ]
