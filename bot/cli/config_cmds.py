"""`donation-watch check-config`: validate a settings file without starting anything."""

from __future__ import annotations

import click

from bot.cli import AppContext, pass_app, run_async
from bot.settings import BitcoinChain, Settings, load_settings
from ledger.database import Database, redact


@click.command("check-config")
@click.argument("file", required=False)
@pass_app
def check_config(app: AppContext, file: str | None) -> None:
    """Check FILE (default: --config) and print what it would watch."""
    path = file or app.config_path
    settings = load_settings(path)
    click.echo(f"{path}: OK")
    for name, chain in settings.chains.items():
        source = chain.esplora_urls if isinstance(chain, BitcoinChain) else chain.rpc_urls
        click.echo(f"  chain {name} ({chain.kind}): {len(source)} source(s)")
    for wallet in settings.wallets:
        click.echo(f"  wallet {wallet.chain} {wallet.address} {wallet.label}".rstrip())
    run_async(_ping, settings.database.effective_url())
    click.echo(f"  database: {redact(settings.database.url)} (reachable)")
    for line in discord_readiness(settings):
        click.echo(f"  discord: {line}")


def discord_readiness(settings: Settings) -> list[str]:
    """What is set up for Discord and, for each missing setting, what is lost without it."""
    d = settings.discord
    if d.token is None:
        return ["no token (set DONATION_WATCH_DISCORD__TOKEN): every message goes to the console"]
    lines = ["token set"]
    missing = [
        (d.guild_id, "discord.guild_id", "slash commands are synced globally and take up to an hour to appear"),
        (d.alerts_channel_id, "discord.alerts_channel_id", "donation, sanctions and health alerts are not posted"),
        (d.summary_channel_id, "discord.summary_channel_id", "the daily summary goes to the alerts channel"),
        (d.operator_role_id, "discord.operator_role_id",
         "only members with Manage Server may use /watch and /screen, and sanctions alerts mention nobody"),
    ]
    for value, key, loss in missing:
        lines.append(f"{key} = {value}" if value else f"{key} is not set: {loss}")
    return lines


async def _ping(url: str) -> None:
    db = Database(url)
    try:
        await db.ping()
    finally:
        await db.close()



def register(group: click.Group) -> None:
    group.add_command(check_config)
