"""`donation-watch run` and `donation-watch poll --once`: the watchers, with console output."""

from __future__ import annotations

import logging

import click

from bot.app import ROLES, App
from bot.cli import AppContext, pass_app, run_async

log = logging.getLogger(__name__)


@click.command("poll")
@click.option("--once", is_flag=True, required=True, help="Poll every watcher once and exit.")
@pass_app
def poll(ctx: AppContext, once: bool) -> None:
    """Poll every configured chain once and print what was stored."""
    from bot.runner import WatcherHealth, poll_once

    async def _go() -> int:
        failed = 0
        async with await App.open(ctx.settings) as app:
            await app.setup()
            for watcher in app.watchers.values():
                report = await poll_once(watcher, app.db, WatcherHealth(), after=app.after_poll)
                state = "ok" if report.ok else "FAILED: " + "; ".join(report.errors)
                click.echo(f"{report.chain}: {report.new} new, {report.confirmed} confirmed, "
                           f"{report.orphaned} orphaned, {report.requests} requests, height {report.height} - {state}")
                failed += not report.ok
            for channel in app.channels.values():
                await channel.flush()
        return 1 if failed else 0

    raise SystemExit(run_async(_go))


@click.command("run")
@click.option("--role", type=click.Choice(ROLES), default="all", show_default=True,
              help="Which work this instance takes when several share one PostgreSQL: the chain watchers, the chat bot, or all.")
@pass_app
def run(ctx: AppContext, role: str) -> None:
    """Run the bot: watch every chain on its schedule and report (console without a Discord token)."""
    from bot.service import serve

    settings = ctx.settings

    async def _go() -> None:
        async with await App.open(settings, role=role) as app:  # type: ignore[arg-type]
            if settings.discord.token is None:
                click.echo("no Discord token (DONATION_WATCH_DISCORD__TOKEN): messages go to this console")
            click.echo(f"watching {len(settings.wallets)} configured wallet(s) on {', '.join(settings.chains) or 'no chains'}; Ctrl-C stops")
            await serve(app)

    run_async(_go)
    click.echo("stopped")


def register(group: click.Group) -> None:
    group.add_command(poll)
    group.add_command(run)
