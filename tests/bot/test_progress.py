"""The progress bar of `import` (and `backfill`): drawn on a terminal from the first page, log lines above
it, and nothing at all when the output goes to a pipe or a log."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
import fcntl
import os
import struct
import subprocess
import sys
import termios
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.esplora import EsploraFake, fake_address, make_tx
from tests.fakes.prices import PriceFake, valuation_toml

ROOT = Path(__file__).resolve().parents[2]
WALLET = fake_address(21)


@pytest.fixture
async def esplora() -> AsyncIterator[EsploraFake]:
    """A fake Esplora where WALLET has 60 past transactions (three pages)."""
    fake = EsploraFake()
    await fake.start()
    for i in range(60):
        fake.add_tx(make_tx([(fake_address(3_000 + i), 50_000)], [(WALLET, 10_000 + i)]))
        if i % 20 == 19:
            fake.mine()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def prices() -> AsyncIterator[PriceFake]:
    """The price fake the import values what it stored against (no request leaves the machine)."""
    fake = PriceFake(datetime.now(timezone.utc))
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


def _config(tmp: Path, url: str, prices: PriceFake) -> Path:
    path = tmp / "c.toml"
    path.write_text(f'data_dir = "{tmp}"\n[database]\nurl = "sqlite+aiosqlite:///{tmp / "l.db"}"\n'
                    f'[chains.btc]\nkind = "bitcoin"\nesplora_urls = ["{url}"]\nrequests_per_second = 100\n'
                    + valuation_toml(prices.url))
    return path


def _outcome_ok(line: str) -> bool:
    """The import's last line: all 60 stored, valued, complete."""
    return line.startswith("import btc ") and ": 60 transfers stored as history: " in line and line.endswith(" at arrival; history complete")


def _command(config: Path) -> list[str]:
    return [sys.executable, "-m", "bot", "--config", str(config), "import", "btc", WALLET]


class TestImportProgress:
    async def test_a_terminal_gets_a_bar_from_the_first_page_with_logs_after_it(self, tmp_path: Path, esplora: EsploraFake, prices: PriceFake) -> None:
        """On a terminal the bar starts at 0/60, ends at 60/60 with the stored count, and no log line breaks into it."""
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
        done = await asyncio.create_subprocess_exec(*_command(_config(tmp_path, esplora.url, prices)), cwd=ROOT,
                                                    stdin=slave, stdout=slave, stderr=slave)
        os.close(slave)

        def drain() -> bytes:
            out = bytearray()
            while True:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the other end closed
                    return bytes(out)
                if not chunk:
                    return bytes(out)
                out.extend(chunk)

        reader = asyncio.get_running_loop().run_in_executor(None, drain)
        assert await done.wait() == 0
        text = (await reader).decode(errors="replace")
        os.close(master)
        assert "import btc:   0%" in text and "0/60" in text
        bar_end = text.index("60/60")
        assert "stored=60" in text[bar_end:].splitlines()[0]
        assert " INFO " not in text[text.index("import btc:"):bar_end]  # the logs come after the bar, not through it
        assert _outcome_ok(text.rstrip().splitlines()[-1])

    async def test_a_pipe_gets_no_bar(self, tmp_path: Path, esplora: EsploraFake, prices: PriceFake) -> None:
        """With stderr not a terminal there is no bar (no carriage returns in a log), only the outcome."""
        done = await asyncio.create_subprocess_exec(*_command(_config(tmp_path, esplora.url, prices)), cwd=ROOT,
                                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await done.communicate()
        assert done.returncode == 0, err.decode()[-2000:]
        assert "\r" not in err.decode() and "%|" not in err.decode()
        assert _outcome_ok(out.decode().splitlines()[-1])
