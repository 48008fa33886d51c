"""The whole bot, as an operator runs it, against a local Esplora server: a donation from a
real OFAC-listed address is stored, shown on the console, flagged as a sanctions hit, and counted."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.esplora import EsploraFake, fake_address, make_tx

ROOT = Path(__file__).resolve().parents[2]
OFAC_XBT = ROOT / "tests" / "data" / "sanctions" / "ofac_sdn_2025-11-19" / "sanctioned_addresses_XBT.txt"
WATCHED = "357a3So9CbsNfBBgFYACGvxxS6tMaDoa1P"


async def bot(config: Path, *args: str) -> tuple[int, str, str]:
    """Run `python -m bot --config CONFIG ARGS...` as a separate process; returns (status, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), *args,
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    return proc.returncode or 0, out.decode(), err.decode()


@pytest.fixture
async def esplora() -> AsyncIterator[EsploraFake]:
    server = EsploraFake()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def write_config(tmp_path: Path, esplora_url: str) -> Path:
    path = tmp_path / "bot.toml"
    path.write_text(f"""
data_dir = "{tmp_path / 'data'}"

[database]
url = "sqlite+aiosqlite:///{tmp_path / 'data' / 'ledger.db'}"

[chains.bitcoin]
kind = "bitcoin"
esplora_urls = ["{esplora_url}"]
requests_per_second = 100.0
timeout_seconds = 5

[[wallets]]
chain = "bitcoin"
address = "{WATCHED}"
label = "Relief fund (BTC)"

[screening]
ofac_url = "http://127.0.0.1:9/unreachable"
""")
    return path


class TestBitcoinEndToEnd:
    async def test_listed_donor_is_stored_announced_and_flagged(self, tmp_path: Path, esplora: EsploraFake) -> None:
        """poll --once stores the donation, prints it and a SANCTIONS HIT for the listed sender; totals count it."""
        listed = next(line.strip() for line in OFAC_XBT.read_text().splitlines() if line.strip())
        donation = make_tx([(listed, 60_000_000)], [(WATCHED, 50_000_000), (fake_address(1), 9_990_000)])
        esplora.add_tx(donation)
        esplora.mine()
        config = write_config(tmp_path, esplora.url)

        status, out, err = await bot(config, "poll", "--once")
        assert status == 0, err
        assert "bitcoin: 1 new" in out
        assert f"new donation: 0.5 BTC to Relief fund (BTC) from {listed}" in out
        assert f"SANCTIONS HIT: sender {listed} of 0.5 BTC to Relief fund (BTC) is listed" in out

        status, out, _ = await bot(config, "totals")
        assert status == 0 and "Relief fund (BTC)" in out and "0.5" in out and "unique senders: 1" in out

        status, again, _ = await bot(config, "poll", "--once")
        assert status == 0 and "bitcoin: 0 new" in again and "SANCTIONS HIT" not in again

    async def test_unreachable_source_fails_the_poll_without_a_traceback(self, tmp_path: Path) -> None:
        """With the Esplora server down, poll --once reports the failure in one line and exits 1."""
        config = write_config(tmp_path, "http://127.0.0.1:9/api")
        status, out, err = await bot(config, "poll", "--once")
        assert status == 1
        assert "bitcoin:" in out and "FAILED" in out
        assert "Traceback" not in err
