"""`donation-watch check-config`: validate a settings file without starting anything."""

from __future__ import annotations

import click

from bot.cli import AppContext, pass_app, run_async
from bot.chains import family_of
from bot.settings import load_settings
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
        source = family_of(chain).sources(chain)
        click.echo(f"  chain {name} ({chain.kind}): {len(source)} source(s)")
    for wallet in settings.wallets:
        click.echo(f"  wallet {wallet.chain} {wallet.address} {wallet.label}".rstrip())
    run_async(_ping, settings.database.effective_url())
    click.echo(f"  database: {redact(settings.database.url)} (reachable)")
    click.echo(f"  discord: {'token set' if settings.discord.token else 'no token, console output'}")


async def _ping(url: str) -> None:
    db = Database(url)
    try:
        await db.ping()
    finally:
        await db.close()



def register(group: click.Group) -> None:
    group.add_command(check_config)
