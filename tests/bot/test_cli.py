"""The command line: each command's output, and operator errors as one line with exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]


def config(tmp_path: Path, db_url: str | None = None, extra: str = "") -> Path:
    url = db_url or f"sqlite+aiosqlite:///{tmp_path / 'dw.db'}"
    text = f"""
[database]
url = "{url}"

[chains.bitcoin]
kind = "bitcoin"
esplora_urls = ["http://127.0.0.1:9/api"]

[chains.ethereum]
kind = "evm"
chain_id = 1
rpc_urls = ["http://127.0.0.1:9"]

[[wallets]]
chain = "ethereum"
address = "0x165CD37b4C644C2921454429E7F9358d18A45e14"
label = "Ukraine"
{extra}
"""
    path = tmp_path / "dw.toml"
    path.write_text(text)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


class TestCheckConfig:
    def test_good_file_lists_what_it_watches(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """check-config prints OK, the chains, the wallets and that the database is reachable."""
        code, out, _ = run(capsys, "check-config", str(config(tmp_path)))
        assert code == 0
        assert "OK" in out and "wallet ethereum 0x165CD37b4C644C2921454429E7F9358d18A45e14 Ukraine" in out
        assert "(reachable)" in out and "no token (set DONATION_WATCH_DISCORD__TOKEN): every message goes to the console" in out

    def test_a_bitcoin_poll_longer_than_its_interval_is_warned_about(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """One address at 0.01 requests/s takes 100 s, longer than a 60 s poll: check-config says so and what to change."""
        path = config(tmp_path, extra='[[wallets]]\nchain = "bitcoin"\naddress = "357a3So9CbsNfBBgFYACGvxxS6tMaDoa1P"\n')
        path.write_text(path.read_text().replace('esplora_urls = ["http://127.0.0.1:9/api"]',
                                                 'esplora_urls = ["http://127.0.0.1:9/api"]\nrequests_per_second = 0.01'))
        code, out, _ = run(capsys, "check-config", str(path))
        assert code == 0
        warning = [line for line in out.splitlines() if "warning:" in line]
        assert len(warning) == 1
        assert "chains.bitcoin: 1 addresses" in warning[0] and "take 100 s" in warning[0]
        assert "poll_seconds = 60" in warning[0] and "raise requests_per_second" in warning[0]

    def test_a_poll_within_its_interval_gets_no_warning(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """At the default 2 requests/s one Bitcoin address is far within the interval: no warning."""
        path = config(tmp_path, extra='[[wallets]]\nchain = "bitcoin"\naddress = "357a3So9CbsNfBBgFYACGvxxS6tMaDoa1P"\n')
        code, out, _ = run(capsys, "check-config", str(path))
        assert code == 0 and "warning:" not in out

    def test_bad_address_is_one_line_and_exit_2(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A bad address exits 2 with one line naming file, key and value."""
        path = config(tmp_path, extra='[[wallets]]\nchain = "ethereum"\naddress = "0x12"\n')
        code, out, err = run(capsys, "check-config", str(path))
        assert code == 2 and out == ""
        assert err == f'error: {path}: wallets[1].address: "0x12" is not an Ethereum address (0x + 40 hex digits)\n'

    def test_unreachable_database_is_its_own_message(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A database that cannot be reached is named (password hidden) with the reason, exit 2."""
        path = config(tmp_path, db_url="postgresql+asyncpg://postgres@127.0.0.1:9/nowhere")
        code, _, err = run(capsys, "check-config", str(path))
        assert code == 2
        assert err.startswith("error: database postgresql+asyncpg://postgres@127.0.0.1:9/nowhere: cannot connect (")
        assert err.count("\n") == 1

    def test_unreachable_database_prints_no_ok_first(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A file that validates but whose database cannot be reached is not called OK on stdout."""
        code, out, _ = run(capsys, "check-config", str(config(tmp_path, db_url="postgresql+asyncpg://postgres@127.0.0.1:9/nowhere")))
        assert code == 2 and out == ""

    def test_a_file_with_no_chains_is_warned_about(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """An empty file is valid, but check-config says that nothing would be watched."""
        path = tmp_path / "empty.toml"
        path.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "dw.db"}"\n')
        code, out, _ = run(capsys, "check-config", str(path))
        assert code == 0 and "  warning: no [chains.NAME] table: nothing is watched (see config/example.toml)" in out.splitlines()

    def test_no_traceback_from_the_real_command(self, tmp_path: Path) -> None:
        """The installed entry point prints no traceback for a missing file."""
        proc = subprocess.run(
            [sys.executable, "-m", "bot", "check-config", str(tmp_path / "missing.toml")],
            capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60,
        )
        assert proc.returncode == 2
        assert proc.stderr.strip().endswith("missing.toml: no such file (copy config/example.toml and edit it)")
        assert "Traceback" not in proc.stderr


class TestWalletsAndTotals:
    def test_add_list_remove(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """wallets add validates and canonicalises, list shows it, remove retires it."""
        path = str(config(tmp_path))
        code, out, _ = run(capsys, "--config", path, "wallets", "add", "bitcoin", "BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ", "--label", "Fund")
        assert code == 0 and out.strip() == "added: bitcoin bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
        code, out, _ = run(capsys, "--config", path, "wallets", "list")
        assert "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq" in out and "0x165CD37b4C644C2921454429E7F9358d18A45e14" in out
        code, out, _ = run(capsys, "--config", path, "wallets", "remove", "bitcoin", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")
        assert code == 0 and out.startswith("retired:")
        _, out, _ = run(capsys, "--config", path, "wallets", "list")
        assert "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq" not in out

    def test_add_invalid_address_says_why(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """wallets add with a bad address exits 2 and names the address and the expected form."""
        code, _, err = run(capsys, "--config", str(config(tmp_path)), "wallets", "add", "ethereum", "0x12")
        assert code == 2 and 'ADDRESS: "0x12" is not an Ethereum address (0x + 40 hex digits)' in err

    def test_remove_a_wallet_of_the_file_is_refused(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """Removing a wallet the config file lists says to remove it from the file as well."""
        code, _, err = run(capsys, "--config", str(config(tmp_path)), "wallets", "remove", "ethereum", "0x165cd37b4c644c2921454429e7f9358d18a45e14")
        assert code == 2 and "is listed in the file" in err

    def test_totals_with_no_donations(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """totals on an empty ledger says so."""
        code, out, _ = run(capsys, "--config", str(config(tmp_path)), "totals")
        assert code == 0 and out.strip() == "no donations recorded yet"

    def test_db_upgrade_reports_the_revision(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """db upgrade migrates and prints the revision reached."""
        code, out, _ = run(capsys, "--config", str(config(tmp_path)), "db", "upgrade")
        assert code == 0 and "is at revision" in out


class TestCheckConfigDiscord:
    def test_says_what_is_missing_for_discord(self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
        """With a token but no guild or operator role, check-config says what is lost without each."""
        monkeypatch.setenv("DONATION_WATCH_DISCORD__TOKEN", "t0ken")
        code, out, _ = run(capsys, "check-config", str(config(tmp_path, extra="[discord]\nalerts_channel_id = 5\n")))
        assert code == 0
        assert "discord.guild_id is not set: slash commands are synced globally" in out
        assert "discord.alerts_channel_id = 5" in out
        assert "discord.operator_role_id is not set: only members with Manage Server" in out
        assert "t0ken" not in out
