"""`donation-watch run` and `donation-watch poll --once`: the watchers, with console output."""

from __future__ import annotations

import logging

import click

from bot import screening_wiring
from bot.app import open_database
from bot.chains import build_watchers
from bot.cli import AppContext, pass_app, run_async
from bot.history_wiring import build_importer
from bot.console import ConsoleNotifier
from bot.runner import Runner, WatcherHealth, poll_once

log = logging.getLogger(__name__)
# How often the runner looks for history imports to start or continue (each run goes to the end).
HISTORY_IMPORT_SECONDS = 30.0


@click.command("poll")
@click.option("--once", is_flag=True, required=True, help="Poll every watcher once and exit.")
@pass_app
def poll(app: AppContext, once: bool) -> None:
    """Poll every configured chain once and print what was stored."""

    async def _go() -> int:
        db = await open_database(app.settings)
        watchers = build_watchers(app.settings, db)
        notifier = ConsoleNotifier(db)
        await notifier.start_from_now()
        failed = 0
        try:
            after = await screening_wiring.after_poll_steps(app.settings, db)
            for watcher in watchers:
                report = await poll_once(watcher, db, WatcherHealth(), after=after)
                state = "ok" if report.ok else "FAILED: " + "; ".join(report.errors)
                click.echo(f"{report.chain}: {report.new} new, {report.confirmed} confirmed, "
                           f"{report.orphaned} orphaned, {report.requests} requests, height {report.height} - {state}")
                failed += not report.ok
            await notifier.flush()
        finally:
            for watcher in watchers:
                await watcher.close()
            await db.close()
        return 1 if failed else 0

    raise SystemExit(run_async(_go))


@click.command("run")
@pass_app
def run(app: AppContext) -> None:
    """Run the bot: watch every chain on its schedule and report (console without a Discord token)."""
    settings = app.settings
    logging.getLogger().setLevel(settings.log_level)

    async def _go() -> None:
        db = await open_database(settings)
        watchers = build_watchers(settings, db)
        runner = Runner(db)
        notifier = ConsoleNotifier(db)
        await notifier.start_from_now()
        after = await screening_wiring.after_poll_steps(settings, db)
        for watcher in watchers:
            runner.add_watcher(watcher, settings.chains[watcher.chain].poll_seconds, after=after)
        runner.add_job("notify:console", notifier.flush, 5)
        importer = build_importer(settings, db, watchers)
        runner.add_job("history:import", importer.run_pending, HISTORY_IMPORT_SECONDS)
        for name, fn, seconds in await screening_wiring.periodic_jobs(settings, db):
            runner.add_job(name, fn, seconds)
        if settings.discord.token is None:
            click.echo("no Discord token (DONATION_WATCH_DISCORD__TOKEN): messages go to this console")
        click.echo(f"watching {len(settings.wallets)} configured wallet(s) on {', '.join(settings.chains) or 'no chains'}; Ctrl-C stops")
        try:
            await runner.run_forever()
        finally:
            await importer.close()
            for watcher in watchers:
                await watcher.close()
            await db.close()

    run_async(_go)
    click.echo("stopped")


def register(group: click.Group) -> None:
    group.add_command(poll)
    group.add_command(run)
