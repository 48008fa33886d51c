"""The Bitcoin chain family: settings of an Esplora-watched network, its addresses, its watcher."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from bot.chains.family import BlockCount, ChainFamily, HttpUrl, StrictModel

if TYPE_CHECKING:
    from ledger.database import Database
    from watchers.base import Watcher
    from watchers.bitcoin import BitcoinWatcher
    from watchers.bitcoin_history import BitcoinHistory
    from watchers.bitcoin import BitcoinChainConfig


class BitcoinChain(StrictModel):
    """A Bitcoin network watched through Esplora HTTP APIs."""

    kind: Literal["bitcoin"]
    network: Literal["mainnet", "testnet", "regtest"] = "mainnet"
    esplora_urls: Annotated[list[HttpUrl], Field(min_length=1)]
    confirmations: BlockCount = 6
    alert_confirmations: Annotated[int, Field(ge=0)] = 1
    requests_per_second: Annotated[float, Field(gt=0)] = 2.0
    poll_seconds: Annotated[float, Field(gt=0)] = 60.0
    timeout_seconds: Annotated[float, Field(gt=0)] = 20.0
    # Extended-key (xpub/descriptor) wallets: unused addresses derived past the last used one.
    gap_limit: Annotated[int, Field(ge=1, le=1000)] = 20
    # /healthz turns 503 when the last good poll is older than this (default: 3 polls + 2 minutes).
    max_lag_seconds: Annotated[float, Field(gt=0)] | None = None


def address(spec: BitcoinChain, text: str) -> str:
    """The canonical form of a Bitcoin address on this network, or of an extended-key wallet (xpub/descriptor)."""
    from watchers.addresses import bitcoin_address, looks_like_key_wallet

    if looks_like_key_wallet(text):
        from watchers.descriptors import parse_key_wallet  # bip_utils: imported only for key wallets

        return parse_key_wallet(text, spec.network).canonical
    return bitcoin_address(text, spec.network)


def config_from_settings(name: str, spec: BitcoinChain) -> BitcoinChainConfig:
    """The watcher's own config from the bot's settings (watchers never import bot)."""
    from watchers.bitcoin import BitcoinChainConfig

    return BitcoinChainConfig(
        name=name,
        esplora_urls=tuple(spec.esplora_urls),
        network=spec.network,
        confirmations=spec.confirmations,
        requests_per_second=spec.requests_per_second,
        timeout_seconds=spec.timeout_seconds,
        gap_limit=spec.gap_limit,
    )


def build(name: str, spec: BitcoinChain, db: Database) -> Watcher:
    """The bitcoin watcher for chain `name`."""
    from watchers.bitcoin import BitcoinWatcher

    return BitcoinWatcher(config_from_settings(name, spec), db)


def history(name: str, spec: BitcoinChain, db: Database, watcher: BitcoinWatcher, settings: object) -> BitcoinHistory:
    """The importer of wallet histories, paging Esplora through the live watcher's client (one rate limit per source)."""
    from watchers.bitcoin_history import BitcoinHistory

    return BitcoinHistory(db, watcher.client, name, confirmations=spec.confirmations)


FAMILY = ChainFamily(kind="bitcoin", settings=BitcoinChain, address=address, build=build,
                     sources=lambda spec: spec.esplora_urls, history=history, history_unit="transactions",
                     history_needs_start=False)
