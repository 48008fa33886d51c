"""`/donations …`: what the community asks — totals, recent and top donations, the real addresses, a tx.

Each command validates its input, asks one ledger function, and formats the answer.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.render import escape, to_embed
from bot.discord.replies import refuse, send_pages
from bot.format import amount
from bot.messages import short, tx_url
from bot.qr import qr_png
from bot.summary import render_summary
from bot.wallet_cards import WalletCard, wallet_cards
from ledger import queries
from ledger.models import Transfer, Wallet
from ledger.report_queries import chain_tip, largest_per_asset
from ledger.transfer_details import transfers_by_txid
from ledger.types import utcnow
from ledger.wallet_changes import find_wallets
from ledger.wallets import list_wallets
from valuation.money import display
from valuation.totals import fiat_totals

if TYPE_CHECKING:
    from bot.discord.client import DonationBot

BITCOIN_TXID = re.compile(r"^[0-9a-fA-F]{64}$")
EVM_TXID = re.compile(r"^0x[0-9a-fA-F]{64}$")
TXID_HELP = ("That is not a transaction id. A Bitcoin txid is 64 hexadecimal characters (0-9, a-f); "
             "an Ethereum transaction hash is 0x followed by 64 hexadecimal characters.")
MAX_EMBEDS = 10  # per message, and as many files


def when(t: Transfer) -> str:
    """Discord timestamp markup: every reader sees their own time zone."""
    return discord.utils.format_dt(t.first_seen, "R")


def transfer_line(t: Transfer, wallets: dict[int, Wallet], settings) -> str:  # type: ignore[no-untyped-def]
    w = wallets.get(t.wallet_id)
    url = tx_url(settings, t.chain, t.txid)
    tx = f"[{short(t.txid, 6)}]({url})" if url else f"`{short(t.txid, 6)}`"
    label = escape(w.label or short(w.address)) if w else "?"
    return f"{when(t)} **{amount(t.amount, t.decimals)} {t.asset}** to {label} · {tx} · {t.status}"


def card_embed(card: WalletCard) -> tuple[discord.Embed, discord.File | None]:
    """A wallet's card as an embed, with its QR code as an attached PNG shown as the thumbnail."""
    lines = [f"`{card.pay_to}`"] if card.pay_to else []
    embed = discord.Embed(title=escape(card.title), description="\n".join(lines + [escape(line) for line in card.lines]),
                          colour=0x27AE60, url=card.explorer_url)
    embed.add_field(name="Chain", value=card.chain)
    if card.key:
        embed.add_field(name="Derived from", value=f"`{short(card.key, 16)}`")
    if card.qr_text is None:
        return embed, None
    name = f"qr-{card.wallet_id}.png"
    embed.set_thumbnail(url=f"attachment://{name}")
    return embed, discord.File(io.BytesIO(qr_png(card.qr_text)), filename=name)


