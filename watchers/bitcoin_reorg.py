"""Re-checking stored Bitcoin transfers in recent blocks against the best chain (reorgs).

Each poll, every non-orphaned transfer that is still pending in a block, or whose block is within
the last ``reorg_window`` blocks of the tip, has its block compared with the best chain's block at
that height (``/block-height/:h``, one request per distinct height). A transfer whose block is no
longer there is re-checked with ``/tx/:txid/status``: in another block it takes that block; back
in the mempool it is pending without a block; unknown to the source it is orphaned. The wallets
of such transfers have their history read again next poll, since the new blocks may pay them
otherwise without changing their transaction counts.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, update

from ledger.models import Transfer, TransferStatus, WalletCursor
from ledger.writes import TransferIn, WriteResult, record_transfers, set_status
from watchers.esplora_mapping import block_time, status_at

if TYPE_CHECKING:
    from watchers.bitcoin import BitcoinWatcher


async def recheck_recent_blocks(watcher: BitcoinWatcher) -> WriteResult:
    """Move or orphan the chain's transfers whose block left the best chain; costs nothing when none is recent."""
    cfg = watcher.config
    window = cfg.reorg_window
    async with watcher.db.session() as s:
        stmt = select(Transfer).where(
            Transfer.chain == watcher.chain,
            Transfer.status != TransferStatus.ORPHANED,
            Transfer.block_height.is_not(None),
        )
        if watcher.last_tip is not None:
            # The last tip seen is at most the current one, so this keeps every row the window needs.
            stmt = stmt.where(
                or_(Transfer.status == TransferStatus.PENDING, Transfer.block_height > watcher.last_tip - window)
            )
        rows = list((await s.execute(stmt)).scalars())
    if not rows:
        return WriteResult()
    tip = await watcher.tip()
    rows = [r for r in rows if r.status == TransferStatus.PENDING or (r.block_height or 0) > tip - window]
    hashes: dict[int, str | None] = {}
    for height in sorted({r.block_height for r in rows if r.block_height is not None}):
        hashes[height] = await watcher.client.block_hash_at(height)
    items: list[TransferIn] = []
    orphans: list[int] = []
    for row in rows:
        assert row.block_height is not None and row.id is not None
        if hashes[row.block_height] == row.block_hash:
            continue
        status = await watcher.client.tx_status(row.txid)
        if status.confirmed:
            items.append(
                _moved(row, status.block_height, status.block_hash, block_time(status),
                       status_at(status.block_height, tip, cfg.confirmations))
            )
        elif await watcher.client.tx(row.txid) is not None:
            items.append(_moved(row, None, None, None, TransferStatus.PENDING))
        else:
            orphans.append(row.id)
    result = WriteResult()
    if items or orphans:
        touched = {r.wallet_id for r in rows if r.id in orphans or any(i.txid == r.txid for i in items)}
        async with watcher.db.session() as s:
            result = await record_transfers(s, items)
            if orphans:
                orphaned = await set_status(s, orphans, TransferStatus.ORPHANED)
                result.orphaned += orphaned.orphaned
            # The replacing blocks may hold other payments to these wallets at unchanged counts:
            # make their next poll read the history again (down to the newest transaction still there).
            await s.execute(update(WalletCursor).where(WalletCursor.wallet_id.in_(touched)).values(chain_tx_count=-1))
    return result


def _moved(
    row: Transfer, height: int | None, block_hash: str | None, when: datetime | None, status: TransferStatus
) -> TransferIn:
    return TransferIn(
        chain=row.chain,
        txid=row.txid,
        position=row.position,
        wallet_id=row.wallet_id,
        asset=row.asset,
        decimals=row.decimals,
        amount=row.amount,
        token=row.token,
        block_height=height,
        block_hash=block_hash,
        block_time=when,
        status=status,
    )
