"""`donation-watch totals`: what each wallet has received, as a table."""

from __future__ import annotations

import click

from bot.app import App
from bot.cli import AppContext, pass_app, run_async
from bot.format import amount
from ledger import queries
from valuation.money import display
from valuation.totals import FiatTotals, fiat_totals


@click.command("totals")
@pass_app
def totals(app: AppContext) -> None:
    """Print confirmed and pending totals per wallet and asset, and their value in the fund's currency."""
    currency = app.settings.valuation.currency

    async def _go():  # type: ignore[no-untyped-def]
        async with await App.open(app.settings) as running:
            async with running.db.session() as s:
                return await queries.totals(s), await queries.unique_senders(s), await fiat_totals(s, currency)

    rows, senders, fiat = run_async(_go)
    if not rows:
        click.echo("no donations recorded yet")
        return
    header = f"{'chain':<10} {'wallet':<26} {'asset':<6} {'confirmed':>24} {'with pending':>24} {'count':>7}"
    click.echo(header)
    click.echo("-" * len(header))
    for t in rows:
        name = (t.label or t.address)[:26]
        click.echo(
            f"{t.chain:<10} {name:<26} {t.asset:<6} {amount(t.confirmed, t.decimals):>24} "
            f"{amount(t.with_pending, t.decimals):>24} {t.count:>7}"
        )
    click.echo(f"unique senders: {senders}")
    _print_fiat(fiat)


def _print_fiat(fiat: FiatTotals) -> None:
    """Value at arrival per asset and overall; the unvalued are counted, never taken as zero."""
    c = fiat.currency
    click.echo("")
    header = f"{'asset':<6} {'confirmed at arrival':>24} {'pending at arrival':>22} {'unvalued':>9} {'value now':>22}"
    click.echo(header)
    click.echo("-" * len(header))
    for a in fiat.assets:
        now = display(a.value_now, c) if a.value_now is not None else "no price yet"
        click.echo(f"{a.asset:<6} {display(a.confirmed_value, c):>24} {display(a.pending_value, c):>22} "
                   f"{a.unvalued_count:>9} {now:>22}")
    # No asset priced now: the overall "value now" is unknown, not 0.00.
    all_now = "no price yet" if fiat.assets and all(a.value_now is None for a in fiat.assets) else display(fiat.value_now, c)
    click.echo(f"{'all':<6} {display(fiat.confirmed, c):>24} {display(fiat.pending, c):>22} "
               f"{fiat.unvalued_count:>9} {all_now:>22}")
    if fiat.unvalued_count:
        click.echo(f"{fiat.unvalued_count} donation(s) not valued yet (no price so far): not included above; "
                   "`donation-watch revalue` retries")
    if fiat.assets_without_price_now:
        click.echo(f"value now leaves out {', '.join(fiat.assets_without_price_now)} (no price cached yet)")


def register(group: click.Group) -> None:
    group.add_command(totals)
