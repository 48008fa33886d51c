"""Re-checking stored Bitcoin transfers in recent blocks against the best chain (reorgs).

Each poll, every non-orphaned transfer whose block is within the last ``reorg_window`` blocks of
the tip (or ``confirmations``, where larger: a block still awaiting confirmation), has its block compared with the best chain's block at
that height (``/block-height/:h``, one request per distinct height). A transfer whose block is no
longer there is re-checked with ``/tx/:txid/status``: in another block it takes that block; in
none, it is pending without a block when its wallet's mempool list holds it, and orphaned when
that list (complete below the 50-entry cap) does not: electrs keeps serving a transaction of a
stale block (``GET /tx/:txid`` 200, unconfirmed) even after the new chain spent its inputs
elsewhere, so "the source knows it" proves nothing. A height above the source's tip (a lagging
server after a failover) is not judged at all. The wallets of moved transfers have their history
read again (and their cursor's anchor dropped when it was one of them), since the new blocks may
pay them otherwise without changing their transaction counts.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import Transfer, TransferStatus, Wallet, WalletCursor
from ledger.writes import TransferIn, WriteResult, record_transfers, set_status
from watchers.esplora_client import MEMPOOL_CAP
from watchers.esplora_mapping import block_time, status_at

if TYPE_CHECKING:
    from watchers.bitcoin import BitcoinWatcher


async def recheck_recent_blocks(watcher: BitcoinWatcher) -> WriteResult:
    """Move or orphan the chain's transfers whose block left the best chain; costs nothing when none is recent."""
    cfg = watcher.config
    window = cfg.reorg_window
    async with watcher.db.session() as s:
        # A block still pending confirmation lies within `confirmations` of the tip: read that deep too.
        rows = await recent_candidates(s, watcher.chain, watcher.last_tip, max(window, cfg.confirmations))
    if not rows:
        return WriteResult()
    tip = await watcher.tip()
    if watcher.lagging:
        return WriteResult()  # a source behind the best tip seen would move transfers back wrongly
    rows = [r for r in rows if r.status == TransferStatus.PENDING or (r.block_height or 0) > tip - window]
    hashes: dict[int, str | None] = {}
    for height in sorted({r.block_height for r in rows if r.block_height is not None}):
        hashes[height] = await watcher.client.block_hash_at(height)
        watcher.note_block(height, hashes[height])
    items: list[TransferIn] = []
    orphans: list[int] = []
    unconfirmed: list[Transfer] = []
    for row in rows:
        assert row.block_height is not None and row.id is not None
        current = hashes[row.block_height]
        if current is None or current == row.block_hash:
            continue  # None: the source's chain ends below this block (it lags); judge it another poll
        status = await watcher.client.tx_status(row.txid)
        if status.confirmed:
            watcher.note_block(status.block_height, status.block_hash)
            items.append(
                _moved(row, status.block_height, status.block_hash, block_time(status),
                       status_at(status.block_height, tip, cfg.confirmations))
            )
        else:
            unconfirmed.append(row)
    if unconfirmed:
        back, gone = await _in_mempool(watcher, unconfirmed)
        items.extend(_moved(row, None, None, None, TransferStatus.PENDING) for row in back)
        orphans.extend(row.id for row in gone if row.id is not None)
    result = WriteResult()
    if items or orphans:
        moved_txids = {i.txid for i in items} | {r.txid for r in rows if r.id in orphans}
        touched = {r.wallet_id for r in rows if r.txid in moved_txids}
        async with watcher.db.session() as s:
            result = await record_transfers(s, items, rechecked=True)
            if orphans:
                result.merge(await set_status(s, orphans, TransferStatus.ORPHANED))
            # The replacing blocks may hold other payments to these wallets at unchanged counts:
            # make their next poll read the history again (down to the newest transaction still
            # there), and stop anchoring on a transaction that left the chain.
            await s.execute(update(WalletCursor).where(WalletCursor.wallet_id.in_(touched)).values(chain_tx_count=-1))
            await s.execute(
                update(WalletCursor)
                .where(WalletCursor.wallet_id.in_(touched), WalletCursor.newest_txid.in_(moved_txids))
                .values(newest_txid=None)
            )
    return result


async def recent_candidates(session: AsyncSession, chain: str, last_tip: int | None, depth: int) -> list[Transfer]:
    """The chain's transfers in blocks a reorg could still touch: the last ``depth`` blocks below the tip.

    The bound is the last tip seen or, after a start when none has been seen yet, the highest
    stored block: either is at most the current tip, so no row the window needs is left out, and
    a restart reads the window's rows rather than the chain's whole history. One range of the
    (chain, block_height) index: the rows read do not grow with history.
    """
    floor = last_tip
    if floor is None:
        floor = await session.scalar(select(func.max(Transfer.block_height)).where(Transfer.chain == chain))
        if floor is None:
            return []
    stmt = select(Transfer).where(
        Transfer.chain == chain,
        Transfer.block_height > floor - depth,
        Transfer.status != TransferStatus.ORPHANED,
    )
    return list((await session.execute(stmt)).scalars())


async def _in_mempool(watcher: BitcoinWatcher, rows: list[Transfer]) -> tuple[list[Transfer], list[Transfer]]:
    """Split transfers whose block left the best chain into (back in the mempool, gone).

    One mempool list per wallet. Beyond the list's cap it cannot prove absence: then only a
    transaction the source does not know at all (404) counts as gone.
    """
    async with watcher.db.session() as s:
        ids = {r.wallet_id for r in rows}
        addresses = dict((await s.execute(select(Wallet.id, Wallet.address).where(Wallet.id.in_(ids)))).all())
    back: list[Transfer] = []
    gone: list[Transfer] = []
    for wallet_id, address in addresses.items():
        listed = await watcher.client.mempool_txs(address)
        txids = {tx.get("txid") for tx in listed}
        complete = len(listed) < MEMPOOL_CAP
        for row in (r for r in rows if r.wallet_id == wallet_id):
            if row.txid in txids:
                back.append(row)
            elif complete or await watcher.client.tx(row.txid) is None:
                gone.append(row)
            else:
                back.append(row)  # cannot tell beyond the cap: wait in the mempool
    return back, gone


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