class Donations(commands.GroupCog, group_name="donations", group_description="Donation totals, recent gifts and the official addresses"):
    """Community commands: anyone may ask; answers are public unless they are errors."""

    def __init__(self, bot: DonationBot) -> None:
        self.bot = bot
        super().__init__()

    @property
    def app(self):  # type: ignore[no-untyped-def]
        return self.bot.app

    async def wallet_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        async with self.app.db.session() as s:
            wallets = await find_wallets(s, current, limit=25)
        return [app_commands.Choice(name=f"{w.label or w.address} ({w.chain})"[:100], value=str(w.id)) for w in wallets]

    async def _wallet(self, interaction: discord.Interaction, text: str | None) -> Wallet | None | bool:
        """The wallet an option names; False (after an ephemeral refusal) when it names none."""
        if not text:
            return None
        async with self.app.db.session() as s:
            found = list(await find_wallets(s, text, limit=2))
        if not found:
            await refuse(interaction, f"No watched wallet matches \"{escape(text)[:100]}\"; pick one from the list as you type.")
            return False
        return found[0]

    @app_commands.command(name="total", description="Confirmed totals per asset, pending apart, count and unique donors")
    @app_commands.describe(wallet="Only this wallet (start typing its label)")
    @app_commands.autocomplete(wallet=wallet_autocomplete)
    async def total(self, interaction: discord.Interaction, wallet: str | None = None) -> None:
        chosen = await self._wallet(interaction, wallet)
        if chosen is False:
            return
        await interaction.response.defer()
        async with self.app.db.session() as s:
            rows = await queries.totals(s, wallet_id=chosen.id if chosen else None)  # type: ignore[union-attr]
            donors = await queries.unique_senders(s)
            fiat = None if chosen else await fiat_totals(s, self.app.settings.valuation.currency)
        per_asset: dict[str, list[int]] = {}
        for t in rows:
            entry = per_asset.setdefault(t.asset, [t.decimals, 0, 0, 0])
            entry[1] += t.confirmed
            entry[2] += t.pending
            entry[3] += t.count
        title = f"Donations to {escape(chosen.label or chosen.address)}" if chosen else "Donations, all wallets"  # type: ignore[union-attr]
        embed = discord.Embed(title=title, colour=0x2E86DE)
        for asset, (dec, confirmed, pending, count) in sorted(per_asset.items()):
            value = f"**{amount(confirmed, dec)}** confirmed"
            if pending:
                value += f"\n{amount(pending, dec)} pending"
            embed.add_field(name=asset, value=f"{value}\n{count} donation{'s' if count != 1 else ''}")
        if fiat is not None and (fiat.valued_count or fiat.unvalued_count):
            value = f"**{display(fiat.confirmed, fiat.currency)}** confirmed"
            if fiat.pending:
                value += f"\n{display(fiat.pending, fiat.currency)} pending"
            if fiat.unvalued_count:
                value += f"\n{fiat.unvalued_count} not valued yet"
            embed.add_field(name=f"Value at arrival ({fiat.currency})", value=value, inline=False)
        count = sum(v[3] for v in per_asset.values())
        embed.description = f"{count} donations" + ("" if chosen else f" from {donors} unique donors") if per_asset else "No donations yet."
        await interaction.followup.send(embed=embed)

    @app_commands.command(name="recent", description="The latest donations")
    @app_commands.describe(count="How many (1-50)", wallet="Only this wallet")
    @app_commands.autocomplete(wallet=wallet_autocomplete)
    async def recent(self, interaction: discord.Interaction, count: app_commands.Range[int, 1, 50] = 10, wallet: str | None = None) -> None:
        chosen = await self._wallet(interaction, wallet)
        if chosen is False:
            return
        await interaction.response.defer()
        async with self.app.db.session() as s:
            rows = await queries.recent(s, count, wallet_id=chosen.id if chosen else None)  # type: ignore[union-attr]
            wallets = {w.id: w for w in await list_wallets(s, active_only=False)}
        lines = [transfer_line(t, wallets, self.app.settings) for t in rows]
        await send_pages(interaction, f"Latest {len(lines)} donation{'s' if len(lines) != 1 else ''}", lines)

    @app_commands.command(name="top", description="The largest donations of a period, per asset")
    @app_commands.describe(days="The last N days (1-3650)")
    async def top(self, interaction: discord.Interaction, days: app_commands.Range[int, 1, 3650] = 30) -> None:
        await interaction.response.defer()
        now = utcnow()
        async with self.app.db.session() as s:
            best = await largest_per_asset(s, now - timedelta(days=days), now, per_asset=10)
            wallets = {w.id: w for w in await list_wallets(s, active_only=False)}
        lines = []
        for asset, rows in best.items():
            lines += [f"{i}. {transfer_line(t, wallets, self.app.settings)}" for i, t in enumerate(rows, 1)]
        await send_pages(interaction, f"Largest donations of the last {days} day{'s' if days != 1 else ''}", lines)

    @app_commands.command(name="wallets", description="The official donation addresses, with QR codes")
    async def wallets(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        async with self.app.db.session() as s:
            cards = await wallet_cards(s, self.app.settings, await list_wallets(s))
        if not cards:
            await interaction.followup.send("No addresses are watched yet.")
            return
        for start in range(0, len(cards), MAX_EMBEDS):
            shown = [card_embed(card) for card in cards[start : start + MAX_EMBEDS]]
            await interaction.followup.send(
                content="Copy addresses only from here or the fund's own site; check the first and last characters." if start == 0 else None,
                embeds=[embed for embed, _ in shown], files=[file for _, file in shown if file is not None])

    @app_commands.command(name="tx", description="Is this transaction one of ours?")
    @app_commands.describe(txid="A Bitcoin txid or an Ethereum transaction hash")
    async def tx(self, interaction: discord.Interaction, txid: str) -> None:
        text = txid.strip()
        if not (BITCOIN_TXID.match(text) or EVM_TXID.match(text)):
            await refuse(interaction, TXID_HELP)
            return
        await interaction.response.defer()
        async with self.app.db.session() as s:
            found = await transfers_by_txid(s, text.lower())
            if not found and BITCOIN_TXID.match(text):
                found = await transfers_by_txid(s, "0x" + text.lower())
            tips = {d.transfer.chain: await chain_tip(s, d.transfer.chain) for d in found}
        if not found:
            await interaction.followup.send(f"`{text}` is not a donation to any address this bot watches (yet: new ones show within a poll).")
            return
        embed = discord.Embed(title="Yes, this transaction paid a watched address", colour=0x27AE60)
        for d in found[:25]:
            t = d.transfer
            tip = tips.get(t.chain)
            confirmations = f", {tip - t.block_height + 1} confirmations" if tip is not None and t.block_height is not None and t.status != "orphaned" else ""
            embed.add_field(name=f"{amount(t.amount, t.decimals)} {t.asset} to {escape(d.wallet.label or d.wallet.chain)}"[:256],
                            value=f"{t.status}{confirmations}" + (f" · block {t.block_height:,}" if t.block_height is not None else " · mempool"),
                            inline=False)
        url = tx_url(self.app.settings, found[0].transfer.chain, found[0].transfer.txid)
        if url:
            embed.url = url
        await interaction.followup.send(embed=embed)

    @app_commands.command(name="summary", description="The daily summary, now")
    async def summary(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        async with self.app.db.session() as s:
            message = await render_summary(s, self.app.settings)
        embed, file = to_embed(message)
        if file is not None:
            await interaction.followup.send(embed=embed, file=file)
        else:
            await interaction.followup.send(embed=embed)
