"""Idempotent writes: transfers stored once on their natural key, status changes as updates.

Every write also moves the running totals and appends the events a user may be told about, in
the caller's transaction, so a crash between them cannot leave the ledger half-written.

Every status change is a compare-and-set on the status (and block) it was decided from: of two
writers deciding the same change (two instances, or a poll beside a backfill) exactly one
succeeds; the other re-reads the row and decides again, so no event is written twice and no
total is moved twice. A sighting of a transfer only moves it forward (mempool, block, confirmed):
only a re-check of the best chain (``rechecked=True``, or the orphaning of a reorg) moves it back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import EventKind, Transfer, TransferStatus
from ledger.sightings import NaturalKey, TransferIn
from ledger.totals import TotalsDelta, apply_deltas
from ledger.types import sqlite_text, time_param, uint256_param, utcnow

log = logging.getLogger(__name__)

# Rows per INSERT statement: well under SQLite's 32,766 bound parameters at 16 columns.
BATCH = 1_000
# Times a compare-and-set that lost to another writer is decided again from the fresh row.
CAS_ATTEMPTS = 3

@dataclass
class WriteResult:
    """What a write changed: ids of inserted transfers, and ids whose status or block moved."""

    inserted: list[int] = field(default_factory=list)
    confirmed: list[int] = field(default_factory=list)
    orphaned: list[int] = field(default_factory=list)
    reincluded: list[int] = field(default_factory=list)
    moved: list[int] = field(default_factory=list)
    unconfirmed: list[int] = field(default_factory=list)
    unchanged: int = 0

    def merge(self, other: WriteResult) -> None:
        """Add another write's changes to this one."""
        self.inserted += other.inserted
        self.confirmed += other.confirmed
        self.orphaned += other.orphaned
        self.reincluded += other.reincluded
        self.moved += other.moved
        self.unconfirmed += other.unconfirmed
        self.unchanged += other.unchanged


TRANSFER_COLUMNS = (
    "chain", "txid", "position", "wallet_id", "asset", "token", "decimals", "amount", "block_height",
    "block_hash", "block_time", "status", "first_seen", "confirmed_at", "orphaned_at", "log_index",
)


def _row(item: TransferIn, now: datetime, dialect: str) -> tuple[Any, ...]:
    """A transfer as driver values, in TRANSFER_COLUMNS order."""
    at = time_param(now, dialect)
    return (
        item.chain, item.txid, item.position, item.wallet_id, item.asset, item.token, item.decimals,
        uint256_param(item.amount, dialect), item.block_height, item.block_hash,
        time_param(item.block_time, dialect), str(item.status), at,
        at if item.status == TransferStatus.CONFIRMED else None,
        at if item.status == TransferStatus.ORPHANED else None,
        item.log_index,
    )


async def _insert_new_transfers(session: AsyncSession, rows: list[tuple[Any, ...]]) -> list[Any]:
    """One multi-row INSERT ... ON CONFLICT DO NOTHING RETURNING the inserted rows' keys.

    Written for the driver directly: at bulk volumes SQLAlchemy's per-value processing costs
    more than the insert itself. Values come from _row, already converted by ledger.types.
    """
    conn = await session.connection()
    width = len(TRANSFER_COLUMNS)
    if conn.dialect.name == "postgresql":
        groups = ", ".join("(" + ", ".join(f"${r * width + c + 1}" for c in range(width)) + ")" for r in range(len(rows)))
    else:
        one = "(" + ", ".join("?" * width) + ")"
        groups = ", ".join([one] * len(rows))
    sql = (
        f"INSERT INTO transfer ({', '.join(TRANSFER_COLUMNS)}) VALUES {groups} "
        "ON CONFLICT (chain, txid, wallet_id, asset, position) DO NOTHING "
        "RETURNING id, chain, txid, wallet_id, asset, position"
    )
    flat = tuple(value for row in rows for value in row)
    return (await conn.exec_driver_sql(sql, flat)).all()


def _dedupe(items: Iterable[TransferIn]) -> list[TransferIn]:
    """The last sighting of each natural key wins within one call."""
    latest: dict[NaturalKey, TransferIn] = {}
    for item in items:
        latest[item.key] = item
    return list(latest.values())


