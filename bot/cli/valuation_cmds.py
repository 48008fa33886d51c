"""`donation-watch revalue [--since DATE]`: value the transfers that have no fiat value yet."""

from __future__ import annotations

from datetime import datetime, timezone

import click

from bot import valuation_wiring
from bot.app import App
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
def revalue(ctx: AppContext, since: str | None) -> None:
    """Value every donation that has no fiat value yet (exit 1 if some still could not be priced)."""
    start = _since(since)

    async def _go() -> ValuationReport:
        async with await App.open(ctx.settings) as app:
            valuation = valuation_wiring.Valuation(app.settings, app.db)
            app.on_close(valuation.close)
            report = await value_pending(app.db, valuation.sources, valuation.config, since=start)
            await refresh_prices(app.db, valuation.sources, valuation.config)
            return report

    report = run_async(_go)
    currency = ctx.settings.valuation.currency
    click.echo(f"valued {report.valued} transfer(s) in {currency}, {report.unvalued} still unvalued, "
               f"{report.requests} price request(s)")
    for error in dict.fromkeys(report.errors):
        click.echo(f"  {error}")
    raise SystemExit(1 if report.unvalued else 0)


def register(group: click.Group) -> None:
    group.add_command(revalue)
