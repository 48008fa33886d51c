"""A failure is said once in each place a person reads it: the command's output, or the bot's log."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app import App
from bot.runner import JobHealth, run_guarded
from ledger.database import Database
from tests.bot.test_app import settings_for
from tests.bot.test_cli import config

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE_OFAC = "http://127.0.0.1:9/SDN_ADVANCED.XML"


def run_cli(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The bot's own command line as a process, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(path), *args],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120,
    )


class TestListUpdateFailure:
    def test_sanctions_update_says_the_failure_on_stdout_only(self, tmp_path: Path) -> None:
        """`sanctions update` with OFAC unreachable prints one FAILED line and logs nothing more about it."""
        path = config(tmp_path, extra=f'[screening]\nofac_url = "{UNREACHABLE_OFAC}"\ndownload_timeout_seconds = 2\n')
        proc = run_cli(path, "sanctions", "update")
        assert proc.returncode == 1
        [line] = [line for line in proc.stdout.splitlines() if "cannot download" in line]
        assert line.startswith("ofac-sdn: update FAILED: ")
        assert "cannot download" not in proc.stderr and "update_failed" not in proc.stderr, proc.stderr

    async def test_the_scheduled_update_logs_the_failure_once(self, db: Database, tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
        """The bot's sanctions:update job with OFAC unreachable leaves one log line about it, the runner's."""
        settings = settings_for(db, tmp_path)
        settings.screening.ofac_url = UNREACHABLE_OFAC
        settings.screening.download_timeout_seconds = 2
        caplog.set_level(logging.INFO)
        async with await App.open(settings) as app:
            await app.setup()
            job = next(j for j in app.jobs if j.name == "sanctions:update")
            assert not await run_guarded("job sanctions:update", job.fn, JobHealth())
        said = [r for r in caplog.records if "cannot download" in r.getMessage() or "update_failed" in r.getMessage()]
        assert [(r.name, r.levelno) for r in said] == [("bot.runner", logging.ERROR)]
