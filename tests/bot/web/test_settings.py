"""The page's and the goal's settings: defaults, one-line errors, the export token only from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import load_settings

ROOT = Path(__file__).resolve().parents[3]
BASE = """
[chains.bitcoin]
kind = "bitcoin"
esplora_urls = ["http://127.0.0.1:9/api"]
"""


def load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "dw.toml"
    path.write_text(BASE + text)
    return load_settings(path)


class TestPageSettings:
    def test_example_config_loads_with_the_page_off(self) -> None:
        """config/example.toml has a [page] section, off by default, and no goal amount."""
        settings = load_settings(ROOT / "config/example.toml")
        assert settings.page.enabled is False and settings.page.title and settings.goal.amount is None

    def test_export_token_in_the_file_is_refused(self, tmp_path: Path) -> None:
        """A token written in the file is one line pointing to the environment variable."""
        with pytest.raises(ConfigError, match="page.export_token.*DONATION_WATCH_PAGE__EXPORT_TOKEN"):
            load(tmp_path, '[page]\nexport_token = "abc"\n')

    def test_export_token_from_the_environment(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """DONATION_WATCH_PAGE__EXPORT_TOKEN sets the token as a secret (never printed)."""
        monkeypatch.setenv("DONATION_WATCH_PAGE__EXPORT_TOKEN", "tok-123")
        settings = load(tmp_path, "")
        assert settings.page.export_token is not None and settings.page.export_token.get_secret_value() == "tok-123"
        assert "tok-123" not in repr(settings)


class TestGoalSettings:
    def test_goal_is_exact_decimal_and_upper_case(self, tmp_path: Path) -> None:
        """amount = "1234.56" stays an exact Decimal; the currency is upper-cased."""
        settings = load(tmp_path, '[goal]\namount = "1234.56"\ncurrency = "eur"\nend = 2026-12-31\n')
        assert str(settings.goal.amount) == "1234.56" and settings.goal.currency == "EUR"

    def test_end_before_start_is_one_line(self, tmp_path: Path) -> None:
        """An end date before the start names both dates."""
        with pytest.raises(ConfigError, match=r"goal.end.*2026-01-01.*before goal.start \(2026-02-01\)"):
            load(tmp_path, "[goal]\namount = 5\nstart = 2026-02-01\nend = 2026-01-01\n")

    def test_zero_goal_is_refused(self, tmp_path: Path) -> None:
        """A goal of 0 is refused (it must be greater than 0)."""
        with pytest.raises(ConfigError, match=r"goal.amount"):
            load(tmp_path, "[goal]\namount = 0\n")
