"""The Discord client: a discord.py bot holding the App, its cogs loaded from this package, commands synced."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)


def point_at(api_base: str | None, gateway_url: str | None) -> None:
    """Use a Discord REST proxy / gateway other than discord.com (discord.py keeps both as class attributes)."""
    if api_base:
        discord.http.Route.BASE = api_base.rstrip("/")
    if gateway_url:
        import yarl
        from discord.gateway import DiscordWebSocket

        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


class DonationBot(commands.Bot):
    """The bot: app commands only (no message content intent), mentions off unless a message allows one."""

    def __init__(self, app: App, **options: object) -> None:
        point_at(app.settings.discord.api_base, app.settings.discord.gateway_url)
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(
            command_prefix=commands.when_mentioned, intents=intents, help_command=None,
            allowed_mentions=discord.AllowedMentions.none(), **options,
        )
        self.app = app
        self.delivery_problems: dict[str, str] = {}  # channel name -> why delivery stopped (shown in /watch list, health)
        self.tree.on_error = self._on_command_error  # type: ignore[method-assign]

    async def setup_hook(self) -> None:
        if "bot.discord" not in self.extensions:  # a client cleared for a new leader term logs in again
            await self.load_extension("bot.discord")
        await self.sync_commands()

    async def sync_commands(self, guild_id: int | None = None) -> None:
        """Sync the slash commands to the configured guild (at once) or globally (up to an hour)."""
        guild_id = guild_id or self.app.settings.discord.guild_id
        if guild_id:
            guild = discord.Object(guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        else:
            synced = await self.tree.sync()
        log.info("discord commands synced count=%d guild=%s", len(synced), guild_id or "global")

    async def on_ready(self) -> None:
        log.info("discord connected as %s", self.user)

    async def _on_command_error(self, interaction: discord.Interaction, error: discord.app_commands.AppCommandError) -> None:
        from bot.discord.replies import refuse

        if isinstance(error, discord.app_commands.CheckFailure):
            await refuse(interaction, str(error) or "You may not use this command.")
            return
        log.error("command failed command=%s", interaction.command and interaction.command.qualified_name, exc_info=error)
        await refuse(interaction, "Something went wrong on the bot's side; the maintainers can see it in the log.")
