"""Running the bot's own CLI as a separate process, as an operator would."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


async def start_bot(config: Path, *args: str) -> asyncio.subprocess.Process:
    """Start `python -m bot --config CONFIG ARGS...` with piped stdout and stderr."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), *args,
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


async def run_bot(config: Path, *args: str, timeout: float = 120) -> tuple[int, str, str]:
    """Run the bot to completion; returns (exit status, stdout, stderr)."""
    proc = await start_bot(config, *args)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=timeout)
    return proc.returncode or 0, out.decode(), err.decode()


def polled(ledger: Path, chain: str) -> bool:
    """Whether a running bot on the SQLite ledger at `ledger` has made a good poll of `chain` (its row in chain_poll)."""
    import sqlite3

    if not ledger.exists():
        return False
    try:
        with sqlite3.connect(ledger) as db:
            return db.execute("SELECT 1 FROM chain_poll WHERE chain = ?", (chain,)).fetchone() is not None
    except sqlite3.OperationalError:  # not migrated yet
        return False
