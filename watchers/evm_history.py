"""A wallet's EVM history, imported: through an explorer's account API (checked on the node) or a block scan.

The import covers blocks ``since .. live_from`` (``live_from`` is where the live watcher took over
this wallet; before it has, the tip). With an explorer configured, each of ``txlist``, ``tokentx``
and ``txlistinternal`` is paged by block range and every lead is checked against the RPC node
(``watchers.explorer_verify``); without one, the node's blocks are scanned for this wallet alone.
Each page or range is stored as history together with the import's progress, in one
transaction, so an import stopped anywhere continues where it stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ledger.database import Database
from ledger.history_import import finish_import, get_import, record_progress
from ledger.history_tables import ImportState
from ledger.models import TransferStatus, Wallet
from ledger.writes import TransferIn, record_transfers
from watchers.block_scan import check_linked, next_range
from watchers.errors import MalformedResponse, WatcherError
from watchers.explorer_client import ACTIONS, ExplorerClient
from watchers.explorer_verify import check_leads, lead_txids
from watchers.evm_source import EvmSource

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ImportProgress:
    """How far one wallet's import is: ``done`` of ``total`` units, transfers stored and leads rejected so far."""

    wallet_id: int
    unit: str
    done: int
    total: int
    stored: int = 0
    rejected: int = 0


@dataclass
class ImportOutcome:
    """What one run of an import did, and whether the wallet's history is now complete."""

    wallet_id: int
    stored: int = 0
    rejected: int = 0
    finished: bool = False
    # The ids of the transfers this run stored (to value them, or say what was stored).
    transfer_ids: list[int] = field(default_factory=list)
    # The highest block imported; the live watcher covers what lies above its own hand-over height.
    through: int | None = None
    waiting_for_live: bool = False


Progress = Callable[[ImportProgress], None]


def with_status(items: list[TransferIn], confirmed: int) -> list[TransferIn]:
    """Transfers at or below the confirmed height marked confirmed."""
    return [replace(t, status=TransferStatus.CONFIRMED) if t.block_height is not None and t.block_height <= confirmed else t for t in items]


