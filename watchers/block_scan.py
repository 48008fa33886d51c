"""The chain-agnostic block-scanning loop: cursor, confirmations, reorg rollback, one write per range.

A ``ChainSource`` only fetches and maps (blocks to headers and transfers); this loop decides
which blocks to fetch, checks that each range hangs off the stored chain by parent hash, walks
back to the common ancestor on a mismatch (orphaning what was above it), and writes a range's
transfers, block hashes and the cursor in ONE transaction, so a crash loses or repeats nothing.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.database import Database
from ledger.ethereum_tables import BackfillCursor
from ledger.history_import import importing_wallet_ids, set_live_from
from ledger.locks import chain_lock
from ledger.models import ChainCursor, RecentBlock, TransferStatus, Wallet
from ledger.scan_gaps import forget_above
from ledger.types import utcnow
from ledger.writes import TransferIn, WriteResult, confirm_up_to, orphan_above, pending_heights, record_transfers
from watchers.base import PollReport
from watchers.errors import MalformedResponse, WatcherError
from watchers.gap_fill import fill_gaps, note_unchecked
from watchers.scanned import BlockHeader, Head, Scanned
from watchers.scans_ahead import scans_ahead

log = logging.getLogger(__name__)

# Block hashes kept for reorg detection: far deeper than any reorg of a finalizing chain.
KEEP_RECENT = 256
# A backfill writes its ranges in one transaction per this many ranges or transfers, whichever first.
BACKFILL_WRITE_RANGES = 8
BACKFILL_WRITE_TRANSFERS = 2_000
# Rewinds one poll may do before it gives up and reports the chain as unsettled.
MAX_REWINDS = 3


@dataclass(frozen=True, slots=True)
class BackfillProgress:
    """Where a backfill stands: its range, the last stored block, and transfers found in the last step."""

    start: int
    end: int
    done: int
    found: int = 0


# Scanned ranges in order, as a backfill consumes them.
ScanFeed = AsyncIterator[tuple[tuple[int, int], Scanned]]
# Where a backfill's scans come from: ranges and watched addresses in, scanned ranges out.
Scans = Callable[[Sequence[tuple[int, int]], Mapping[str, int]], ScanFeed]


async def _no_scans(ranges: Sequence[tuple[int, int]]) -> ScanFeed:
    """Empty scans: with no watched address, a range holds nothing to fetch."""
    for rng in ranges:
        yield rng, Scanned(headers=[])


class ChainSource(Protocol):
    """A chain adapter: fetches and maps; never writes."""

    chain: str

    @property
    def requests(self) -> int:
        """HTTP requests made so far."""
        ...

    def watch_key(self, address: str) -> str:
        """The form of a wallet address the source matches on (lowercase hex for EVM)."""
        ...

    async def head(self, cursor_height: int | None, watched: Mapping[str, int] | None = None) -> Head: ...

    async def headers(self, heights: Sequence[int]) -> list[BlockHeader]: ...

    async def scan(self, start: int, end: int, watched: Mapping[str, int]) -> Scanned: ...


def next_range(tip: int, synced: int, batch: int) -> tuple[int, int] | None:
    """The next block range to scan after ``synced`` towards ``tip``, at most ``batch`` blocks, or None."""
    start = synced + 1
    if start > tip:
        return None
    return start, min(tip, start + batch - 1)


def check_linked(headers: Sequence[BlockHeader], parent: str | None, source: str) -> None:
    """Raise if the headers do not form one chain (the node switched branches while we fetched)."""
    for prev, cur in zip(headers, headers[1:]):
        if cur.parent_hash != prev.hash:
            raise MalformedResponse(source, f"block {cur.height} does not follow block {prev.height}; the chain moved, retry")


def _with_status(items: Sequence[TransferIn], confirmed: int) -> list[TransferIn]:
    done = TransferStatus.CONFIRMED
    return [
        t.with_status(done) if t.status is not done and t.block_height is not None and t.block_height <= confirmed else t
        for t in items
    ]


class BlockScanner:
    """Brings the ledger up to the chain tip for one source, and fills in history on request."""

    def __init__(
        self,
        db: Database,
        source: ChainSource,
        *,
        batch_blocks: int = 50,
        keep_recent: int = KEEP_RECENT,
        max_blocks_per_poll: int = 2_000,
        scan_ahead: int = 4,
    ) -> None:
        self.db = db
        self.source = source
        self.chain = source.chain
        self.batch_blocks = batch_blocks
        self.keep_recent = keep_recent
        # A poll far behind stops after this many blocks (each range is stored), so it reports
        # back regularly; the next poll continues from the cursor.
        self.max_blocks_per_poll = max_blocks_per_poll
        # A backfill fetches this many ranges ahead of the one it is writing (history does not move).
        self.scan_ahead = scan_ahead

    async def watched(self) -> tuple[dict[str, int], int | None]:
        """The active wallets of this chain by match key, and the lowest start height any of them asks for."""
        async with self.db.session() as s:
            rows = (await s.execute(select(Wallet).where(Wallet.chain == self.chain, Wallet.active.is_(True)))).scalars().all()
            # A wallet whose history an import fills in does not pull the first poll back to its start.
            imported = await importing_wallet_ids(s, self.chain)
        starts = [w.start_height for w in rows if w.start_height is not None and w.id not in imported]
        return {self.source.watch_key(w.address): w.id for w in rows if w.id is not None}, min(starts) if starts else None

    async def poll(self) -> PollReport:
        """Scan from the cursor to the tip, storing new transfers pending or confirmed; errors go in the report."""
        report = PollReport(chain=self.chain)
        before = self.source.requests
        async with chain_lock(self.db, self.chain) as held:
            if not held:
                log.info("poll skipped chain=%s: another instance is polling it", self.chain)
                report.skipped = True
                return report
            try:
                await self._poll(report)
            except WatcherError as exc:
                log.debug("poll failed chain=%s: %s", self.chain, exc)  # in the report: the runner says it once per streak
                report.errors.append(str(exc))
        report.requests = self.source.requests - before
        return report

    async def _poll(self, report: PollReport) -> None:
        watched, start_hint = await self.watched()
        if not watched:
            return
        async with self.db.session() as s:
            cursor = await s.get(ChainCursor, self.chain)
            stored = (cursor.height, cursor.block_hash) if cursor else None
        head = await self.source.head(stored[0] if stored else None, watched)
        report.height = head.tip
        if stored is None:
            first = start_hint if start_hint is not None else head.tip
            if first > head.tip:
                # The wallets start above the tip: there is no past. Note that the chain was looked at
                # (the cursor at the tip), so the blocks that come from now on are news, not a first poll's past.
                async with self.db.session() as s:
                    await self._set_cursor(s, head.tip, None)
                log.info("first poll chain=%s: the wallets start at block %d, above the tip %d", self.chain, first, head.tip)
                return
            synced, synced_hash = first - 1, None
            # From a start height, the blocks up to the tip seen now are the wallets' past: counted and
            # screened, not announced one by one (at the tip there is no past to catch up on).
            past_until = head.tip if first < head.tip else None
            log.info("first poll chain=%s: starting at block %d%s", self.chain, first,
                     f" (blocks up to {past_until} are history)" if past_until is not None else "")
        else:
            synced, synced_hash = stored
            past_until = cursor.history_until if cursor is not None else None
        async with self.db.session() as s:
            # From here on the live scan covers these wallets above `synced`; their imports end there.
            await set_live_from(s, self.chain, list(watched.values()), synced)
        rewinds = 0
        goal = min(head.tip, synced + self.max_blocks_per_poll)
        if head.at_cursor is not None and synced_hash is not None and head.at_cursor.hash != synced_hash:
            synced, synced_hash = await self._rewind(synced, report)
            rewinds += 1
        while (rng := next_range(goal, synced, self.batch_blocks)) is not None:
            scanned = await self.source.scan(rng[0], rng[1], watched)
            check_linked(scanned.headers, synced_hash, self.chain)
            if synced_hash is not None and scanned.headers[0].parent_hash != synced_hash:
                if rewinds >= MAX_REWINDS:
                    raise MalformedResponse(self.chain, f"the chain keeps reorganising below block {rng[0]}; will retry")
                synced, synced_hash = await self._rewind(synced, report)
                rewinds += 1
                continue
            await self._store(scanned, head.confirmed, report, past_until)
            synced, synced_hash = rng[1], scanned.headers[-1].hash
        fill = getattr(self.source, "fill", None)
        if fill is not None:
            settle = lambda items: _with_status(items, head.confirmed)  # noqa: E731
            self._count(report, await fill_gaps(self.db, self.chain, fill, watched, settle, self.batch_blocks))
        await self._confirm(head.confirmed, report)

    async def _confirm(self, confirmed: int, report: PollReport) -> None:
        """Confirm pending transfers at or below ``confirmed`` whose block is still the canonical one.

        Canonical hashes come from the blocks this scanner verified (recent_block); heights it no
        longer remembers are asked of the node, outside any transaction.
        """
        async with self.db.session() as s:
            heights = await pending_heights(s, self.chain, confirmed)
            if not heights:
                return
            rows = await s.execute(
                select(RecentBlock.height, RecentBlock.block_hash).where(
                    RecentBlock.chain == self.chain, RecentBlock.height.in_(heights)
                )
            )
            canonical: dict[int, str | None] = {h: block_hash for h, block_hash in rows.all()}
        missing = [h for h in heights if h not in canonical]
        if missing:
            canonical.update({h.height: h.hash for h in await self.source.headers(missing)})
        async with self.db.session() as s:
            self._count(report, await confirm_up_to(s, self.chain, confirmed, canonical))

    @staticmethod
    def _count(report: PollReport, result: WriteResult) -> None:
        report.new += len(result.inserted)
        report.confirmed += len(result.confirmed)
        report.orphaned += len(result.orphaned)

    async def _store(self, scanned: Scanned, confirmed: int, report: PollReport, past_until: int | None = None) -> None:
        """Transfers, block hashes and the cursor of one range, in one transaction; transfers in blocks up to
        ``past_until`` (the tip at the chain's first poll) are recorded as history."""
        first, last = scanned.headers[0], scanned.headers[-1]
        items = _with_status(scanned.transfers, confirmed)
        is_past = [past_until is not None and t.block_height is not None and t.block_height <= past_until for t in items]
        past = [t for t, old in zip(items, is_past) if old]
        news = [t for t, old in zip(items, is_past) if not old]
        async with self.db.session() as s:
            result = await record_transfers(s, past, history=True) if past else None
            written = await record_transfers(s, news)
            if result is not None:
                written.merge(result)
            self._count(report, written)
            await note_unchecked(s, self.chain, scanned)
            await s.execute(
                delete(RecentBlock).where(
                    RecentBlock.chain == self.chain,
                    (RecentBlock.height >= first.height) | (RecentBlock.height <= last.height - self.keep_recent),
                )
            )
            kept = [h for h in scanned.headers if h.height > last.height - self.keep_recent]
            s.add_all(RecentBlock(chain=self.chain, height=h.height, block_hash=h.hash, parent_hash=h.parent_hash) for h in kept)
            await self._set_cursor(s, last.height, last.hash, history_until=past_until)
        log.debug("stored chain=%s blocks=%d..%d transfers=%d", self.chain, first.height, last.height, len(scanned.transfers))

    async def _set_cursor(self, s: AsyncSession, height: int, block_hash: str | None, *, history_until: int | None = None) -> None:
        cursor = await s.get(ChainCursor, self.chain)
        if cursor is None:
            s.add(ChainCursor(chain=self.chain, height=height, block_hash=block_hash, history_until=history_until))
        else:
            cursor.height, cursor.block_hash, cursor.updated_at = height, block_hash, utcnow()
        await s.flush()

    async def _rewind(self, synced: int, report: PollReport) -> tuple[int, str | None]:
        """Find the common ancestor with the node, orphan what lies above it, and move the cursor there."""
        async with self.db.session() as s:
            recent = (
                await s.execute(
                    select(RecentBlock)
                    .where(RecentBlock.chain == self.chain, RecentBlock.height <= synced)
                    .order_by(RecentBlock.height.desc())
                )
            ).scalars().all()
        ancestor: RecentBlock | None = None
        for start in range(0, len(recent), 32):
            chunk = recent[start : start + 32]
            theirs = await self.source.headers([b.height for b in chunk])
            ancestor = next((mine for mine, node in zip(chunk, theirs) if mine.block_hash == node.hash), None)
            if ancestor is not None:
                break
        if ancestor is not None:
            height, block_hash = ancestor.height, ancestor.block_hash
        else:
            height = (recent[-1].height if recent else synced) - 1
            block_hash = None
            log.warning("reorg chain=%s deeper than the %d remembered blocks; rescanning from %d", self.chain, len(recent), height + 1)
        async with self.db.session() as s:
            result = await orphan_above(s, self.chain, height)
            await s.execute(delete(RecentBlock).where(RecentBlock.chain == self.chain, RecentBlock.height > height))
            await forget_above(s, self.chain, height)
            await self._set_cursor(s, height, block_hash)
        self._count(report, result)
        log.warning("reorg chain=%s: common ancestor %d, %d transfers orphaned, rescanning", self.chain, height, len(result.orphaned))
        return height, block_hash

    def _scans_ahead(self, ranges: Sequence[tuple[int, int]], watched: Mapping[str, int]) -> ScanFeed:
        """The scans of ``ranges`` in order, ``scan_ahead`` at a time (see watchers.scans_ahead)."""
        if not watched:
            return _no_scans(ranges)
        return scans_ahead(lambda start, end: self.source.scan(start, end, watched), ranges, ahead=self.scan_ahead)

    async def backfill(
        self, start: int, end: int | None = None, *, progress: Callable[[BackfillProgress], None] | None = None,
        scans: Scans | None = None,
    ) -> tuple[int, int]:
        """Scan blocks ``start..end`` (default: the tip at the first run) without moving the live cursor.

        Progress is stored with each range, so running it again with the same start continues.
        ``progress`` is called once before the first range and after each stored one. ``scans``
        fetches the ranges instead of this scanner's own source (a scan process: watchers.scan_process).
        Returns the range.
        """
        watched, _ = await self.watched()
        head = await self.source.head(None)
        if start > head.tip:
            raise WatcherError(f"{self.chain}: backfill start block {start} is above the node's tip {head.tip}; pick an earlier block")
        async with self.db.session() as s:
            row = await s.get(BackfillCursor, (self.chain, start))
            if row is None:
                row = BackfillCursor(chain=self.chain, from_height=start, to_height=end if end is not None else head.tip, height=start - 1)
                s.add(row)
            elif end is not None:
                row.to_height = end
            done, last = row.height, min(row.to_height, head.tip)
        if done >= start:
            log.info("backfill chain=%s resuming after block %d", self.chain, done)
        if progress:
            progress(BackfillProgress(start, last, done))
        previous: str | None = None
        ranges = []
        while (rng := next_range(last, done, self.batch_blocks)) is not None:
            ranges.append(rng)
            done = rng[1]
        done = ranges[0][0] - 1 if ranges else done
        batch: list[TransferIn] = []
        unchecked: list[Scanned] = []  # ranges of the batch stored without optional data
        batched = 0
        feed = scans(ranges, watched) if scans is not None and watched and ranges else self._scans_ahead(ranges, watched)
        async for rng, scanned in feed:
            check_linked(scanned.headers, None, self.chain)
            if previous is not None and scanned.headers and scanned.headers[0].parent_hash != previous:
                raise MalformedResponse(self.chain, f"the chain reorganised at block {rng[0]} during the backfill; run it again")
            previous = scanned.headers[-1].hash if scanned.headers else None
            batch.extend(scanned.transfers)
            if scanned.unchecked:
                unchecked.append(scanned)
            batched += 1
            if len(batch) < BACKFILL_WRITE_TRANSFERS and batched < BACKFILL_WRITE_RANGES and rng[1] < last:
                continue  # a few ranges per transaction: fewer commits and totals updates
            async with self.db.session() as s:
                # The past is history: counted and screened, not announced one by one.
                await record_transfers(s, _with_status(batch, head.confirmed), history=True)
                for lacking in unchecked:
                    await note_unchecked(s, self.chain, lacking)
                row = await s.get(BackfillCursor, (self.chain, start))
                assert row is not None
                row.height, row.updated_at = rng[1], utcnow()
            done = rng[1]
            if progress:
                progress(BackfillProgress(start, last, done, len(batch)))
            batch, unchecked, batched = [], [], 0
        return start, last
