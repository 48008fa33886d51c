"""Operator mistakes in settings and on the command line: one line that says exactly what is wrong and what was done."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.errors import ConfigError
from bot.settings import load_settings
from tests.bot.test_cli import config, run

ROOT = Path(__file__).resolve().parents[2]
BASE = """
[chains.bitcoin]
kind = "bitcoin"
esplora_urls = ["http://127.0.0.1:1/api"]

[chains.ethereum]
kind = "evm"
chain_id = 1
rpc_urls = ["http://127.0.0.1:1"]
"""
ETH = "0x165CD37b4C644C2921454429E7F9358d18A45e14"
BTC_TESTNET_BECH32 = "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"  # BIP-173's testnet example
BTC_TESTNET_BASE58 = "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn"


def error_of(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bot.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    return str(info.value)


def wallet(chain: str, address: str) -> str:
    return f'[[wallets]]\nchain = "{chain}"\naddress = "{address}"\n'


class TestSourceUrls:
    def test_esplora_url_without_scheme(self, tmp_path: Path) -> None:
        """An Esplora URL without http(s):// is refused at load time, naming the key and the form."""
        msg = error_of(tmp_path, BASE.replace('"http://127.0.0.1:1/api"', '"mempool.space/api"'))
        assert 'chains.bitcoin.esplora_urls[0]: "mempool.space/api" is not an http(s) URL (write it as https://HOST/PATH)' in msg

    def test_rpc_url_without_scheme(self, tmp_path: Path) -> None:
        """An RPC URL like 127.0.0.1:8545 is refused the same way."""
        msg = error_of(tmp_path, BASE.replace('["http://127.0.0.1:1"]', '["http://127.0.0.1:1", "127.0.0.1:8545"]'))
        assert 'chains.ethereum.rpc_urls[1]: "127.0.0.1:8545" is not an http(s) URL' in msg


class TestBitcoinNetwork:
    def test_testnet_bech32_on_mainnet_names_the_network_key(self, tmp_path: Path) -> None:
        """A tb1 address on a mainnet chain says it is a testnet address and names the network key."""
        msg = error_of(tmp_path, BASE + wallet("bitcoin", BTC_TESTNET_BECH32))
        assert "it is a Bitcoin testnet address, and this chain watches mainnet" in msg
        assert 'set network = "testnet" on the chain' in msg and "substring not found" not in msg

    def test_testnet_base58_on_mainnet(self, tmp_path: Path) -> None:
        """An m/n-address (testnet P2PKH) on mainnet is named as testnet/regtest."""
        assert "it is a Bitcoin testnet/regtest address" in error_of(tmp_path, BASE + wallet("bitcoin", BTC_TESTNET_BASE58))

    def test_mainnet_address_on_a_testnet_chain(self, tmp_path: Path) -> None:
        """The other way round names mainnet."""
        text = BASE.replace('kind = "bitcoin"', 'kind = "bitcoin"\nnetwork = "testnet"') + wallet("bitcoin", "357a3So9CbsNfBBgFYACGvxxS6tMaDoa1P")
        assert 'it is a Bitcoin mainnet address, and this chain watches testnet' in error_of(tmp_path, text)


class TestConfirmations:
    def test_negative_evm_confirmations(self, tmp_path: Path) -> None:
        """confirmations = -3 on an EVM chain says: a block count ≥ 1 or "finalized" (not a pydantic literal)."""
        msg = error_of(tmp_path, BASE.replace("chain_id = 1", "chain_id = 1\nconfirmations = -3"))
        assert msg.endswith('chains.ethereum.confirmations: -3 must be a block count ≥ 1 or "finalized"')

    def test_zero_bitcoin_confirmations(self, tmp_path: Path) -> None:
        """A Bitcoin chain's confirmations must be a block count ≥ 1."""
        msg = error_of(tmp_path, BASE.replace('kind = "bitcoin"', 'kind = "bitcoin"\nconfirmations = 0'))
        assert msg.endswith("chains.bitcoin.confirmations: 0 must be a block count ≥ 1")


