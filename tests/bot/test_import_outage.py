"""`import` while the chain's sources are down: exit 1 with one line saying what failed, that nothing is
lost, and how to go on; running it again resumes the import instead of starting it over."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ledger.database import Database
from ledger.history_tables import WalletImport
from tests.bot.test_said_once import run_cli
from tests.bot.test_cli import config, run

ETH = "0x165CD37b4C644C2921454429E7F9358d18A45e14"


async def _pretend_progress(url: str, done_height: int, stored: int) -> None:
    """What an import that got somewhere before the outage leaves behind."""
    db = await Database.open(url, upgrade=False)
    try:
        async with db.session() as s:
            row = await s.get(WalletImport, 1)
            assert row is not None
            row.done_height, row.stored = done_height, stored
    finally:
        await db.close()


async def _done_height(url: str) -> int | None:
    db = await Database.open(url, upgrade=False)
    try:
        async with db.session() as s:
            row = await s.get(WalletImport, 1)
            return row.done_height if row is not None else None
    finally:
        await db.close()


class TestImportOutage:
    def test_an_outage_is_exit_1_and_one_line(self, tmp_path: Path) -> None:
        """With every RPC URL refusing, `import` exits 1 with one error line and no warnings or traceback."""
        proc = run_cli(config(tmp_path), "import", "ethereum", ETH)
        assert proc.returncode == 1, proc.stderr
        errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
        assert errors == [line for line in proc.stderr.splitlines() if " INFO " not in line], proc.stderr
        [line] = errors
        assert line.startswith(f"error: import ethereum {ETH} stopped: the chain's sources did not answer (http://127.0.0.1:9")
        assert "nothing is lost (0 transfers stored so far are kept)" in line and "run the same command again to resume" in line

    def test_running_it_again_resumes_where_it_stopped(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A second `import` after an outage keeps the progress made (and says so) instead of starting over."""
        path = str(config(tmp_path))
        url = f"sqlite+aiosqlite:///{tmp_path / 'dw.db'}"
        assert run(capsys, "--config", path, "import", "ethereum", ETH)[0] == 1
        asyncio.run(_pretend_progress(url, 18_000_000, 5))
        code, _, err = run(capsys, "--config", path, "import", "ethereum", ETH)
        assert code == 1 and "nothing is lost (5 transfers stored so far are kept)" in err
        assert asyncio.run(_done_height(url)) == 18_000_000
