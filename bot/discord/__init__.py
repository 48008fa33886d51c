"""The Discord channel: slash commands for the community and operators, alerts and the daily summary.

A discord.py extension: this module only wires `setup(bot)`; `plugin.py` registers the client
with the App (`bot.discord.plugin` in `bot.app.PLUGINS`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.discord.client import DonationBot


async def setup(bot: DonationBot) -> None:
    """discord.py extension entry: add the community and operator cogs."""
    from bot.discord.community import Donations
    from bot.discord.operator import Screen, Watch

    await bot.add_cog(Donations(bot))
    await bot.add_cog(Watch(bot))
    await bot.add_cog(Screen(bot))
