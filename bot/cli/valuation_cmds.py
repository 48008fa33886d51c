"""`donation-watch revalue [--since DATE]`: value the transfers that have no fiat value yet."""

from __future__ import annotations

from datetime import datetime, timezone

import click

from bot import valuation_wiring
from bot.app import open_database
from bot.cli import AppContext, pass_app, run_async
from valuation.valuer import ValuationReport, refresh_prices, value_pending


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (use YYYY-MM-DD or YYYY-MM-DDTHH:MM)", param_hint="--since") from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


@click.command("revalue")
@click.option("--since", "since", metavar="DATE", help="Only transfers that arrived on or after DATE (UTC, YYYY-MM-DD).")
@pass_app
def revalue(app: AppContext, since: str | None) -> None:
    """Value every donation that has no fiat value yet (exit 1 if some still could not be priced)."""
    start = _since(since)

    async def _go() -> ValuationReport:
        db = await open_database(app.settings)
        valuation = valuation_wiring.Valuation(app.settings, db)
        try:
            report = await value_pending(db, valuation.sources, valuation.config, since=start)
            await refresh_prices(db, valuation.sources, valuation.config)
            return report
        finally:
            await valuation.close()
            await db.close()

    report = run_async(_go)
    currency = app.settings.valuation.currency
    click.echo(f"valued {report.valued} transfer(s) in {currency}, {report.unvalued} still unvalued, "
               f"{report.requests} price request(s)")
    for error in dict.fromkeys(report.errors):
        click.echo(f"  {error}")
    raise SystemExit(1 if report.unvalued else 0)


def register(group: click.Group) -> None:
    group.add_command(revalue)