class TestMisspeltKey:
    def test_misspelt_required_key_is_named_first(self, tmp_path: Path) -> None:
        """esplora_url (for esplora_urls) is reported as the unknown key, with the right spelling, not as another key missing."""
        msg = error_of(tmp_path, BASE.replace("esplora_urls", "esplora_url"))
        assert msg.endswith('chains.bitcoin.esplora_url: unknown key; did you mean "esplora_urls"? (it is required)')


    def test_misspelt_optional_key_in_a_chain_gets_the_right_spelling(self, tmp_path: Path) -> None:
        """pol_seconds (an optional key, so nothing is "missing") is named with the key it probably meant."""
        msg = error_of(tmp_path, BASE.replace('kind = "bitcoin"', 'kind = "bitcoin"\npol_seconds = 30'))
        assert msg.endswith('chains.bitcoin.pol_seconds: unknown key; did you mean "poll_seconds"?')

    def test_misspelt_section_gets_the_right_spelling(self, tmp_path: Path) -> None:
        """A misspelt top-level table ([databse]) is named with the table it probably meant."""
        msg = error_of(tmp_path, BASE + '[databse]\nurl = "sqlite+aiosqlite:///x.db"\n')
        assert msg.endswith('databse: unknown key; did you mean "database"?')

    def test_misspelt_key_of_a_wallet_gets_the_right_spelling(self, tmp_path: Path) -> None:
        """lable in a [[wallets]] entry is named with its index and the key it probably meant."""
        msg = error_of(tmp_path, BASE + f'[[wallets]]\nchain = "ethereum"\naddress = "{ETH}"\nlable = "Fund"\n')
        assert msg.endswith('wallets[0].lable: unknown key; did you mean "label"?')

    def test_unknown_key_like_no_other_keeps_the_general_hint(self, tmp_path: Path) -> None:
        """A key resembling none of its table's keys is sent to the example file."""
        msg = error_of(tmp_path, BASE + "[page]\nzzzzzz = 1\n")
        assert msg.endswith("page.zzzzzz: unknown key (check the spelling against config/example.toml)")


