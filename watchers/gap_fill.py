"""Recording the blocks a scan stored without optional data, and filling them in once a node gives it.

The rule for any optional data a node fails to give (today: traces, for internal transfers):
the watcher does not wait for it, but never lets the cursor pass a block silently either. The
range goes into ``scan_gap`` with the cursor (one transaction), the chain turns degraded with one
``chain.degraded`` event per streak, and every later poll first asks the source to fill the open
ranges; each filled piece is stored with its transfers in one transaction, and the last one
closes the streak with ``chain.restored``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from ledger.database import Database
from ledger.models import EventKind
from ledger.scan_gaps import close_gap, open_gaps, record_gap
from ledger.writes import TransferIn, WriteResult, record_event, record_transfers

if TYPE_CHECKING:
    from watchers.scanned import Scanned

log = logging.getLogger(__name__)

Fill = Callable[[str, int, int, Mapping[str, int]], Awaitable["list[TransferIn] | None"]]


async def note_unchecked(session: AsyncSession, chain: str, scanned: Scanned) -> None:
    """Record the range of ``scanned`` as missing each kind of data the node did not give (same transaction)."""
    if not scanned.unchecked or not scanned.headers:
        return
    first, last = scanned.headers[0].height, scanned.headers[-1].height
    for kind, reason in scanned.unchecked.items():
        if await record_gap(session, chain, kind, first, last, reason):
            await record_event(session, EventKind.CHAIN_DEGRADED, chain=chain, missing=kind, from_height=first, reason=reason)


async def fill_gaps(
    db: Database, chain: str, fill: Fill, watched: Mapping[str, int],
    settle: Callable[[list[TransferIn]], list[TransferIn]], batch: int,
) -> WriteResult:
    """Ask the source for the data missing in each open range, in pieces of ``batch`` blocks; stop at the first it cannot give."""
    total = WriteResult()
    async with db.session() as s:
        gaps = [(g.id, g.kind, g.from_height, g.to_height) for g in await open_gaps(s, chain)]
    if not gaps:
        return total
    for gap_id, kind, start, end in gaps:
        assert gap_id is not None
        for lo in range(start, end + 1, batch):
            hi = min(end, lo + batch - 1)
            found = await fill(kind, lo, hi, watched)
            if found is None:
                return total  # still missing: the gaps stay, asked again at a later poll
            async with db.session() as s:
                total.merge(await record_transfers(s, settle(found)))
                await close_gap(s, gap_id, hi)
                if not await open_gaps(s, chain):
                    await record_event(s, EventKind.CHAIN_RESTORED, chain=chain, missing=kind, through_height=hi)
                    log.warning("chain=%s: every block stored without %s has been checked again", chain, kind)
    return total
