"""The EVM chain family: settings of a JSON-RPC-watched chain, its tokens, addresses, watcher."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator

from bot.chains.family import ChainFamily, HttpUrl, StrictModel, block_count

if TYPE_CHECKING:
    from bot.settings import Settings
    from ledger.database import Database
    from watchers.evm_history import EvmHistory
    from watchers.ethereum import EvmWatcher
    from watchers.evm_rpc import Transport
    from watchers.evm_config import EvmChainConfig


ZERO_ADDRESS = "0x" + "0" * 40


def _evm(text: str) -> str:
    from watchers.addresses import evm_address
    from watchers.errors import InvalidAddress

    address = evm_address(text)
    if address == ZERO_ADDRESS:
        # A placeholder left in a config: every token burn goes to it and would count as a donation.
        raise InvalidAddress("Ethereum", text, "it is the zero address, where tokens are burnt; use the fund's own address")
    return address


class Token(StrictModel):
    """An ERC-20 token whose transfers count as donations."""

    symbol: str
    address: str
    decimals: Annotated[int, Field(ge=0, le=36)]

    @field_validator("address")
    @classmethod
    def _evm(cls, value: str) -> str:
        return _evm(value)


MAINNET_TOKENS = [
    Token(symbol="USDT", address="0xdAC17F958D2ee523a2206206994597C13D831ec7", decimals=6),
    Token(symbol="USDC", address="0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", decimals=6),
    Token(symbol="DAI", address="0x6B175474E89094C44Da98b954EedeAC495271d0F", decimals=18),
]


class ExplorerSettings(StrictModel):
    """An Etherscan-compatible account API for importing wallet histories (its answers are checked on the RPC node).

    ``kind = "etherscan"``: Etherscan's V2 multichain API (``https://api.etherscan.io/v2/api``), the key
    from DONATION_WATCH_ETHERSCAN_API_KEY; ``kind = "blockscout"``: a Blockscout instance's
    ``/api`` (keyless).
    """

    kind: Literal["etherscan", "blockscout"]
    url: str
    # Etherscan's free plan: 3 calls a second; Blockscout's public instances: about 10 (fair use).
    requests_per_second: Annotated[float, Field(gt=0)] | None = None
    # Records per page: 1,000 on Etherscan's free plan (5,000 paid).
    page_size: Annotated[int, Field(ge=1, le=10_000)] = 1_000

    def rate(self) -> float:
        """The configured rate, or the provider's documented default."""
        if self.requests_per_second is not None:
            return self.requests_per_second
        return 3.0 if self.kind == "etherscan" else 5.0


class EvmChain(StrictModel):
    """An EVM chain watched through JSON-RPC nodes."""

    kind: Literal["evm"]
    chain_id: Annotated[int, Field(ge=1)]
    rpc_urls: Annotated[list[HttpUrl], Field(min_length=1)]
    native_symbol: str = "ETH"
    # "finalized" uses the node's finalized block tag (falls back to 12 where it has none).
    confirmations: Annotated[Literal["finalized"] | int, BeforeValidator(lambda v: block_count(v, finalized=True))] = "finalized"
    traces: bool = False
    tokens: list[Token] | None = None
    # Where wallet histories are imported from; without one, the node's blocks are scanned.
    explorer: ExplorerSettings | None = None
    poll_seconds: Annotated[float, Field(gt=0)] = 15.0
    timeout_seconds: Annotated[float, Field(gt=0)] = 20.0
    # HTTP requests per second to each RPC URL (a batch counts once), polite to public nodes.
    requests_per_second: Annotated[float, Field(gt=0)] = 10.0
    # Watched addresses per eth_getLogs filter (geth's and erigon's default cap is 1,000).
    max_log_addresses: Annotated[int, Field(ge=1)] = 1_000
    # /healthz turns 503 when the last good poll is older than this (default: 3 polls + 2 minutes).
    max_lag_seconds: Annotated[float, Field(gt=0)] | None = None

    def token_allowlist(self) -> list[Token]:
        """The configured tokens, or the mainnet defaults on chain id 1."""
        if self.tokens is not None:
            return self.tokens
        return list(MAINNET_TOKENS) if self.chain_id == 1 else []


def config_from_settings(name: str, spec: EvmChain) -> EvmChainConfig:
    """The watcher's plain config for chain ``name`` from its validated settings."""
    from watchers.evm_config import EvmChainConfig, TokenSpec

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


def build(name: str, spec: EvmChain, db: Database, *, transport: Transport = "web3") -> EvmWatcher:
    """The EVM watcher for chain ``name`` (``transport``: see watchers.evm_rpc; a backfill skips web3's import)."""
    from dataclasses import replace

    from watchers.ethereum import EvmWatcher

    return EvmWatcher(replace(config_from_settings(name, spec), transport=transport), db)


def history(name: str, spec: EvmChain, db: Database, watcher: EvmWatcher, settings: Settings) -> EvmHistory:
    """The importer of wallet histories: through the chain's explorer (checked on the node) or a block scan."""
    from watchers.evm_history import EvmHistory
    from watchers.evm_source import EvmSource
    from watchers.explorer_client import ExplorerClient, ExplorerConfig

    client = None
    ex = spec.explorer
    if ex is not None:
        key = settings.etherscan_api_key.get_secret_value() if (ex.kind == "etherscan" and settings.etherscan_api_key) else None
        client = ExplorerClient(ExplorerConfig(
            url=ex.url, chain_id=spec.chain_id if ex.kind == "etherscan" else None, api_key=key,
            requests_per_second=ex.rate(), page_size=ex.page_size, timeout_seconds=spec.timeout_seconds,
        ))
    # Its own source over the watcher's RPC client: the live source keeps prefetched state.
    return EvmHistory(db, EvmSource(watcher.config, watcher.rpc), client, batch_blocks=watcher.config.blocks_per_range)


FAMILY = ChainFamily(kind="evm", settings=EvmChain, address=lambda spec, text: _evm(text), build=build,
                     sources=lambda spec: spec.rpc_urls, history=history, history_unit="blocks", history_needs_start=True)
