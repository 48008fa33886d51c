"""Wiring of the EVM watcher from its settings."""

from __future__ import annotations

from bot.settings import EvmChain
from ledger.database import Database
from watchers.ethereum import EvmWatcher
from watchers.evm_mapping import TokenSpec
from watchers.evm_source import EvmChainConfig


def config_from_settings(name: str, spec: EvmChain) -> EvmChainConfig:
    """The watcher's plain config for chain ``name`` from its validated settings."""
    return EvmChainConfig(
        name=name,
        chain_id=spec.chain_id,
        rpc_urls=tuple(spec.rpc_urls),
        native_symbol=spec.native_symbol,
        tokens=tuple(TokenSpec(symbol=t.symbol, address=t.address, decimals=t.decimals) for t in spec.token_allowlist()),
        confirmations=spec.confirmations,
        traces=spec.traces,
        timeout_seconds=spec.timeout_seconds,
        requests_per_second=spec.requests_per_second,
        max_log_addresses=spec.max_log_addresses,
    )


def build(name: str, spec: EvmChain, db: Database) -> EvmWatcher:
    """The EVM watcher for chain ``name``."""
    return EvmWatcher(config_from_settings(name, spec), db)
