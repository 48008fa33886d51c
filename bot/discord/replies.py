"""Small reply helpers shared by the cogs: ephemeral refusals, paging, confirmation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord

from bot.discord.render import DESCRIPTION


async def refuse(interaction: discord.Interaction, text: str) -> None:
    """One ephemeral sentence, whether or not the interaction was answered already."""
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True)
    else:
        await interaction.response.send_message(text, ephemeral=True)


def pages_of(lines: list[str], *, per_page: int = 10, limit: int = DESCRIPTION) -> list[str]:
    """Lines grouped into page texts of at most ``per_page`` lines and ``limit`` characters."""
    pages: list[str] = []
    current: list[str] = []
    for line in lines:
        if current and (len(current) >= per_page or len("\n".join(current + [line])) > limit):
            pages.append("\n".join(current))
            current = []
        current.append(line[:limit])
    if current:
        pages.append("\n".join(current))
    return pages or ["nothing yet"]


class Pager(discord.ui.View):
    """Previous/next buttons over pre-rendered pages of one embed; only the asker may turn them."""

    def __init__(self, owner_id: int, title: str, pages: list[str], *, timeout: float = 300) -> None:
        super().__init__(timeout=timeout)
        self.owner_id, self.title, self.pages, self.index = owner_id, title, pages, 0
        self._sync()

    def embed(self) -> discord.Embed:
        embed = discord.Embed(title=self.title, description=self.pages[self.index])
        if len(self.pages) > 1:
            embed.set_footer(text=f"page {self.index + 1} of {len(self.pages)}")
        return embed

    def _sync(self) -> None:
        self.previous.disabled = self.index == 0
        self.next.disabled = self.index >= len(self.pages) - 1

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message("Only the person who asked can turn these pages; run the command yourself.", ephemeral=True)
            return False
        return True

    async def _turn(self, interaction: discord.Interaction, step: int) -> None:
        self.index = max(0, min(len(self.pages) - 1, self.index + step))
        self._sync()
        await interaction.response.edit_message(embed=self.embed(), view=self)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, button: discord.ui.Button[Pager]) -> None:
        await self._turn(interaction, -1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, button: discord.ui.Button[Pager]) -> None:
        await self._turn(interaction, 1)


async def send_pages(interaction: discord.Interaction, title: str, lines: list[str], *, per_page: int = 10,
                     ephemeral: bool = False) -> None:
    """Send lines as one embed, with paging buttons when they do not fit one page (after a defer)."""
    pages = pages_of(lines, per_page=per_page)
    pager = Pager(interaction.user.id, title, pages)
    if len(pages) > 1:
        await interaction.followup.send(embed=pager.embed(), view=pager, ephemeral=ephemeral)
    else:
        await interaction.followup.send(embed=pager.embed(), ephemeral=ephemeral)


class Confirm(discord.ui.View):
    """A confirm/cancel pair before a destructive action; only the asker may press them."""

    def __init__(self, owner_id: int, action: Callable[[discord.Interaction], Awaitable[str]], *, timeout: float = 120) -> None:
        super().__init__(timeout=timeout)
        self.owner_id, self.action = owner_id, action

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message("Only the operator who asked can confirm this.", ephemeral=True)
            return False
        return True

    @discord.ui.button(label="Remove", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button[Confirm]) -> None:
        self.stop()
        text = await self.action(interaction)
        await interaction.response.edit_message(content=text, view=None)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction, button: discord.ui.Button[Confirm]) -> None:
        self.stop()
        await interaction.response.edit_message(content="Cancelled; nothing changed.", view=None)
