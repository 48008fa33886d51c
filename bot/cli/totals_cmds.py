"""`donation-watch totals`: what each wallet has received, as a table."""

from __future__ import annotations

import click

from bot.app import App
from bot.cli import AppContext, pass_app, run_async
from bot.format import amount
from ledger import queries


@click.command("totals")
@pass_app
def totals(app: AppContext) -> None:
    """Print confirmed and pending totals per wallet and asset."""

    async def _go():  # type: ignore[no-untyped-def]
        async with await App.open(app.settings) as running:
            async with running.db.session() as s:
                return await queries.totals(s), await queries.unique_senders(s)

    rows, senders = run_async(_go)
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


def register(group: click.Group) -> None:
    group.add_command(totals)
