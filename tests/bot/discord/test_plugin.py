"""The Discord plugin joins the App only with a token, registers its two channels, and logs in only when a channel flushes."""

from __future__ import annotations

from pydantic import SecretStr

from bot.app import App
from ledger.database import Database
from tests.bot.seed import chat_settings


class TestRegistration:
    async def test_token_registers_alert_and_summary_channels_without_logging_in(self, db: Database) -> None:
        """With a token and an alerts channel, setup adds discord:alerts and discord:summary and no console; nothing connects yet."""
        settings = chat_settings()
        settings.discord.token = SecretStr("t")
        settings.discord.alerts_channel_id = 10
        app = App(settings, db)
        await app.setup()
        assert {"discord:alerts", "discord:summary"} <= set(app.channels) and "console" not in app.channels
        assert not app.discord_bot.is_ready() and app.discord_bot.ws is None  # type: ignore[attr-defined]

    async def test_no_token_means_console_only(self, db: Database) -> None:
        """Without a token only the console channel is registered."""
        app = App(chat_settings(), db)
        await app.setup()
        assert set(app.channels) == {"console"}
