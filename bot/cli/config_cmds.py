"""`donation-watch check-config`: validate a settings file without starting anything."""

from __future__ import annotations

import click

from bot.cli import AppContext, pass_app, run_async
from bot.chains import family_of
from bot.chains.bitcoin import BitcoinChain
from bot.settings import Settings, load_settings
from ledger.probe import active_wallets, redact


@click.command("check-config")
@click.argument("file", required=False)
@pass_app
def check_config(app: AppContext, file: str | None) -> None:
    """Check FILE (default: --config) and print what it would watch."""
    path = file or app.config_path
    settings = load_settings(path)
    stored = run_async(active_wallets, settings.database.effective_url())  # an unreachable database is the one line said
    click.echo(f"{path}: OK")
    for name, chain in settings.chains.items():
        source = family_of(chain).sources(chain)
        click.echo(f"  chain {name} ({chain.kind}): {len(source)} source(s)")
    for wallet in settings.wallets:
        click.echo(f"  wallet {wallet.chain} {wallet.address} {wallet.label}".rstrip())
    click.echo(f"  database: {redact(settings.database.url)} (reachable)")
    for line in discord_readiness(settings):
        click.echo(f"  discord: {line}")
    if not settings.chains:
        click.echo("  warning: no [chains.NAME] table: nothing is watched (see config/example.toml)")
    for line in poll_budget_warnings(settings, stored):
        click.echo(f"  warning: {line}")


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


def poll_budget_warnings(settings: Settings, stored: dict[str, set[str]]) -> list[str]:
    """A line for each Bitcoin chain whose poll cannot finish within its interval at its rate limit.

    Esplora is polled once per address, so a poll takes at least addresses / requests_per_second.
    ``stored`` holds the active wallets already in the ledger, by chain (added with `wallets add`).
    """
    out = []
    for name, chain in settings.chains.items():
        if not isinstance(chain, BitcoinChain):
            continue
        addresses = stored.get(name, set()) | {w.address for w in settings.wallets if w.chain == name}
        needed = len(addresses) / chain.requests_per_second
        if needed > chain.poll_seconds:
            out.append(
                f"chains.{name}: {len(addresses)} addresses at requests_per_second = {chain.requests_per_second:g} "
                f"take {needed:,.0f} s to poll, longer than poll_seconds = {chain.poll_seconds:g}; raise "
                f"requests_per_second to {len(addresses) / chain.poll_seconds:,.1f} (your own Esplora server allows it) "
                f"or poll_seconds to {needed:,.0f}"
            )
    return out


def register(group: click.Group) -> None:
    group.add_command(check_config)
