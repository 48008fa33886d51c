"""`donation-watch import CHAIN ADDRESS [--since DATE]`: a wallet's whole history, now, with a progress bar.

What it stores is screened and valued at each transfer's time (as the watchers' polls do), and the
command ends with one line: how many transfers, how much of each asset, and their value at arrival.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import click

from bot.app import App
from bot.cli import AppContext, pass_app, run_async

if TYPE_CHECKING:
    from valuation.valuer import ValuationReport
    from watchers.evm_history import ImportOutcome, ImportProgress

RETRIED = "the running bot retries, or `donation-watch revalue`"


@dataclass(frozen=True, slots=True)
class Stored:
    """What an import stored: per asset (decimals, count, sum), the values found, why some have none."""

    assets: dict[str, tuple[int, int, int]]
    currency: str
    values: list[Decimal]
    unvalued: int
    reason: str | None


@click.command("import")
@click.argument("chain")
@click.argument("address")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Only history from this date (YYYY-MM-DD, UTC).")
@click.option("--label", default="", help="A name shown in chat, when the wallet is new.")
@pass_app
def import_(app: AppContext, chain: str, address: str, since: datetime | None, label: str) -> None:
    """Import the history of ADDRESS on CHAIN (watching it from now on), recorded as history: not announced, screened."""
    from bot.cli.dates import refuse_future

    refuse_future(since)
    # Imported here, not at the top: every other command starts faster without the chain clients.
    from bot.chains import family_of
    from bot.cli.progress import ProgressBar
    from bot.history_wiring import build_importer, day_start, history_unit
    from ledger import wallets as ledger_wallets
    from ledger.history_import import get_import, plan_import
    from ledger.history_tables import ImportState
    from watchers.errors import InvalidAddress, MalformedResponse, SourceUnavailable

    settings = app.settings
    spec = settings.chains.get(chain)
    if spec is None:
        known = ", ".join(sorted(settings.chains)) or "none"
        raise click.BadParameter(f"{chain!r} is not a configured chain (chains: {known})", param_hint="CHAIN")
    try:
        canonical = settings.canonical_address(chain, address)
    except InvalidAddress as exc:
        raise click.BadParameter(str(exc), param_hint="ADDRESS") from None
    bar = ProgressBar(f"import {chain}", history_unit(settings, chain).removesuffix("s"))

    def _progress(p: ImportProgress) -> None:
        bar.show(p.done, p.total, stored=p.stored, rejected=p.rejected)

    async def _go() -> tuple[ImportOutcome, Stored] | str:
        async with await App.open(settings) as app:
            # Only this chain's watcher (whose client, and so rate limit, the import shares).
            watcher = family_of(spec).build(chain, spec, app.db)
            importer = build_importer(settings, app.db, {chain: watcher})
            try:
                async with app.db.session() as s:
                    wallet, _ = await ledger_wallets.upsert_wallet(s, chain, canonical, label=label)
                    assert wallet.id is not None
                    earlier = await get_import(s, wallet.id)
                    # An unfinished import (stopped by an outage, or the bot's own) goes on from where it
                    # stopped; a finished one is done again, as asked.
                    resume = earlier is not None and earlier.state != ImportState.DONE
                    await plan_import(
                        s, wallet, since_height=None if since else wallet.start_height,
                        since_time=day_start(since.date()) if since else None, force=not resume,
                        unit=history_unit(settings, chain),
                    )
                    wallet_id = wallet.id
                try:
                    outcome = await importer.run_one(chain, wallet_id, progress=_progress)
                except (SourceUnavailable, MalformedResponse) as exc:
                    # Not the operator's mistake (exit 1, not 2): an outage. What was stored stays.
                    async with app.db.session() as s:
                        row = await get_import(s, wallet_id)
                    stored = row.stored if row is not None else 0
                    why = "did not answer" if isinstance(exc, SourceUnavailable) else "gave an answer that cannot be read"
                    return (f"import {chain} {canonical} stopped: the chain's sources {why} ({exc}); "
                            f"nothing is lost ({stored} transfers stored so far are kept): run the same command again "
                            "to resume where it stopped, or let `donation-watch run` finish it (it retries unfinished imports)")
                finally:
                    bar.close()  # before the screening's log lines
                await app.screener.ensure_lists()
                await app.screener.screen_new()  # the imported senders are screened like any others
                report = await _value(app, outcome.transfer_ids)
                return outcome, await _stored(app, outcome.transfer_ids, report)
            finally:
                await importer.close()
                await watcher.close()

    result = run_async(_go)
    if isinstance(result, str):
        click.echo(f"error: {result}", err=True)
        raise SystemExit(1)
    click.echo(describe(chain, canonical, *result))


async def _value(app: App, transfer_ids: list[int]) -> ValuationReport:
    """Value what the import stored at each transfer's time, through the configured price sources."""
    from bot.valuation_wiring import Valuation
    from valuation.valuer import ValuationReport, value_pending

    if not transfer_ids:
        return ValuationReport()
    valuation = Valuation(app.settings, app.db)
    try:
        return await value_pending(app.db, valuation.sources, valuation.config, transfer_ids=transfer_ids)
    finally:
        await valuation.close()


async def _stored(app: App, transfer_ids: list[int], report: ValuationReport) -> Stored:
    from bot.fiat import values_of
    from ledger.queries import totals_of

    currency = app.settings.valuation.currency
    async with app.db.session() as s:
        assets = await totals_of(s, transfer_ids)
        values = await values_of(s, transfer_ids, currency)
    reason = report.errors[-1] if report.errors else None
    return Stored(assets, currency, [v.value for v in values.values()], len(transfer_ids) - len(values), reason)


def describe(chain: str, address: str, outcome: ImportOutcome, stored: Stored) -> str:
    """The import's last line: what it stored, in each asset and in the fund's currency at arrival."""
    from bot.format import amount
    from valuation.money import display, exact_sum
    from watchers.errors import clip

    n = outcome.stored
    said = f"import {chain} {address}: {n} transfer{'' if n == 1 else 's'} stored as history"
    if outcome.rejected:
        said += f", {outcome.rejected} explorer leads rejected by the node"
    if stored.assets:
        said += ": " + ", ".join(f"{amount(total, dec)} {asset}" for asset, (dec, _, total) in sorted(stored.assets.items()))
    why = f"{clip(stored.reason, 160) if stored.reason else 'no price yet'}; {RETRIED}"
    worth = display(exact_sum(stored.values), stored.currency)
    if stored.values and not stored.unvalued:
        said += f", worth {worth} at arrival"
    elif stored.values:
        said += f", worth {worth} at arrival for {len(stored.values)} of them ({stored.unvalued} not valued yet: {why})"
    elif stored.unvalued:
        said += f", not valued yet ({why})"
    if outcome.finished:
        return f"{said}; history complete"
    return f"{said}; history through block {outcome.through}; the running bot continues from there"


def register(group: click.Group) -> None:
    group.add_command(import_)
