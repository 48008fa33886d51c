"""Wiring of the bitcoin watcher from its settings."""

from __future__ import annotations

from bot.settings import BitcoinChain
from ledger.database import Database
from watchers.base import Watcher
from watchers.bitcoin import BitcoinChainConfig, BitcoinWatcher


def config_from_settings(name: str, spec: BitcoinChain) -> BitcoinChainConfig:
    """The watcher's own config from the bot's settings (watchers never import bot)."""
    return BitcoinChainConfig(
        name=name,
        esplora_urls=tuple(spec.esplora_urls),
        network=spec.network,
        confirmations=spec.confirmations,
        requests_per_second=spec.requests_per_second,
        timeout_seconds=spec.timeout_seconds,
    )


def build(name: str, spec: BitcoinChain, db: Database) -> Watcher:
    """The bitcoin watcher for chain `name`."""
    return BitcoinWatcher(config_from_settings(name, spec), db)
