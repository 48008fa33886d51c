"""`donation-watch export`: every counted donation for accounting, as CSV or JSON, streamed."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone

import click

from bot import export
from bot.app import open_database
from bot.cli import AppContext, pass_app, run_async


def _day(value: datetime | None, *, end: bool) -> datetime | None:
    if value is None:
        return None
    value = value.replace(tzinfo=timezone.utc)
    return value + timedelta(days=1) if end else value


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True,
              help="CSV with a header row, or one JSON array.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="First day to include (UTC, YYYY-MM-DD).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last day to include (UTC, YYYY-MM-DD).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write here instead of stdout.")
@pass_app
def export_cmd(app: AppContext, fmt: str, since: datetime | None, until: datetime | None, output: str | None) -> None:
    """Export donations (date, chain, txid, amount, fiat at arrival, senders, status, screening) in constant memory."""
    if since is not None and until is not None and until < since:
        raise click.BadParameter(f"{until:%Y-%m-%d} is before --since {since:%Y-%m-%d}", param_hint="--until")
    settings = app.settings
    try:
        out = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout
    except OSError as exc:
        raise click.BadParameter(f"cannot write {output}: {exc.strerror} (name a file in an existing, writable folder)",
                                 param_hint="--output") from None

    async def _go() -> None:
        db = await open_database(settings)
        try:
            async for chunk in export.stream(db, fmt, since=_day(since, end=False), until=_day(until, end=True),
                                             currency=settings.valuation.currency):
                out.write(chunk)
            out.flush()
        finally:
            if output:
                out.close()
            await db.close()

    run_async(_go)


def register(group: click.Group) -> None:
    group.add_command(export_cmd)
