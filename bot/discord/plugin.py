"""App plugin: with a token, the Discord gateway runs inside `run` as a leader-elected service and
its channels join the App.

Two clients on one token both receive every interaction and race (error 40060), so of several
instances on one ledger exactly one holds the gateway (`bot.leader.lead`); the others stand by and
take over within one lease period. Every `bot`-role instance still fans new events out into the
outbox, but only the leader's client is ready, so only the leader sends. `poll --once` starts no
services: its messages wait in the outbox for `run`.
"""

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


class Gateway:
    """The client's connection as a service: `serve` runs it until cancelled; a client that ended is cleared for the next leader term."""

    def __init__(self, bot: DonationBot, token: str) -> None:
        self.bot, self.token = bot, token

    async def serve(self) -> None:
        """Connect and stay connected; returns or raises when the client ends (leadership is then sought again)."""
        import discord

        if self.bot.is_closed():  # a client closed in an earlier leader term starts again:
            self.bot.clear()
            # closing its HTTP session closed the connector that discord.py would reuse for the new one
            self.bot.http.connector = discord.utils.MISSING
        try:
            await self.bot.start(self.token)
        except discord.LoginFailure:
            # Another instance has the same token: handing leadership over would not help. Hold it, say it once.
            log.error("discord login failed: the token in DONATION_WATCH_DISCORD__TOKEN was refused; "
                      "messages wait in the outbox until the bot is restarted with a valid token")
            await asyncio.Event().wait()
        finally:
            if not self.bot.is_closed():
                await asyncio.shield(self.bot.close())

    async def close(self) -> None:
        if not self.bot.is_closed():
            await self.bot.close()


def setup(app: App) -> None:
    """Register the Discord gateway service and its channels (alerts, summary) when a token is set."""
    token = app.settings.discord.token
    if token is None or not app.runs("bot"):
        return  # no token: the console speaks; a watchers-only instance leaves chat to the bot instances
    from bot.discord.client import DonationBot

    bot = DonationBot(app)
    app.discord_bot = bot  # type: ignore[attr-defined]
    gateway = Gateway(bot, token.get_secret_value())
    app.add_service("discord", gateway.serve, role="bot", leader=True)
    cfg = app.settings.discord
    if cfg.alerts_channel_id:
        app.add_channel(DiscordChannel(bot, "discord:alerts", cfg.alerts_channel_id, accepts_alert), every=5)
    summary_channel = cfg.summary_channel_id or cfg.alerts_channel_id
    if summary_channel:
        app.add_channel(DiscordChannel(bot, "discord:summary", summary_channel, lambda e: e.kind == SUMMARY_DUE), every=30)
    if not (cfg.alerts_channel_id or summary_channel):
        log.warning("discord.alerts_channel_id is not set: the bot answers commands but posts no alerts")
    app.on_close(gateway.close)
