"""What an EVM chain's watcher is configured with: plain values, cheap to import and to send to a scan process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from watchers.retry import RetryPolicy

if TYPE_CHECKING:
    from watchers.evm_rpc import Transport


@dataclass(frozen=True, slots=True)
class TokenSpec:
    """An allowlisted ERC-20 token: its symbol, EIP-55 contract address and decimals."""

    symbol: str
    address: str
    decimals: int


@dataclass(frozen=True)
class EvmChainConfig:
    """One EVM chain as the watcher needs it (built from the bot's settings, or directly in tests)."""

    name: str
    chain_id: int
    rpc_urls: tuple[str, ...]
    native_symbol: str = "ETH"
    tokens: tuple[TokenSpec, ...] = ()
    confirmations: Literal["finalized"] | int = "finalized"
    traces: bool = False
    timeout_seconds: float = 20.0
    blocks_per_range: int = 50
    max_blocks_per_poll: int = 2_000
    retry: RetryPolicy = RetryPolicy()
    # Watched addresses per eth_getLogs filter (geth and erigon refuse more than 1,000 by default).
    max_log_addresses: int = 1_000
    # HTTP requests per second to each RPC URL; None: no limit.
    requests_per_second: float | None = None
    # After a node answers that it has no trace_filter, ask again this much later.
    trace_retry_seconds: float = 600.0
    # How requests reach the node (watchers.evm_rpc): web3's provider, or the same POST over aiohttp.
    transport: Transport = "web3"