async def record_transfers(
    session: AsyncSession, items: Sequence[TransferIn], *, now: datetime | None = None, rechecked: bool = False,
    history: bool = False,
) -> WriteResult:
    """Store each transfer once; a transfer seen before is updated where its block or status moved forward.

    A known transfer that reappears with another block (a reorg re-included it) keeps its id and
    takes the new block and log index. A sighting never moves a transfer back (confirmed to
    pending, or out of its block into the mempool): a backfill that read the confirmed height
    earlier, or a lagging server, would say so wrongly. Only a caller that re-checked the best
    chain and found the stored block gone passes ``rechecked=True`` to move transfers back.
    Running totals and events follow in the same transaction. With ``history`` (backfill, first
    sync, explorer import) the new transfers' events say so (``detail["history"] = True``):
    screened like any other, never announced one by one.
    """
    now = now or utcnow()
    acc = _Changes(now)
    dialect = session.get_bind().dialect.name
    unique = _dedupe(items)
    for start in range(0, len(unique), BATCH):
        chunk = unique[start : start + BATCH]
        by_key = {item.key: item for item in chunk}
        rows = await _insert_new_transfers(session, [_row(item, now, dialect) for item in chunk])
        senders: list[tuple[int, str]] = []
        for tid, chain, txid, wallet_id, asset, position in rows:
            item = by_key.pop((chain, txid, wallet_id, asset, position))
            acc.result.inserted.append(tid)
            acc.deltas.add(item.wallet_id, item.asset, item.decimals, str(item.status), 1, item.amount)
            senders.extend((tid, a) for a in dict.fromkeys(item.senders))
            extra = {"history": True} if history else {}
            acc.events.append(_event(EventKind.TRANSFER_NEW, chain, tid, now, status=str(item.status), **extra))
        await _raw_insert(session, "transfer_sender", ("transfer_id", "address"), senders, on_conflict_nothing=True)
        if by_key:
            await _update_existing(session, by_key, acc, rechecked)
    await acc.flush(session)
    return acc.result


async def _insert_events(session: AsyncSession, events: list[dict[str, Any]]) -> None:
    sqlite = session.get_bind().dialect.name == "sqlite"
    rows = [
        (e["kind"], e["chain"], e["transfer_id"], json.dumps(e["detail"], separators=(",", ":")),
         sqlite_text(e["created_at"]) if sqlite else e["created_at"])
        for e in events
    ]
    await _raw_insert(session, "event", ("kind", "chain", "transfer_id", "detail", "created_at"), rows)


async def _raw_insert(
    session: AsyncSession, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]], *, on_conflict_nothing: bool = False
) -> None:
    """executemany straight through the driver, for narrow rows written in bulk.

    SQLAlchemy's per-row parameter processing costs more than the insert itself at these volumes;
    the values here are already plain ints, strings and (PostgreSQL) datetimes.
    """
    if not rows:
        return
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        marks = ", ".join(f"${i + 1}" for i in range(len(columns)))
    else:
        marks = ", ".join("?" for _ in columns)
    tail = " ON CONFLICT DO NOTHING" if on_conflict_nothing else ""
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}){tail}"
    await conn.exec_driver_sql(sql, rows)


def _event(kind: EventKind, chain: str | None, transfer_id: int | None, now: datetime, **detail: Any) -> dict[str, Any]:
    return {"kind": str(kind), "chain": chain, "transfer_id": transfer_id, "detail": detail, "created_at": now}


@dataclass
class _Changes:
    """What one write call changed so far: its result, the totals deltas and the events to append."""

    now: datetime
    result: WriteResult = field(default_factory=WriteResult)
    deltas: TotalsDelta = field(default_factory=TotalsDelta)
    events: list[dict[str, Any]] = field(default_factory=list)

    async def flush(self, session: AsyncSession) -> None:
        await apply_deltas(session, self.deltas)
        await _insert_events(session, self.events)


@dataclass(frozen=True, slots=True)
class _Target:
    """A change decided for one stored transfer: the new status, and the new block when it moves."""

    status: TransferStatus
    block: TransferIn | None = None


# Decides the change for a stored row (a plain Row of the transfer table), or None for none.
Decide = Callable[[Any], "_Target | None"]


