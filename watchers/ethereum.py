"""The Ethereum (any EVM chain) watcher: native coin, allowlisted ERC-20 and, optionally, internal transfers."""

from __future__ import annotations

from collections.abc import Callable

from ledger.database import Database
from watchers.base import PollReport
from watchers.block_scan import BackfillProgress, BlockScanner, Scans
from watchers.evm_config import EvmChainConfig
from watchers.evm_source import EvmSource, rpc_client


class EvmWatcher:
    """Watches one configured EVM chain over JSON-RPC and keeps its transfers in the ledger."""

    def __init__(self, config: EvmChainConfig, db: Database) -> None:
        self.config = config
        self.chain = config.name
        self.rpc = rpc_client(config)
        self.source = EvmSource(config, self.rpc)
        self.scanner = BlockScanner(
            db, self.source, batch_blocks=config.blocks_per_range, max_blocks_per_poll=config.max_blocks_per_poll
        )

    async def poll(self) -> PollReport:
        """Scan from the cursor to the tip; see BlockScanner.poll."""
        return await self.scanner.poll()

    async def backfill(
        self, start: int, end: int | None = None, *, progress: Callable[[BackfillProgress], None] | None = None,
        scans: Scans | None = None,
    ) -> tuple[int, int]:
        """Scan history ``start..end``, resumably; see BlockScanner.backfill."""
        return await self.scanner.backfill(start, end, progress=progress, scans=scans)

    async def close(self) -> None:
        await self.rpc.close()
