"""`donation-watch export`: CSV and JSON that round-trip to the ledger's rows, with date bounds."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import sys
from decimal import Decimal
from pathlib import Path

from bot.export import FIELDS, JOINER, decimal_text
from ledger.database import Database
from tests.bot.web import seed

ROOT = Path(__file__).resolve().parents[3]


async def export(db: Database, tmp_path: Path, *args: str) -> str:
    """Run the real CLI as a process against ``db`` and return its stdout."""
    url = db.url.render_as_string(hide_password=False)
    cfg = tmp_path / "dw.toml"
    cfg.write_text(f'[database]\nurl = "{url}"\n')
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(cfg), "export", *args, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


class TestCsv:
    async def test_round_trips_to_the_ledger(self, db: Database, tmp_path: Path) -> None:
        """Every seeded donation comes back from the CSV with its exact amount, senders, status and screening."""
        await seed.seed(db, seed.settings())
        rows = list(csv.DictReader(io.StringIO(await export(db, tmp_path, "--format", "csv"))))
        assert tuple(rows[0].keys()) == FIELDS
        assert len(rows) == len(seed.DONATIONS)
        for row, (chain, asset, decimals, amount, status, senders, _days) in zip(rows, seed.DONATIONS):
            assert (row["chain"], row["asset"], int(row["decimals"]), int(row["amount"]), row["status"]) == (
                chain, asset, decimals, amount, status)
            assert row["amount_decimal"] == decimal_text(amount, decimals)
            assert tuple(row["senders"].split(JOINER)) == tuple(sorted(senders))
        assert [r["screening"] for r in rows] == ["clear"] * 4 + ["listed", "clear"]
        assert rows[4]["list_versions"].startswith("ofac-sdn#")
        assert rows[0]["date"] == "2026-11-01T12:00:00Z" and rows[0]["wallet"] == seed.BTC_ADDRESS
        assert (rows[0]["fiat_value"], rows[0]["fiat_currency"], rows[0]["fiat_source"]) == ("90000.00000000", "USD", "coinbase")
        assert rows[2]["fiat_value"] == "" and Decimal(rows[4]["fiat_value"]) == Decimal("250.025")

    async def test_since_and_until_are_inclusive_days(self, db: Database, tmp_path: Path) -> None:
        """--since 2026-11-02 --until 2026-11-06 gives the donations of Nov 2, 4 and 6."""
        await seed.seed(db, seed.settings())
        rows = list(csv.DictReader(io.StringIO(await export(db, tmp_path, "--since", "2026-11-02", "--until", "2026-11-06"))))
        assert sorted(r["date"][:10] for r in rows) == ["2026-11-02", "2026-11-04", "2026-11-06"]


class TestJson:
    async def test_is_one_array_with_the_same_rows(self, db: Database, tmp_path: Path) -> None:
        """The JSON export parses as an array of objects with every field; amounts are strings."""
        await seed.seed(db, seed.settings())
        data = json.loads(await export(db, tmp_path, "--format", "json"))
        assert len(data) == len(seed.DONATIONS) and tuple(data[0]) == FIELDS
        assert data[3]["amount"] == str(2 * 10**18) and data[1]["senders"] == ["bc1qdonor2", "bc1qdonor3"]

    async def test_empty_ledger_is_an_empty_array(self, db: Database, tmp_path: Path) -> None:
        """With no donations the JSON export is []."""
        assert json.loads(await export(db, tmp_path, "--format", "json")) == []