def _sighting(item: TransferIn, rechecked: bool) -> Decide:
    """The change a new sighting of a stored transfer makes: forward only, unless ``rechecked``."""

    def decide(row: Any) -> _Target | None:
        same_block = (row.block_hash, row.block_height) == (item.block_hash, item.block_height)
        if same_block and row.status == item.status and row.log_index == item.log_index:
            return None
        if not rechecked and row.status != TransferStatus.ORPHANED:
            if row.status == TransferStatus.CONFIRMED:
                return None  # a sighting with fewer confirmations (a lagging view) is no news
            if row.block_hash is not None and item.block_hash is None:
                return None  # only a re-check of the chain takes a transfer out of its block
        return _Target(item.status, item)

    return decide


async def _update_existing(
    session: AsyncSession, by_key: dict[NaturalKey, TransferIn], acc: _Changes, rechecked: bool
) -> None:
    # chain = ? AND txid IN (...) uses the unique index's prefix on both databases (SQLite scans
    # the whole index for a row-value IN); the exact key is then matched here.
    txids_by_chain: dict[str, set[str]] = {}
    for chain, txid, *_ in by_key:
        txids_by_chain.setdefault(chain, set()).add(txid)
    table = Transfer.__table__
    for chain, txids in txids_by_chain.items():
        stmt = select(table).where(table.c.chain == chain, table.c.txid.in_(txids))
        for row in (await session.execute(stmt)).all():
            item = by_key.get((row.chain, row.txid, row.wallet_id, row.asset, row.position))
            if item is not None:
                await _apply(session, row, _sighting(item, rechecked), acc)


async def _apply(session: AsyncSession, row: Any, decide: Decide, acc: _Changes) -> None:
    """Decide and make one row's change as a compare-and-set; on losing to another writer, decide again."""
    for _ in range(CAS_ATTEMPTS):
        target = decide(row)
        if target is None:
            acc.result.unchanged += 1
            return
        if await _change(session, row, target, acc):
            return
        table = Transfer.__table__
        row = (await session.execute(select(table).where(table.c.id == row.id))).one()
    log.warning("transfer %s kept changing under this writer; left as another writer set it", row.id)


async def _change(session: AsyncSession, row: Any, target: _Target, acc: _Changes) -> bool:
    """UPDATE ... WHERE id = ? AND status = <old> AND block_hash = <old>; False when another writer got there first."""
    old, status, block, now = TransferStatus(row.status), target.status, target.block, acc.now
    values: dict[str, Any] = {"status": str(status)}
    if block is not None:
        values.update(
            block_height=block.block_height, block_hash=block.block_hash, block_time=block.block_time, log_index=block.log_index
        )
    if status == TransferStatus.CONFIRMED and row.confirmed_at is None:
        values["confirmed_at"] = now
    elif status == TransferStatus.PENDING and old == TransferStatus.CONFIRMED:
        values["confirmed_at"] = None
    if status == TransferStatus.ORPHANED:
        values["orphaned_at"] = now
    elif old == TransferStatus.ORPHANED:
        values["orphaned_at"] = None
    table = Transfer.__table__
    stmt = (
        update(table)
        .where(table.c.id == row.id, table.c.status == row.status, table.c.block_hash.is_not_distinct_from(row.block_hash))
        .values(**values)
    )
    if (await session.execute(stmt)).rowcount != 1:
        log.info("transfer %s changed under this writer (was %s); deciding again", row.id, row.status)
        return False
    result, events = acc.result, acc.events
    if old != status:
        acc.deltas.add(row.wallet_id, row.asset, row.decimals, str(old), -1, -row.amount)
        acc.deltas.add(row.wallet_id, row.asset, row.decimals, str(status), 1, row.amount)
    detail = {"from": str(old), "to": str(status), "block_height": values.get("block_height", row.block_height)}
    if old == TransferStatus.ORPHANED and status != TransferStatus.ORPHANED:
        result.reincluded.append(row.id)
        events.append(_event(EventKind.TRANSFER_REINCLUDED, row.chain, row.id, now, **detail))
        if status == TransferStatus.CONFIRMED:
            result.confirmed.append(row.id)
            events.append(_event(EventKind.TRANSFER_CONFIRMED, row.chain, row.id, now, **detail))
    elif status == TransferStatus.ORPHANED and old != status:
        result.orphaned.append(row.id)
        events.append(_event(EventKind.TRANSFER_ORPHANED, row.chain, row.id, now, **detail))
    elif status == TransferStatus.CONFIRMED and old != status:
        result.confirmed.append(row.id)
        events.append(_event(EventKind.TRANSFER_CONFIRMED, row.chain, row.id, now, **detail))
    elif status == TransferStatus.PENDING and old == TransferStatus.CONFIRMED:
        result.unconfirmed.append(row.id)
        events.append(_event(EventKind.TRANSFER_UNCONFIRMED, row.chain, row.id, now, **detail))
    else:
        result.moved.append(row.id)
    return True