class EvmHistory:
    """Imports the history of single wallets of one EVM chain."""

    def __init__(self, db: Database, source: EvmSource, explorer: ExplorerClient | None = None, *, batch_blocks: int = 50) -> None:
        self.db = db
        self.source = source
        self.chain = source.chain
        self.explorer = explorer
        self.batch_blocks = batch_blocks

    async def close(self) -> None:
        if self.explorer is not None:
            await self.explorer.close()

    async def block_at(self, when: datetime) -> int:
        """The first block at or after ``when`` (a binary search over block times on the node)."""
        head = await self.source.head(None)
        lo, hi = 0, head.tip
        while lo < hi:
            mid = (lo + hi) // 2
            (header,) = await self.source.headers([mid])
            if header.time is not None and header.time < when:
                lo = mid + 1
            else:
                hi = mid
        return lo

    async def run(self, wallet_id: int, *, progress: Progress | None = None) -> ImportOutcome:
        """Import (or continue importing) one wallet's history up to the live watcher's hand-over height."""
        async with self.db.session() as s:
            imp = await get_import(s, wallet_id)
            wallet = await s.get(Wallet, wallet_id)
        if imp is None or wallet is None:
            raise WatcherError(f"{self.chain}: wallet {wallet_id} has no history import planned")
        outcome = ImportOutcome(wallet_id)
        if imp.state == ImportState.DONE:
            outcome.finished = True
            return outcome
        start = imp.since_height
        if start is None and imp.since_time is not None:
            start = await self.block_at(imp.since_time)
        start = start or 0
        head = await self.source.head(None)
        target = min(imp.live_from, head.tip) if imp.live_from is not None else head.tip
        done = max(imp.done_height if imp.done_height is not None else start - 1, start - 1)
        watched = {self.source.watch_key(wallet.address): wallet_id}
        if done < target:
            log.info("history import chain=%s wallet=%s blocks %d..%d via %s", self.chain, wallet.address, done + 1, target,
                     "explorer" if self.explorer else "block scan")
            if self.explorer is not None:
                await self._by_explorer(wallet.address.lower(), watched, start, target, imp.resume, head.confirmed, outcome, progress)
            else:
                await self._by_blocks(watched, start, done, target, head.confirmed, outcome, progress)
        outcome.through = max(done, target)
        if imp.live_from is not None and outcome.through >= imp.live_from:
            async with self.db.session() as s:
                await finish_import(s, wallet_id)
            outcome.finished = True
        else:
            outcome.waiting_for_live = True
        return outcome

    async def _store(
        self, wallet_id: int, items: list[TransferIn], confirmed: int, outcome: ImportOutcome, *, rejected: int = 0, **where: Any
    ) -> int:
        """One step's transfers, as history, and the import's progress, in one transaction."""
        async with self.db.session() as s:
            result = await record_transfers(s, with_status(items, confirmed), history=True)
            await record_progress(s, wallet_id, stored=len(result.inserted), rejected=rejected, **where)
        outcome.stored += len(result.inserted)
        outcome.transfer_ids += result.inserted
        outcome.rejected += rejected
        return len(result.inserted)

    async def _by_blocks(
        self, watched: dict[str, int], start: int, done: int, target: int, confirmed: int, outcome: ImportOutcome, progress: Progress | None
    ) -> None:
        (wallet_id,) = watched.values()
        total = target - start + 1
        if progress:
            progress(ImportProgress(wallet_id, "blocks", done - start + 1, total))
        while (rng := next_range(target, done, self.batch_blocks)) is not None:
            scanned = await self.source.scan(rng[0], rng[1], watched)
            check_linked(scanned.headers, None, self.chain)
            await self._store(wallet_id, scanned.transfers, confirmed, outcome, done_height=rng[1], done=rng[1] - start + 1, total=total)
            done = rng[1]
            if progress:
                progress(ImportProgress(wallet_id, "blocks", done - start + 1, total, outcome.stored, outcome.rejected))

    async def _by_explorer(
        self,
        address: str,
        watched: dict[str, int],
        start: int,
        target: int,
        resume: str | None,
        confirmed: int,
        outcome: ImportOutcome,
        progress: Progress | None,
    ) -> None:
        assert self.explorer is not None
        (wallet_id,) = watched.values()
        span = target - start + 1
        total = span * len(ACTIONS)
        first_action, first_block = 0, start
        if resume and ":" in resume:
            name, _, block = resume.partition(":")
            if name in ACTIONS and block.isdigit():
                first_action, first_block = ACTIONS.index(name), int(block)
        for index in range(first_action, len(ACTIONS)):
            action = ACTIONS[index]
            lo = first_block if index == first_action else start
            if progress:
                progress(ImportProgress(wallet_id, "blocks", index * span + lo - start, total, outcome.stored, outcome.rejected))
            async for page in self.explorer.pages(action, address, lo, target):
                txids = lead_txids(action, page.records, address, self.source.tokens)
                checked = await check_leads(self.source, action, txids, watched)
                below = min(page.complete_below, target + 1)
                done = index * span + below - start
                last = index == len(ACTIONS) - 1 and below > target
                resume_at = None if last else (f"{action}:{below}" if below <= target else f"{ACTIONS[index + 1]}:{start}" if index + 1 < len(ACTIONS) else None)
                await self._store(
                    wallet_id, checked.transfers, confirmed, outcome, resume=resume_at, done=done, total=total,
                    rejected=checked.rejected, **({"done_height": target} if last else {}),
                )
                if progress:
                    progress(ImportProgress(wallet_id, "blocks", done, total, outcome.stored, outcome.rejected))
        if first_action >= len(ACTIONS):
            raise MalformedResponse(self.chain, f"import of {address} has an unreadable resume point {resume!r}")
