"""`donation-watch import CHAIN ADDRESS [--since DATE]`: a wallet's whole history, now, with a progress bar."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import click

from bot.app import App
from bot.cli import AppContext, pass_app, run_async

if TYPE_CHECKING:
    from watchers.evm_history import ImportOutcome, ImportProgress


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

    async def _go() -> tuple[ImportOutcome, int] | str:
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
                return outcome, wallet_id
            finally:
                await importer.close()
                await watcher.close()

    result = run_async(_go)
    if isinstance(result, str):
        click.echo(f"error: {result}", err=True)
        raise SystemExit(1)
    outcome, _ = result
    rejected = f", {outcome.rejected} explorer leads rejected by the node" if outcome.rejected else ""
    if outcome.finished:
        tail = "history complete"
    else:
        tail = f"history through block {outcome.through}; the running bot continues from there"
    click.echo(f"import {chain} {canonical}: {outcome.stored} transfers stored as history{rejected}; {tail}")


def register(group: click.Group) -> None:
    group.add_command(import_)
