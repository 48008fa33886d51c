"""`/watch …` and `/screen …`: operator commands, for Manage Server or the operator role only.

Changes to the address list go through `ledger.wallet_changes` (audited, announced through the
event stream); wallets from the config file are refused there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.render import escape
from bot.discord.replies import Confirm, refuse, send_pages
from bot.format import amount
from ledger.errors import LedgerError
from ledger.report_queries import open_hits, watcher_states
from ledger.types import utcnow
from ledger.wallet_changes import Actor, add_wallet, remove_wallet, wallet_by_address
from ledger.wallets import list_wallets
from screening.errors import InvalidScreeningAddress
from screening.normalize import validate_query
from screening.status import list_status
from watchers.errors import InvalidAddress

if TYPE_CHECKING:
    from bot.discord.client import DonationBot

REFUSAL = "Only members with Manage Server or the operator role may use this command."


def is_operator(interaction: discord.Interaction) -> bool:
    """Manage Server, or the configured operator role, in a guild."""
    member = interaction.user
    if not isinstance(member, discord.Member):
        return False
    if member.guild_permissions.manage_guild:
        return True
    role_id = interaction.client.app.settings.discord.operator_role_id  # type: ignore[attr-defined]
    return role_id is not None and any(r.id == role_id for r in member.roles)


def operators_only() -> object:
    async def predicate(interaction: discord.Interaction) -> bool:
        if not is_operator(interaction):
            raise app_commands.CheckFailure(REFUSAL)
        return True

    return app_commands.check(predicate)


def actor_of(interaction: discord.Interaction) -> Actor:
    user = interaction.user
    return Actor(name=f"{user.name} (discord user {user.id})", user_id=user.id, guild_id=interaction.guild_id)


class Watch(commands.GroupCog, group_name="watch", group_description="Operators: the watched donation addresses"):
    """Adding, removing and listing watched addresses."""

    def __init__(self, bot: DonationBot) -> None:
        self.bot = bot
        super().__init__()

    @property
    def app(self):  # type: ignore[no-untyped-def]
        return self.bot.app

    def config_wallets(self) -> set[tuple[str, str]]:
        return {(w.chain, w.address) for w in self.app.settings.wallets}

    async def chain_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=n, value=n) for n in self.app.settings.chains if current.lower() in n.lower()][:25]

    @app_commands.command(name="add", description="Watch a new donation address (validated as in the config file)")
    @app_commands.describe(chain="A configured chain", address="The address donors send to", label="What people see, e.g. \"Relief fund (BTC)\"")
    @app_commands.autocomplete(chain=chain_autocomplete)
    @operators_only()
    async def add(self, interaction: discord.Interaction, chain: str, address: str,
                  label: app_commands.Range[str, 1, 200]) -> None:
        settings = self.app.settings
        if chain not in settings.chains:
            await refuse(interaction, f"\"{escape(chain)[:50]}\" is not a configured chain; use one of: {', '.join(settings.chains)}.")
            return
        try:
            canonical = settings.canonical_address(chain, address.strip())
        except InvalidAddress as exc:
            await refuse(interaction, f"\"{escape(address)[:130]}\" is not a valid {chain} address ({exc.reason}).")
            return
        await interaction.response.defer()
        try:
            async with self.app.db.session() as s:
                wallet = await add_wallet(s, chain, canonical, label.strip(), actor_of(interaction))
        except LedgerError as exc:
            await refuse(interaction, str(exc))
            return
        await interaction.followup.send(f"Now watching {escape(wallet.label)}: {chain} `{wallet.address}` (from the next poll; announced in the alerts channel).")

    @app_commands.command(name="remove", description="Stop watching an address (its donations stay in the ledger)")
    @app_commands.describe(address="The watched address")
    @operators_only()
    async def remove(self, interaction: discord.Interaction, address: str) -> None:
        async with self.app.db.session() as s:
            wallet = await wallet_by_address(s, address)
        if wallet is None:
            await refuse(interaction, f"`{escape(address)[:130]}` is not a watched address (see /watch list).")
            return
        if (wallet.chain, wallet.address) in self.config_wallets():
            await refuse(interaction, f"{escape(wallet.label or wallet.address)} is defined in the config file; change it there, not from chat.")
            return
        chain, canonical, shown = wallet.chain, wallet.address, escape(wallet.label or wallet.address)
        actor = actor_of(interaction)

        async def do_remove(press: discord.Interaction) -> str:
            try:
                async with self.app.db.session() as s:
                    await remove_wallet(s, chain, canonical, actor, protected=self.config_wallets())
            except LedgerError as exc:
                return str(exc)
            return f"Stopped watching {shown} ({chain} `{canonical}`); its donations stay in the ledger."

        await interaction.response.send_message(
            f"Stop watching {shown} ({chain} `{canonical}`)? Donors may still send to it.",
            view=Confirm(interaction.user.id, do_remove), ephemeral=True)

    @app_commands.command(name="list", description="Watched addresses, watcher health, sanctions lists in force")
    @operators_only()
    async def list_(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True)
        now = utcnow()
        async with self.app.db.session() as s:
            wallets = await list_wallets(s)
            states = await watcher_states(s)
            lists = await list_status(s)
        config = self.config_wallets()
        lines = [f"**{escape(w.label or '(no label)')}** · {w.chain} `{w.address}`" + (" · config file" if (w.chain, w.address) in config else " · added from chat")
                 for w in wallets]
        for chain in self.app.settings.chains:
            state = states.get(chain)
            ok = state is None or state.healthy
            lines.append(f"watcher {chain}: " + ("working" if ok else f"FAILING since {discord.utils.format_dt(state.since, 'R')}: {escape(state.error)[:200]}"))  # type: ignore[union-attr]
        for st in lists:
            if st.in_force is None:
                lines.append(f"list {st.source}: none in force")
            else:
                age = st.age_days(now)
                lines.append(f"list {st.source}: published {st.in_force.published or 'undated'}" + (f" ({age} days old)" if age is not None else "")
                             + f", {st.in_force.count:,} addresses")
        for problem in getattr(self.bot, "delivery_problems", {}).values():
            lines.append(f"discord delivery: {escape(problem)}")
        await send_pages(interaction, "Watched addresses and health", lines, per_page=15, ephemeral=True)


class Screen(commands.GroupCog, group_name="screen", group_description="Operators: sanctions screening"):
    """Checking an address against the lists in force, and the open hits."""

    def __init__(self, bot: DonationBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="check", description="Is this address on a sanctions list in force?")
    @app_commands.describe(address="A Bitcoin or Ethereum address")
    @operators_only()
    async def check(self, interaction: discord.Interaction, address: str) -> None:
        try:
            validate_query(address)
        except InvalidScreeningAddress as exc:
            await refuse(interaction, str(exc))
            return
        await interaction.response.defer(ephemeral=True)
        screener = self.bot.app.screener
        await screener.ensure_lists()
        matches = await screener.check(address)
        if not matches:
            names = ", ".join(f"{v.source} of {v.published or 'unknown date'}" for v in screener.index.lists.values())
            await interaction.followup.send(f"`{escape(address.strip())}` is not listed in {names or 'any list (none in force)'}.", ephemeral=True)
            return
        lines = []
        for m in matches:
            e = m.entry
            lines.append(f"LISTED on {m.list.source} of {m.list.published or 'unknown date'}: {escape(e.party or 'no party named')}"
                         + (f", programme {', '.join(e.programmes)}" if e.programmes else "") + (f", listed {e.listed_on}" if e.listed_on else ""))
        await interaction.followup.send("\n".join(lines)[:2000], ephemeral=True)

    @app_commands.command(name="hits", description="Open sanctions hits, with their transfers")
    @operators_only()
    async def hits(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True)
        async with self.bot.app.db.session() as s:
            rows = await open_hits(s)
        lines = [f"`{h.hit.address}` on {h.hit.source}: {escape(h.hit.party or 'no party named')} · "
                 f"{amount(h.transfer.amount, h.transfer.decimals)} {h.transfer.asset} to {escape(h.wallet.label or h.wallet.address)} · "
                 f"tx `{h.transfer.txid}` ({h.transfer.status})" for h in rows]
        await send_pages(interaction, f"{len(lines)} open sanctions hit{'s' if len(lines) != 1 else ''}", lines or ["none"], per_page=8, ephemeral=True)
