"""App plugin: with a token, the Discord client runs inside `run` and its channels join the App."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from bot.discord.delivery import DiscordChannel, accepts_alert
from bot.messages import SUMMARY_DUE

if TYPE_CHECKING:
    from bot.app import App
    from bot.discord.client import DonationBot

log = logging.getLogger(__name__)


class ClientRunner:
    """Starts the client on the first flush (so `poll --once` never logs in) and closes it with the App."""

    def __init__(self, bot: DonationBot, token: str) -> None:
        self.bot, self.token = bot, token
        self.task: asyncio.Task[None] | None = None

    def ensure_started(self) -> None:
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._run(), name="discord-client")

    async def _run(self) -> None:
        import discord

        try:
            await self.bot.start(self.token)
        except discord.LoginFailure:
            log.error("discord login failed: the token in DONATION_WATCH_DISCORD__TOKEN was refused; messages wait in the outbox")
        except Exception as exc:  # noqa: BLE001 - the client's end must be reported, never crash the watchers
            log.error("discord client stopped: %s: %s", type(exc).__name__, exc)

    async def close(self) -> None:
        if self.task is not None:
            await self.bot.close()
            self.task.cancel()
            try:
                await self.task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass


class StartingChannel:
    """A DiscordChannel whose flush also makes sure the client runs."""

    def __init__(self, inner: DiscordChannel, runner: ClientRunner) -> None:
        self.inner, self.runner, self.name = inner, runner, inner.name

    async def flush(self) -> int:
        self.runner.ensure_started()
        return await self.inner.flush()

    async def close(self) -> None:
        await self.inner.close()


def setup(app: App) -> None:
    """Register the Discord channels (alerts, summary) when a token is set."""
    token = app.settings.discord.token
    if token is None or not app.runs("bot"):
        return  # no token: the console speaks; a watchers-only instance leaves chat to the bot instance
    from bot.discord.client import DonationBot

    bot = DonationBot(app)
    app.discord_bot = bot  # type: ignore[attr-defined]
    runner = ClientRunner(bot, token.get_secret_value())
    cfg = app.settings.discord
    if cfg.alerts_channel_id:
        app.add_channel(StartingChannel(DiscordChannel(bot, "discord:alerts", cfg.alerts_channel_id, accepts_alert), runner), every=5)
    summary_channel = cfg.summary_channel_id or cfg.alerts_channel_id
    if summary_channel:
        app.add_channel(StartingChannel(DiscordChannel(bot, "discord:summary", summary_channel, lambda e: e.kind == SUMMARY_DUE), runner), every=30)
    if not (cfg.alerts_channel_id or summary_channel):
        log.warning("discord.alerts_channel_id is not set: the bot answers commands but posts no alerts")

        async def start() -> None:
            runner.ensure_started()

        app.add_job("discord:start", start, 3600, role="bot")
    app.on_close(runner.close)
