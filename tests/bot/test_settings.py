"""Loading settings: the example file, environment overrides, secrets, and one clear line per mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import load_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example.toml"

BASE = """
[chains.bitcoin]
kind = "bitcoin"
esplora_urls = ["http://127.0.0.1:1/api"]

[chains.ethereum]
kind = "evm"
chain_id = 1
rpc_urls = ["http://127.0.0.1:1"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bot.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    return str(info.value)


class TestExampleFile:
    def test_example_watches_the_published_ukraine_addresses(self) -> None:
        """config/example.toml loads and watches the two addresses published in February 2022."""
        settings = load_settings(EXAMPLE)
        assert {(w.chain, w.address) for w in settings.wallets} == {
            ("bitcoin", "357a3So9CbsNfBBgFYACGvxxS6tMaDoa1P"),
            ("ethereum", "0x165CD37b4C644C2921454429E7F9358d18A45e14"),
        }
        assert settings.discord.token is None
        assert settings.database.url.startswith("sqlite+aiosqlite:///./data/")

    def test_mainnet_gets_the_default_token_allowlist(self) -> None:
        """Chain id 1 without a tokens list watches USDT, USDC and DAI with their decimals."""
        chain = load_settings(EXAMPLE).chains["ethereum"]
        assert [(t.symbol, t.decimals) for t in chain.token_allowlist()] == [("USDT", 6), ("USDC", 6), ("DAI", 18)]


class TestEnvironment:
    def test_environment_overrides_the_file(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """DONATION_WATCH_DATABASE__URL and DONATION_WATCH_LOG_LEVEL win over the file."""
        monkeypatch.setenv("DONATION_WATCH_DATABASE__URL", "postgresql+asyncpg://dw@db/dw")
        monkeypatch.setenv("DONATION_WATCH_LOG_LEVEL", "DEBUG")
        settings = load_settings(write(tmp_path, BASE))
        assert settings.database.url == "postgresql+asyncpg://dw@db/dw"
        assert settings.log_level == "DEBUG"

    def test_token_comes_from_the_environment_and_is_never_shown(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """The Discord token is read from the environment and hidden in the settings' repr."""
        monkeypatch.setenv("DONATION_WATCH_DISCORD__TOKEN", "very-secret-token")
        settings = load_settings(write(tmp_path, BASE))
        assert settings.discord.token is not None
        assert settings.discord.token.get_secret_value() == "very-secret-token"
        assert "very-secret-token" not in repr(settings) and "very-secret-token" not in str(settings.model_dump())

    def test_database_password_is_put_into_the_url(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """DONATION_WATCH_DATABASE__PASSWORD joins the URL only when the engine is made."""
        monkeypatch.setenv("DONATION_WATCH_DATABASE__PASSWORD", "pw")
        settings = load_settings(write(tmp_path, BASE + '[database]\nurl = "postgresql+asyncpg://dw@db/dw"\n'))
        assert settings.database.effective_url() == "postgresql+asyncpg://dw:pw@db/dw"


class TestBadConfig:
    def test_missing_file(self, tmp_path: Path) -> None:
        """A missing file is named, with the fix."""
        assert error_of(tmp_path / "nope.toml") == f"{tmp_path / 'nope.toml'}: no such file (copy config/example.toml and edit it)"

    def test_toml_syntax_error_names_the_line(self, tmp_path: Path) -> None:
        """A TOML syntax error says so and gives the line."""
        msg = error_of(write(tmp_path, BASE + "\n[wallets\n"))
        assert "TOML syntax error" in msg and "at line 11" in msg

    def test_short_ethereum_address(self, tmp_path: Path) -> None:
        """A wrong Ethereum address names file, key, value and the expected form."""
        path = write(tmp_path, BASE + '[[wallets]]\nchain = "ethereum"\naddress = "0x12"\n')
        assert error_of(path) == f'{path}: wallets[0].address: "0x12" is not an Ethereum address (0x + 40 hex digits)'

    def test_second_wallet_is_indexed(self, tmp_path: Path) -> None:
        """The index of the bad wallet is the one in the file."""
        text = BASE + '[[wallets]]\nchain = "bitcoin"\naddress = "357a3So9CbsNfBBgFYACGvxxS6tMaDoa1P"\n'
        text += '[[wallets]]\nchain = "ethereum"\naddress = "0x12"\n'
        assert 'wallets[1].address: "0x12" is not an Ethereum address' in error_of(write(tmp_path, text))

    def test_bad_bitcoin_checksum(self, tmp_path: Path) -> None:
        """A Bitcoin address with a broken checksum is refused with the reason."""
        path = write(tmp_path, BASE + '[[wallets]]\nchain = "bitcoin"\naddress = "357a3So9CbsNfBBgFYACGvxxS6tMaDoa1Q"\n')
        msg = error_of(path)
        assert 'wallets[0].address: "357a3So9CbsNfBBgFYACGvxxS6tMaDoa1Q" is not a Bitcoin address' in msg and "checksum" in msg

    def test_bad_eip55_checksum_suggests_the_right_form(self, tmp_path: Path) -> None:
        """A mixed-case address with a wrong EIP-55 checksum names the correct spelling."""
        path = write(tmp_path, BASE + '[[wallets]]\nchain = "ethereum"\naddress = "0x165cD37b4C644C2921454429E7F9358d18A45e14"\n')
        assert "did you mean 0x165CD37b4C644C2921454429E7F9358d18A45e14" in error_of(path)

    def test_unknown_key(self, tmp_path: Path) -> None:
        """A misspelt key is named as unknown, with the key it probably meant."""
        path = write(tmp_path, BASE + '[database]\nurll = "x"\n')
        assert error_of(path) == f'{path}: database.urll: unknown key; did you mean "url"?'

    def test_unknown_key_in_a_chain(self, tmp_path: Path) -> None:
        """A misspelt key inside a chain table is named with its chain."""
        path = write(tmp_path, BASE.replace('chain_id = 1', 'chain_id = 1\nconfirmation = 3'))
        assert "chains.ethereum.confirmation: unknown key" in error_of(path)

    def test_duplicate_wallet(self, tmp_path: Path) -> None:
        """The same address twice (even in another spelling) is a duplicate."""
        text = BASE + '[[wallets]]\nchain = "ethereum"\naddress = "0x165CD37b4C644C2921454429E7F9358d18A45e14"\n'
        text += '[[wallets]]\nchain = "ethereum"\naddress = "0x165cd37b4c644c2921454429e7f9358d18a45e14"\n'
        assert "wallets[1].address" in (msg := error_of(write(tmp_path, text))) and "duplicates wallets[0]" in msg

    def test_wallet_on_unknown_chain(self, tmp_path: Path) -> None:
        """A wallet naming a chain that is not configured lists the chains there are."""
        path = write(tmp_path, BASE + '[[wallets]]\nchain = "solana"\naddress = "x"\n')
        assert 'wallets[0].chain: "solana" is not a configured chain (chains: bitcoin, ethereum)' in error_of(path)

    def test_secret_in_file_is_refused(self, tmp_path: Path) -> None:
        """A Discord token in the file is refused and the environment variable is named."""
        path = write(tmp_path, BASE + '[discord]\ntoken = "abc"\n')
        assert error_of(path) == f"{path}: discord.token: secrets are not read from files; set DONATION_WATCH_DISCORD__TOKEN in the environment"

    def test_password_in_database_url_is_refused(self, tmp_path: Path) -> None:
        """A database URL carrying a password is refused, naming the variable to use instead."""
        path = write(tmp_path, BASE + '[database]\nurl = "postgresql+asyncpg://dw:hunter2@db/dw"\n')
        msg = error_of(path)
        assert "DONATION_WATCH_DATABASE__PASSWORD" in msg and "hunter2" not in msg

    def test_unsupported_database_url(self, tmp_path: Path) -> None:
        """A database URL with a driver the bot does not use says which to use."""
        path = write(tmp_path, BASE + '[database]\nurl = "mysql://x/y"\n')
        assert 'database.url: "mysql://x/y" use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB' in error_of(path)

    def test_wrong_chain_kind(self, tmp_path: Path) -> None:
        """A chain kind that does not exist is named with the kinds there are."""
        path = write(tmp_path, '[chains.x]\nkind = "solana"\n')
        assert 'chains.x.kind: "solana" is not a chain kind (use "bitcoin" or "evm")' in error_of(path)

    def test_wrong_type(self, tmp_path: Path) -> None:
        """A value of the wrong type names the key and the value."""
        path = write(tmp_path, BASE.replace("chain_id = 1", 'chain_id = "one"'))
        assert 'chains.ethereum.chain_id: "one"' in error_of(path)


class TestScreeningSchedule:
    def test_lists_are_checked_hourly_and_stale_after_three_days(self, tmp_path: Path) -> None:
        """By default the lists are checked every hour and a list unconfirmed for 3 days is stale."""
        from datetime import timedelta

        from bot.screening_wiring import lists_config

        settings = load_settings(write(tmp_path, BASE))
        assert settings.screening.update_hours == 1
        assert lists_config(settings).max_age == timedelta(days=3)

    def test_max_list_age_is_configurable(self, tmp_path: Path) -> None:
        """screening.max_list_age_days reaches the screening room."""
        from datetime import timedelta

        from bot.screening_wiring import lists_config

        settings = load_settings(write(tmp_path, BASE + "[screening]\nmax_list_age_days = 7\n"))
        assert lists_config(settings).max_age == timedelta(days=7)


class TestChatSettings:
    def test_discord_alert_and_summary_keys_load(self, tmp_path: Path) -> None:
        """guild, channels, operator role, per-asset minimums, policy and summary time load typed."""
        text = BASE + """
[discord]
guild_id = 11
alerts_channel_id = 12
summary_channel_id = 13
operator_role_id = 14

[alerts]
min_amount = { BTC = "0.001", ETH = 0.05 }
sanctions_policy = "Freeze and ask counsel."

[summary]
time = "18:30"
timezone = "Europe/Kyiv"
"""
        settings = load_settings(write(tmp_path, text))
        assert (settings.discord.guild_id, settings.discord.operator_role_id) == (11, 14)
        assert settings.alerts.min_base_units("BTC", 8) == 100_000
        assert settings.alerts.min_base_units("ETH", 18) == 5 * 10**16
        assert settings.alerts.min_base_units("USDT", 6) == 0
        assert settings.summary.time.hour == 18 and settings.summary.timezone == "Europe/Kyiv"

    def test_unknown_time_zone(self, tmp_path: Path) -> None:
        """A time zone that is not an IANA name is named with an example of one."""
        path = write(tmp_path, BASE + '[summary]\ntimezone = "Kyiv"\n')
        assert 'summary.timezone: "Kyiv" is not an IANA time zone name' in error_of(path)

    def test_explorers_default_per_chain(self, tmp_path: Path) -> None:
        """Bitcoin mainnet links to mempool.space and chain id 1 to etherscan.io without any setting."""
        settings = load_settings(write(tmp_path, BASE))
        assert settings.explorer_for("bitcoin").tx.format(txid="ab") == "https://mempool.space/tx/ab"
        assert settings.explorer_for("ethereum").address.format(address="0x1") == "https://etherscan.io/address/0x1"

    def test_explorer_template_needs_its_placeholder(self, tmp_path: Path) -> None:
        """An explorer template without {txid} is refused naming the key."""
        path = write(tmp_path, BASE + '[explorers.bitcoin]\ntx = "https://x/tx"\naddress = "https://x/a/{address}"\n')
        assert 'explorers.bitcoin.tx: "https://x/tx" is not an http(s) URL containing {txid}' in error_of(path)

    def test_explorer_for_unknown_chain(self, tmp_path: Path) -> None:
        """An explorer for a chain that is not configured is refused."""
        path = write(tmp_path, BASE + '[explorers.solana]\ntx = "https://x/{txid}"\naddress = "https://x/{address}"\n')
        assert "explorers.solana" in error_of(path)
