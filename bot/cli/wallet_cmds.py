"""`donation-watch wallets add|list|remove`: the watched addresses kept in the ledger."""

from __future__ import annotations

from datetime import datetime

import click

from bot.app import App
from bot.cli import AppContext, pass_app, run_async
from bot.cli.dates import refuse_future
from bot.errors import ConfigError
from bot.history_wiring import plan_for_new_wallet
from ledger import wallets as ledger_wallets
from ledger.derived_addresses import next_unused_receive_address
from ledger.history_import import imports_of, status_of
from watchers.errors import clip

LABEL_MAX = 200  # the wallet table's label column


@click.group("wallets")
def wallets_group() -> None:
    """Watched wallets (those in the config file are added on every start)."""


def _chain(app: AppContext, chain: str) -> str:
    if chain not in app.settings.chains:
        known = ", ".join(sorted(app.settings.chains)) or "none"
        raise click.BadParameter(f'"{clip(chain)}" is not a configured chain (chains: {known})', param_hint="CHAIN")
    return chain


@wallets_group.command("add")
@click.argument("chain")
@click.argument("address")
@click.option("--label", default="", help="A name shown in chat.")
@click.option("--start-height", type=click.IntRange(min=0), default=None, help="First block of its history to import.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Import its history from this date (YYYY-MM-DD, UTC).")
@pass_app
def add(app: AppContext, chain: str, address: str, label: str, start_height: int | None, since: datetime | None) -> None:
    """Watch ADDRESS on CHAIN; with a start height or date, the running bot imports its history in the background."""
    from watchers.errors import InvalidAddress

    refuse_future(since)
    chain = _chain(app, chain)
    try:
        canonical = app.settings.canonical_address(chain, address)
    except InvalidAddress as exc:
        raise click.BadParameter(str(exc), param_hint="ADDRESS") from None

    if len(label) > LABEL_MAX:
        raise click.BadParameter(f"is {len(label):,} characters long; a label has at most {LABEL_MAX}", param_hint="--label")

    async def _go() -> ledger_wallets.WalletChange:
        async with await App.open(app.settings) as running:
            async with running.db.session() as s:
                change = await ledger_wallets.add_wallet(s, chain, canonical, label=label, start_height=start_height)
                if change.created or change.start_height_changed:
                    await plan_for_new_wallet(s, app.settings, change.wallet, since=since.date() if since else None)
                return change

    change = run_async(_go)
    click.echo(describe_change(change, chain, canonical))
    if since is not None and not (change.created or change.start_height_changed):
        # The history of a wallet already watched is imported by `import`, not by a second `add`.
        click.echo(f"--since applies to a new wallet; to import this one's history now: "
                   f"donation-watch import {chain} {canonical} --since {since:%Y-%m-%d}")


def describe_change(change: ledger_wallets.WalletChange, chain: str, address: str) -> str:
    """One line saying exactly what `wallets add` did."""
    if change.created:
        return f"added: {chain} {address}"
    done = []
    if change.reactivated:
        done.append("reactivated (it was retired; watching it again)")
    if change.old_label is not None:
        done.append(f'relabelled from "{change.old_label}" to "{change.wallet.label}"')
    if change.start_height_changed:
        before = "none" if change.old_start_height is None else str(change.old_start_height)
        done.append(f"start height changed from {before} to {change.wallet.start_height}")
    if not done:
        shown = f' (label "{change.wallet.label}")' if change.wallet.label else ""
        return f"already watched, nothing changed: {chain} {address}{shown}"
    return f"{', '.join(done)}: {chain} {address}"


@wallets_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include retired wallets.")
@pass_app
def list_(app: AppContext, show_all: bool) -> None:
    """List the watched wallets."""

    async def _go():  # type: ignore[no-untyped-def]
        async with await App.open(app.settings) as running:
            async with running.db.session() as s:
                wallets = await ledger_wallets.list_wallets(s, active_only=not show_all)
                imports = await imports_of(s, [w.id for w in wallets if w.id is not None])
                unused = {w.id: await next_unused_receive_address(s, w.id) for w in wallets if w.id is not None and "(" in w.address}
                return wallets, {wid: status_of(imp) for wid, imp in imports.items()}, unused

    wallets, imports, unused = run_async(_go)
    for w in wallets:
        state = "" if w.active else "  (retired)"
        history = f"  [{imports[w.id].describe()}]" if w.id in imports else ""
        receive = f"  [next unused receive address: {unused[w.id]}]" if unused.get(w.id) else ""
        click.echo(f"{w.chain:<10} {w.address:<64} {w.label}{state}{history}{receive}".rstrip())


@wallets_group.command("remove")
@click.argument("chain")
@click.argument("address")
@pass_app
def remove(app: AppContext, chain: str, address: str) -> None:
    """Stop watching ADDRESS on CHAIN; its donations stay in the ledger."""
    from watchers.errors import InvalidAddress

    chain = _chain(app, chain)
    try:
        canonical = app.settings.canonical_address(chain, address)
    except InvalidAddress as exc:
        raise click.BadParameter(str(exc), param_hint="ADDRESS") from None
    if any(w.chain == chain and w.address == canonical for w in app.settings.wallets):
        raise ConfigError(app.config_path, "wallets", f"{canonical} is listed in the file; remove it there too, or it returns on the next start")

    async def _go() -> bool:
        async with await App.open(app.settings) as running:
            async with running.db.session() as s:
                wallet = await ledger_wallets.get_wallet(s, chain, canonical)
                if wallet is not None and not wallet.active:
                    return False
                await ledger_wallets.retire_wallet(s, chain, canonical)
                return True

    if run_async(_go):
        click.echo(f"retired: {chain} {canonical}")
    else:
        click.echo(f"already retired, nothing changed: {chain} {canonical}")


def register(group: click.Group) -> None:
    group.add_command(wallets_group)
