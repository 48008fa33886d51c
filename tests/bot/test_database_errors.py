"""A database the bot cannot use (no such PostgreSQL database or role, a damaged SQLite file) is one line, exit 2."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PG_ADMIN_URL

ROOT = Path(__file__).resolve().parents[2]


def run_cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The bot's own command line as a process, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), *args],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120,
    )


def write_config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "dw.toml"
    path.write_text(f'[database]\nurl = "{url}"\n')
    return path


def assert_one_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    return proc.stderr


def corrupt_pages(path: Path, first: int, last: int, page_size: int = 4096) -> None:
    """Overwrite pages FIRST..LAST (1-based) of a SQLite file with garbage after their 8-byte header."""
    with path.open("r+b") as f:
        for page in range(first, last + 1):
            f.seek((page - 1) * page_size + 8)
            f.write(bytes((i * 37 + 11) % 256 for i in range(page_size - 96)))


@pytest.mark.postgres
class TestPostgresRefusals:
    def _server(self, pg_url: str) -> str:
        return PG_ADMIN_URL.rsplit("/", 1)[0]

    def test_missing_database_names_the_url_and_createdb(self, tmp_path: Path, pg_url: str) -> None:
        """A database that does not exist on the server is one line naming the URL and `createdb NAME`."""
        url = f"{self._server(pg_url)}/dw_guards_no_such_db"
        err = assert_one_line(run_cli(write_config(tmp_path, url), "totals"))
        assert err.startswith(f"error: database {url}: cannot connect (")
        assert 'database "dw_guards_no_such_db" does not exist' in err and "createdb" in err and "dw_guards_no_such_db`" in err

    def test_missing_role_names_createuser_and_hides_the_password(self, tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
        """A role that does not exist is one line with the fix, and the password never shows."""
        base = self._server(pg_url).replace("postgres@", "dw_guards_nobody@")
        monkeypatch.setenv("DONATION_WATCH_DATABASE__PASSWORD", "hunter2")
        err = assert_one_line(run_cli(write_config(tmp_path, f"{base}/postgres"), "sanctions", "status"))
        assert 'role "dw_guards_nobody" does not exist' in err and "createuser" in err
        assert "hunter2" not in err


class TestDamagedSqlite:
    @pytest.fixture
    def damaged(self, tmp_path: Path, sqlite_template: Path) -> Path:
        """A migrated ledger holding the bundled OFAC list, with pages of its entry table overwritten."""
        path = tmp_path / "dw.db"
        shutil.copy(sqlite_template, path)
        config = write_config(tmp_path, f"sqlite+aiosqlite:///{path}")
        assert run_cli(config, "sanctions", "status").returncode == 0  # stores 689 list entries
        corrupt_pages(path, 45, 60)
        return config

    @pytest.mark.parametrize("command", [("totals",), ("sanctions", "status"), ("check-config",), ("run",)])
    def test_commands_refuse_a_damaged_ledger(self, damaged: Path, command: tuple[str, ...]) -> None:
        """Every command refuses a file with corrupt pages in one line that says how to restore."""
        err = assert_one_line(run_cli(damaged, *command))
        assert "is damaged (" in err and ".backup" in err and ".recover" in err

    def test_a_sound_file_passes(self, tmp_path: Path, sqlite_template: Path) -> None:
        """The check does not get in the way of a sound ledger."""
        path = tmp_path / "dw.db"
        shutil.copy(sqlite_template, path)
        proc = run_cli(write_config(tmp_path, f"sqlite+aiosqlite:///{path}"), "totals")
        assert proc.returncode == 0 and "no donations recorded yet" in proc.stdout
