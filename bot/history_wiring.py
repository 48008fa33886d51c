"""Wiring of wallet-history imports: which new wallets get one, each chain's importer, the background job.

A wallet added while its chain is already followed (config, `wallets add`, the chat's watch
command) gets its history imported in the background: the live watcher only ever looks forward.
On a chain not yet polled, the first poll itself starts from the wallets' start heights, except
on an EVM chain with an explorer configured, where the history comes from the explorer (minutes)
and the first poll starts at the tip.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timezone
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.chains import family_of
from bot.settings import Settings
from ledger.history_import import chain_started, plan_import
from ledger.history_tables import WalletImport
from ledger.models import Wallet

if TYPE_CHECKING:
    from bot.app import App
    from ledger.database import Database
    from watchers.base import Watcher
    from watchers.history_import import HistoryImporter

log = logging.getLogger(__name__)
# How often the runner looks for history imports to start or continue (each run goes to the end).
HISTORY_IMPORT_SECONDS = 30.0


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of ``day``."""
    return datetime.combine(day, time(0), tzinfo=timezone.utc)


def history_unit(settings: Settings, chain: str) -> str:
    """What an import of this chain counts its progress in (blocks or transactions)."""
    return family_of(settings.chains[chain]).history_unit


async def plan_for_new_wallet(
    session: AsyncSession, settings: Settings, wallet: Wallet, *, since: date | None = None
) -> WalletImport | None:
    """Plan the history import of a wallet just added, when its chain needs one (see the module docstring)."""
    spec = settings.chains.get(wallet.chain)
    if spec is None:
        return None
    family = family_of(spec)
    if family.history is None:
        return None
    since_time = day_start(since) if since is not None else None
    if family.history_needs_start and wallet.start_height is None and since_time is None:
        return None  # no history asked for: the wallet is watched from now on
    explorer = getattr(spec, "explorer", None) is not None
    if not (explorer or await chain_started(session, wallet.chain)):
        return None  # the chain's first poll starts from the wallets' start heights itself
    imp = await plan_import(session, wallet, since_height=wallet.start_height, since_time=since_time, unit=family.history_unit)
    log.info("history import planned chain=%s address=%s since=%s", wallet.chain, wallet.address,
             wallet.start_height if wallet.start_height is not None else since or "the first transaction")
    return imp


def build_importer(settings: Settings, db: Database, watchers: dict[str, Watcher]) -> HistoryImporter:
    """The importer of every configured chain, sharing each live watcher's client (one rate limit per source)."""
    from watchers.history_import import HistoryImporter

    chains = {}
    for name, watcher in watchers.items():
        family = family_of(settings.chains[name])
        if family.history is not None:
            chains[name] = family.history(name, settings.chains[name], db, watcher, settings)
    return HistoryImporter(db, chains)


def setup(app: App) -> None:
    """Run the unfinished history imports in the background, beside the live watchers."""
    if not app.runs("watchers"):
        return
    state: dict[str, HistoryImporter] = {}

    async def run_pending() -> None:
        if "importer" not in state:
            state["importer"] = build_importer(app.settings, app.db, app.watchers)
        await state["importer"].run_pending()

    async def close() -> None:
        if "importer" in state:
            await state["importer"].close()

    app.add_job("history:import", run_pending, HISTORY_IMPORT_SECONDS, role="watchers")
    app.on_close(close)