async def _apply_each(session: AsyncSession, ids: Sequence[int], decide: Decide, now: datetime | None) -> WriteResult:
    acc = _Changes(now or utcnow())
    table = Transfer.__table__
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        for row in (await session.execute(select(table).where(table.c.id.in_(chunk)).order_by(table.c.id))).all():
            await _apply(session, row, decide, acc)
    await acc.flush(session)
    return acc.result


async def set_status(
    session: AsyncSession, transfer_ids: Iterable[int], status: TransferStatus, *, now: datetime | None = None
) -> WriteResult:
    """Move the given transfers to ``status``, with totals and events; no-ops are skipped."""
    target = _Target(status)
    return await _apply_each(
        session, list(dict.fromkeys(transfer_ids)), lambda row: None if row.status == status else target, now
    )


async def orphan_above(session: AsyncSession, chain: str, height: int, *, now: datetime | None = None) -> WriteResult:
    """Orphan every non-orphaned transfer of ``chain`` in a block above ``height`` (a reorg)."""
    ids = (
        await session.execute(
            select(Transfer.id).where(
                Transfer.chain == chain,
                Transfer.block_height > height,
                Transfer.status != TransferStatus.ORPHANED,
            )
        )
    ).scalars().all()
    target = _Target(TransferStatus.ORPHANED)

    def decide(row: Any) -> _Target | None:
        above = row.block_height is not None and row.block_height > height
        return target if above and row.status != TransferStatus.ORPHANED else None

    return await _apply_each(session, list(ids), decide, now)


async def pending_heights(session: AsyncSession, chain: str, height: int) -> list[int]:
    """Heights (at or below ``height``) of the blocks holding pending transfers of ``chain``."""
    rows = await session.execute(
        select(Transfer.block_height)
        .where(Transfer.chain == chain, Transfer.status == TransferStatus.PENDING, Transfer.block_height <= height)
        .distinct()
    )
    return sorted(h for h in rows.scalars() if h is not None)


async def confirm_up_to(
    session: AsyncSession, chain: str, height: int, canonical: Mapping[int, str | None], *, now: datetime | None = None
) -> WriteResult:
    """Confirm every pending transfer of ``chain`` at or below ``height`` whose block is the canonical one there.

    ``canonical`` maps heights to the best chain's block hash as the caller verified it; a
    transfer whose stored block is another one at that height (or whose height is not in the
    map) is left pending: depth alone never confirms a block the chain may have dropped.
    """
    ids = (
        await session.execute(
            select(Transfer.id).where(
                Transfer.chain == chain,
                Transfer.block_height <= height,
                Transfer.status == TransferStatus.PENDING,
            )
        )
    ).scalars().all()
    target = _Target(TransferStatus.CONFIRMED)

    def decide(row: Any) -> _Target | None:
        if row.status != TransferStatus.PENDING or row.block_height is None or row.block_height > height:
            return None
        return target if row.block_hash is not None and canonical.get(row.block_height) == row.block_hash else None

    return await _apply_each(session, list(ids), decide, now)


async def record_event(
    session: AsyncSession, kind: EventKind, *, chain: str | None = None, transfer_id: int | None = None, **detail: Any
) -> None:
    """Append one event (a sanctions hit, a watcher failing) to the event log."""
    await session.flush()  # rows it may refer to, added through the ORM, go first
    await _insert_events(session, [_event(kind, chain, transfer_id, utcnow(), **detail)])
