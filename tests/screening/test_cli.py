"""`donation-watch sanctions update|status|check` on a SQLite ledger, offline."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from tests.screening.conftest import EXCERPT_0304, EXCERPT_0321, KHORASHADIZADEH_XBT, tornado_addresses


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'data_dir = "{tmp_path}/data"\n[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/data/ledger.db"\n'
        '[screening]\nofac_url = "http://127.0.0.1:9/SDN_ADVANCED.XML"\ndownload_timeout_seconds = 2\n'
    )
    return path


def _run(config: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--config", str(config), "sanctions", *args], catch_exceptions=False)


class TestSanctionsCommands:
    def test_status_on_first_start_reports_the_bundled_snapshot(self, config: Path) -> None:
        """With nothing stored, status says the bundled snapshot of 2025-11-19 is in force."""
        result = _run(config, "status")
        assert result.exit_code == 0 and "in force: bundled snapshot of 2025-11-19" in result.output
        assert "hits: 0 active, 0 delisted" in result.output

    def test_failed_download_says_what_stays_in_force(self, config: Path) -> None:
        """An update with no network exits 1 and names the version kept."""
        result = _run(config, "update")
        assert result.exit_code == 1
        assert "update FAILED" in result.output and "still in force: ofac-sdn of 2025-11-19" in result.output

    def test_update_from_file_then_check(self, config: Path) -> None:
        """--file loads a local XML; check then prints the hit, or "not listed in" the list and date."""
        # The bundled snapshot of 2025-11-19 is in force: the March file goes in only with --force.
        assert _run(config, "update", "--file", str(EXCERPT_0304), "--force").exit_code == 0
        result = _run(config, "update", "--file", str(EXCERPT_0321))
        assert result.exit_code == 0 and "+0 -90 addresses" in result.output
        hit = _run(config, "check", KHORASHADIZADEH_XBT)
        assert hit.exit_code == 0 and "LISTED on ofac-sdn of 2025-03-21" in hit.output and "CYBER2" in hit.output
        miss = _run(config, "check", tornado_addresses()[0])
        assert miss.exit_code == 0 and "not listed in ofac-sdn of 2025-03-21" in miss.output

    def test_invalid_address_exits_2(self, config: Path) -> None:
        """check on something that is no address exits 2 with the reason."""
        result = _run(config, "check", "0x12")
        assert result.exit_code == 2 and "0x + 40 hex digits" in result.output
