"""Wiring of wallet-history imports: which new wallets get one, and the importer of every configured chain.

A wallet added while its chain is already followed (config, `wallets add`, the chat's watch
command) gets its history imported in the background: the live watcher only ever looks forward.
On a chain not yet polled, the first poll itself starts from the wallets' start heights, except
on an EVM chain with an explorer configured, where the history comes from the explorer (minutes)
and the first poll starts at the tip.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timezone

from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import BitcoinChain, EvmChain, Settings
from ledger.database import Database
from ledger.history_import import chain_started, plan_import
from ledger.history_tables import WalletImport
from ledger.models import Wallet
from watchers.base import Watcher
from watchers.bitcoin import BitcoinWatcher
from watchers.bitcoin_history import BitcoinHistory
from watchers.ethereum import EvmWatcher
from watchers.evm_history import EvmHistory
from watchers.evm_source import EvmSource
from watchers.explorer_client import ExplorerClient, ExplorerConfig
from watchers.history_import import ChainHistory, HistoryImporter

log = logging.getLogger(__name__)


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of ``day``."""
    return datetime.combine(day, time(0), tzinfo=timezone.utc)


async def plan_for_new_wallet(
    session: AsyncSession, settings: Settings, wallet: Wallet, *, since: date | None = None
) -> WalletImport | None:
    """Plan the history import of a wallet just added, when its chain needs one (see the module docstring)."""
    spec = settings.chains.get(wallet.chain)
    if spec is None:
        return None
    since_time = day_start(since) if since is not None else None
    if isinstance(spec, EvmChain):
        if wallet.start_height is None and since_time is None:
            return None  # no history asked for: the wallet is watched from now on
        if not (spec.explorer is not None or await chain_started(session, wallet.chain)):
            return None
    elif not await chain_started(session, wallet.chain):
        return None  # the first poll's first sync reads the whole address history
    imp = await plan_import(
        session, wallet, since_height=wallet.start_height, since_time=since_time,
        unit="transactions" if isinstance(spec, BitcoinChain) else "blocks",
    )
    log.info("history import planned chain=%s address=%s since=%s", wallet.chain, wallet.address,
             wallet.start_height if wallet.start_height is not None else since or "the first transaction")
    return imp


def explorer_client(settings: Settings, spec: EvmChain) -> ExplorerClient | None:
    """The chain's explorer client, with the Etherscan key from the environment."""
    ex = spec.explorer
    if ex is None:
        return None
    key = settings.etherscan_api_key.get_secret_value() if (ex.kind == "etherscan" and settings.etherscan_api_key) else None
    return ExplorerClient(ExplorerConfig(
        url=ex.url, chain_id=spec.chain_id if ex.kind == "etherscan" else None, api_key=key,
        requests_per_second=ex.rate(), page_size=ex.page_size, timeout_seconds=spec.timeout_seconds,
    ))


def build_importer(settings: Settings, db: Database, watchers: list[Watcher]) -> HistoryImporter:
    """The importer of every configured chain, sharing each live watcher's client (one rate limit per source)."""
    chains: dict[str, ChainHistory] = {}
    for watcher in watchers:
        spec = settings.chains[watcher.chain]
        if isinstance(watcher, EvmWatcher) and isinstance(spec, EvmChain):
            source = EvmSource(watcher.config, watcher.rpc)  # its own source: the live one keeps prefetched state
            chains[watcher.chain] = EvmHistory(db, source, explorer_client(settings, spec), batch_blocks=watcher.config.blocks_per_range)
        elif isinstance(watcher, BitcoinWatcher) and isinstance(spec, BitcoinChain):
            chains[watcher.chain] = BitcoinHistory(db, watcher.client, watcher.chain, confirmations=spec.confirmations)
    return HistoryImporter(db, chains)