class TestEnvironmentOverrides:
    def test_bad_override_names_the_variable_not_the_file(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A bad value from DONATION_WATCH_CHAINS__BITCOIN__CONFIRMATIONS is blamed on that variable."""
        monkeypatch.setenv("DONATION_WATCH_CHAINS__BITCOIN__CONFIRMATIONS", "-1")
        msg = error_of(tmp_path, BASE)
        assert msg.startswith("environment variable DONATION_WATCH_CHAINS__BITCOIN__CONFIRMATIONS: chains.bitcoin.confirmations:")
        assert "bot.toml" not in msg

    def test_unparseable_nested_override(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A table given as non-JSON text in the environment is one line naming the variable."""
        monkeypatch.setenv("DONATION_WATCH_CHAINS", "bitcoin")
        assert error_of(tmp_path, BASE).startswith("environment variable DONATION_WATCH_CHAINS: is not valid JSON")


class TestOddCharacters:
    def test_cyrillic_look_alike_is_named(self, tmp_path: Path) -> None:
        """A Cyrillic а in an Ethereum address is named with its position and the letter it imitates."""
        msg = error_of(tmp_path, BASE + wallet("ethereum", ETH[:-1] + "\u0430"))
        assert 'position 42: U+0430 CYRILLIC SMALL LETTER A, a look-alike of "a"' in msg

    def test_invisible_character_is_named(self, tmp_path: Path) -> None:
        """A zero-width space inside a Bitcoin address is named as invisible, with its position."""
        msg = error_of(tmp_path, BASE + wallet("bitcoin", "357a3So9CbsNfBBgFYACGvx\u200bxS6tMaDoa1P"))
        assert "contains an invisible character at position 24: U+200B ZERO WIDTH SPACE" in msg

    def test_full_width_digit_is_named(self, tmp_path: Path) -> None:
        """A full-width 0 reads as a look-alike of 0."""
        msg = error_of(tmp_path, BASE + wallet("ethereum", "\uff10" + ETH[1:]))
        assert 'U+FF10 FULLWIDTH DIGIT ZERO, a look-alike of "0"' in msg


class TestLongArguments:
    def test_100kb_address_is_cut_in_the_message(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """`wallets add` of a 100 KB argument prints one short line with its length, not the argument."""
        code, out, err = run(capsys, "--config", str(config(tmp_path)), "wallets", "add", "ethereum", "a" * 100_000)
        assert code == 2 and out == "" and err.count("\n") == 1 and len(err) < 600
        assert "(100,000 characters)" in err

    def test_100kb_chain_name_is_cut(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """An absurd CHAIN argument is cut too."""
        code, _, err = run(capsys, "--config", str(config(tmp_path)), "wallets", "add", "x" * 100_000, ETH)
        assert code == 2 and len(err) < 600 and "(100,000 characters)" in err

    def test_100kb_sanctions_check_is_cut(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """`sanctions check` of a 100 KB argument answers in one short line."""
        code, _, err = run(capsys, "--config", str(config(tmp_path)), "sanctions", "check", "b" * 100_000)
        assert code == 2 and len(err) < 600 and "(100,000 characters)" in err

    def test_100kb_config_value_is_cut(self, tmp_path: Path) -> None:
        """A 100 KB value in the file is cut in the error line."""
        msg = error_of(tmp_path, BASE + wallet("ethereum", "c" * 100_000))
        assert len(msg) < 600 and "(100,000 characters)" in msg


class TestWalletsAddSaysWhatItDid:
    def test_re_adding_a_retired_wallet_says_reactivated(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """Adding a retired wallet again says it was reactivated, not "already watched"."""
        path = str(config(tmp_path))
        btc = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
        run(capsys, "--config", path, "wallets", "add", "bitcoin", btc)
        run(capsys, "--config", path, "wallets", "remove", "bitcoin", btc)
        code, out, _ = run(capsys, "--config", path, "wallets", "add", "bitcoin", btc)
        assert code == 0 and out.strip() == f"reactivated (it was retired; watching it again): bitcoin {btc}"

    def test_another_label_says_relabelled(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """Re-adding with another --label says it relabelled, from what to what."""
        path = str(config(tmp_path))
        btc = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
        run(capsys, "--config", path, "wallets", "add", "bitcoin", btc, "--label", "Old fund")
        code, out, _ = run(capsys, "--config", path, "wallets", "add", "bitcoin", btc, "--label", "New fund")
        assert code == 0 and out.strip() == f'relabelled from "Old fund" to "New fund": bitcoin {btc}'

    def test_same_wallet_again_changes_nothing(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """Adding a watched wallet with nothing new says nothing changed."""
        path = str(config(tmp_path))
        code, out, _ = run(capsys, "--config", path, "wallets", "add", "ethereum", ETH.lower())
        assert code == 0 and out.strip() == f'already watched, nothing changed: ethereum {ETH} (label "Ukraine")'

    def test_label_too_long(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A label longer than the ledger keeps is refused with its length."""
        code, _, err = run(capsys, "--config", str(config(tmp_path)), "wallets", "add", "ethereum", ETH, "--label", "x" * 5000)
        assert code == 2 and "is 5,000 characters long; a label has at most 200" in err


class TestLogLevel:
    def test_log_level_from_the_file_applies_to_every_command(self, tmp_path: Path) -> None:
        """log_level = "ERROR" silences the first-start warning of `sanctions status` (not only `run`'s logs)."""
        path = config(tmp_path, extra="")
        path.write_text('log_level = "ERROR"\n' + path.read_text())
        proc = subprocess.run(
            [sys.executable, "-m", "bot", "--config", str(path), "sanctions", "status"],
            capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120,
        )
        assert proc.returncode == 0 and "bundled snapshot" in proc.stdout
        assert proc.stderr == ""


class TestCommandLineMistakes:
    def test_the_zero_address_is_not_watched(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """`wallets add` refuses 0x000...0, where every token burn would look like a donation."""
        code, out, err = run(capsys, "--config", str(config(tmp_path)), "wallets", "add", "ethereum", "0x" + "0" * 40)
        assert code == 2 and out == ""
        assert "is not an Ethereum address (it is the zero address, where tokens are burnt; use the fund's own address)" in err

    @pytest.mark.parametrize("command", [("wallets", "add"), ("import",)])
    def test_a_since_date_in_the_future_is_refused(self, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]) -> None:
        """--since 2099-01-01 (a mistyped year) exits 2 with one line instead of planning an import of nothing."""
        code, out, err = run(capsys, "--config", str(config(tmp_path)), *command, "ethereum", ETH, "--since", "2099-01-01")
        assert code == 2 and out == "" and err.count("\n") == 1
        assert "--since: 2099-01-01 is in the future (today is " in err

    def test_the_zero_address_in_the_file_is_named(self, tmp_path: Path) -> None:
        """A [[wallets]] entry left at the zero address is refused with its index."""
        msg = error_of(tmp_path, BASE + f'[[wallets]]\nchain = "ethereum"\naddress = "0x{"0" * 40}"\n')
        assert "wallets[0].address:" in msg and "it is the zero address" in msg

    def test_export_to_a_missing_folder_is_one_line(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """export -o into a folder that does not exist exits 2 with one line naming the file, not a traceback."""
        target = tmp_path / "nowhere" / "out.csv"
        code, out, err = run(capsys, "--config", str(config(tmp_path)), "export", "-o", str(target))
        assert code == 2 and out == ""
        assert err == f"error: Invalid value for --output: cannot write {target}: No such file or directory " \
                      "(name a file in an existing, writable folder)\n"

    def test_sanctions_update_from_a_missing_file_records_no_failure(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A mistyped --file path exits 2 with one line and is not recorded as a failed list update."""
        path = str(config(tmp_path))
        code, out, err = run(capsys, "--config", path, "sanctions", "update", "--file", str(tmp_path / "sdn.xml"))
        assert code == 2 and out == "" and err.count("\n") == 1
        assert "sdn.xml' does not exist" in err
        code, out, _ = run(capsys, "--config", path, "sanctions", "status")
        assert code == 0 and "FAILED" not in out

    def test_removing_a_retired_wallet_again_changes_nothing(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A second `wallets remove` says the wallet was already retired instead of retiring it again."""
        path = str(config(tmp_path))
        btc = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
        run(capsys, "--config", path, "wallets", "add", "bitcoin", btc)
        run(capsys, "--config", path, "wallets", "remove", "bitcoin", btc)
        code, out, _ = run(capsys, "--config", path, "wallets", "remove", "bitcoin", btc)
        assert code == 0 and out.strip() == f"already retired, nothing changed: bitcoin {btc}"

    def test_since_on_a_watched_wallet_points_to_import(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """`wallets add --since` on a wallet already watched says how its history is imported instead."""
        code, out, _ = run(capsys, "--config", str(config(tmp_path)), "wallets", "add", "ethereum", ETH, "--since", "2022-02-26")
        assert code == 0
        assert out.splitlines()[1] == ("--since applies to a new wallet; to import this one's history now: "
                                       f"donation-watch import ethereum {ETH} --since 2022-02-26")

    def test_unknown_subcommand_is_one_line(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A mistyped subcommand exits 2 with one line that says where the right ones are listed."""
        code, out, err = run(capsys, "--config", str(config(tmp_path)), "wallets", "lsit")
        assert code == 2 and out == ""
        assert err == "error: No such command 'lsit'. Did you mean 'list'? (see donation-watch wallets --help)\n"
