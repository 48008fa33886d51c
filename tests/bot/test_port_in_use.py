"""`run` on a port another program holds: one config error naming the file (or variable) and key, exit 2."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port another program listens on."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield held.getsockname()[1]


def run_bot(path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(path), "run"],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **env}, timeout=120,
    )


def write_config(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "bot.toml"
    path.write_text(f'data_dir = "{tmp_path / "data"}"\n[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "dw.db"}"\n'
                    f"[http]\nport = {port}\n")
    return path


class TestPortInUse:
    def test_the_file_and_key_are_named(self, tmp_path: Path, busy_port: int) -> None:
        """http.port taken by another program: exit 2 and `error: FILE: http.port: ...` with the fix, no traceback."""
        path = write_config(tmp_path, busy_port)
        proc = run_bot(path)
        assert proc.returncode == 2, proc.stderr
        [line] = [line for line in proc.stderr.splitlines() if " INFO " not in line and " WARNING " not in line]
        assert line == (f"error: {path}: http.port: cannot listen on 127.0.0.1:{busy_port} (another program listens there); "
                        "choose a free port or set http.enabled = false")

    def test_a_port_from_the_environment_names_the_variable(self, tmp_path: Path, busy_port: int) -> None:
        """The port set by DONATION_WATCH_HTTP__PORT is blamed on that variable, not on the file."""
        proc = run_bot(write_config(tmp_path, 0), DONATION_WATCH_HTTP__PORT=str(busy_port))
        assert proc.returncode == 2, proc.stderr
        assert f"error: environment variable DONATION_WATCH_HTTP__PORT: http.port: cannot listen on 127.0.0.1:{busy_port}" in proc.stderr
