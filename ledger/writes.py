"""Idempotent writes: transfers stored once on their natural key, status changes as updates.

Every write also moves the running totals and appends the events a user may be told about, in
the caller's transaction, so a crash between them cannot leave the ledger half-written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import Event, EventKind, Transfer, TransferStatus
from ledger.totals import TotalsDelta, apply_deltas
from ledger.types import sqlite_text, time_param, uint256_param, utcnow

# Rows per INSERT statement: well under SQLite's 32,766 bound parameters at 16 columns.
BATCH = 1_000

NaturalKey = tuple[str, str, int]


@dataclass(frozen=True, slots=True)
class TransferIn:
    """A transfer as a watcher saw it, before it is stored."""

    chain: str
    txid: str
    position: int
    wallet_id: int
    asset: str
    decimals: int
    amount: int
    senders: tuple[str, ...] = ()
    token: str | None = None
    block_height: int | None = None
    block_hash: str | None = None
    block_time: datetime | None = None
    status: TransferStatus = TransferStatus.PENDING

    @property
    def key(self) -> NaturalKey:
        return (self.chain, self.txid, self.position)


@dataclass
class WriteResult:
    """What a write changed: ids of inserted transfers, and ids whose status or block moved."""

    inserted: list[int] = field(default_factory=list)
    confirmed: list[int] = field(default_factory=list)
    orphaned: list[int] = field(default_factory=list)
    reincluded: list[int] = field(default_factory=list)
    moved: list[int] = field(default_factory=list)
    unchanged: int = 0


TRANSFER_COLUMNS = (
    "chain", "txid", "position", "wallet_id", "asset", "token", "decimals", "amount", "block_height",
    "block_hash", "block_time", "status", "first_seen", "confirmed_at", "orphaned_at",
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
        "ON CONFLICT (chain, txid, position) DO NOTHING RETURNING id, chain, txid, position"
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
    session: AsyncSession, items: Sequence[TransferIn], *, now: datetime | None = None, history: bool = False
) -> WriteResult:
    """Store each transfer once; a transfer seen before is updated where its block or status moved.

    A known transfer that reappears with another block (a reorg re-included it) keeps its id and
    takes the new block. Running totals and events follow in the same transaction. With
    ``history`` (backfill, first sync, explorer import) the new transfers' events say so
    (``detail["history"] = True``): screened like any other, never announced one by one.
    """
    now = now or utcnow()
    result = WriteResult()
    deltas = TotalsDelta()
    events: list[dict[str, Any]] = []
    dialect = session.get_bind().dialect.name
    unique = _dedupe(items)
    for start in range(0, len(unique), BATCH):
        chunk = unique[start : start + BATCH]
        by_key = {item.key: item for item in chunk}
        rows = await _insert_new_transfers(session, [_row(item, now, dialect) for item in chunk])
        senders: list[tuple[int, str]] = []
        for tid, chain, txid, position in rows:
            item = by_key.pop((chain, txid, position))
            result.inserted.append(tid)
            deltas.add(item.wallet_id, item.asset, item.decimals, str(item.status), 1, item.amount)
            senders.extend((tid, a) for a in dict.fromkeys(item.senders))
            extra = {"history": True} if history else {}
            events.append(_event(EventKind.TRANSFER_NEW, chain, tid, now, status=str(item.status), **extra))
        await _raw_insert(session, "transfer_sender", ("transfer_id", "address"), senders, on_conflict_nothing=True)
        if by_key:
            await _update_existing(session, by_key, now, result, deltas, events)
    await apply_deltas(session, deltas)
    await _insert_events(session, events)
    return result


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


async def _update_existing(
    session: AsyncSession,
    by_key: dict[NaturalKey, TransferIn],
    now: datetime,
    result: WriteResult,
    deltas: TotalsDelta,
    events: list[dict[str, Any]],
) -> None:
    # chain = ? AND txid IN (...) uses the unique index's prefix on both databases (SQLite scans
    # the whole index for a row-value IN); the exact key is then matched here.
    txids_by_chain: dict[str, set[str]] = {}
    for chain, txid, _ in by_key:
        txids_by_chain.setdefault(chain, set()).add(txid)
    stored: list[Transfer] = []
    for chain, txids in txids_by_chain.items():
        stmt = select(Transfer).where(Transfer.chain == chain, Transfer.txid.in_(txids))
        stored.extend((await session.execute(stmt)).scalars())
    for row in stored:
        item = by_key.get((row.chain, row.txid, row.position))
        if item is None:
            continue
        same_block = (row.block_hash, row.block_height) == (item.block_hash, item.block_height)
        if same_block and row.status == item.status:
            result.unchanged += 1
            continue
        await _change(session, row, item.status, now, result, deltas, events, block=item)


async def _change(
    session: AsyncSession,
    row: Transfer,
    status: TransferStatus,
    now: datetime,
    result: WriteResult,
    deltas: TotalsDelta,
    events: list[dict[str, Any]],
    block: TransferIn | None = None,
) -> None:
    old = TransferStatus(row.status)
    values: dict[str, Any] = {"status": str(status)}
    if block is not None:
        values.update(block_height=block.block_height, block_hash=block.block_hash, block_time=block.block_time)
    if status == TransferStatus.CONFIRMED and row.confirmed_at is None:
        values["confirmed_at"] = now
    if status == TransferStatus.ORPHANED:
        values["orphaned_at"] = now
    elif old == TransferStatus.ORPHANED:
        values["orphaned_at"] = None
    await session.execute(update(Transfer).where(Transfer.id == row.id).values(**values))
    if old != status:
        deltas.add(row.wallet_id, row.asset, row.decimals, str(old), -1, -row.amount)
        deltas.add(row.wallet_id, row.asset, row.decimals, str(status), 1, row.amount)
    assert row.id is not None
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
    else:
        result.moved.append(row.id)


async def set_status(
    session: AsyncSession, transfer_ids: Iterable[int], status: TransferStatus, *, now: datetime | None = None
) -> WriteResult:
    """Move the given transfers to ``status``, with totals and events; no-ops are skipped."""
    now = now or utcnow()
    ids = list(dict.fromkeys(transfer_ids))
    result = WriteResult()
    deltas = TotalsDelta()
    events: list[dict[str, Any]] = []
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        rows = (await session.execute(select(Transfer).where(Transfer.id.in_(chunk)))).scalars().all()
        for row in rows:
            if row.status == status:
                result.unchanged += 1
                continue
            await _change(session, row, status, now, result, deltas, events)
    await apply_deltas(session, deltas)
    await _insert_events(session, events)
    return result


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
    return await set_status(session, ids, TransferStatus.ORPHANED, now=now)


async def confirm_up_to(session: AsyncSession, chain: str, height: int, *, now: datetime | None = None) -> WriteResult:
    """Confirm every pending transfer of ``chain`` whose block is at or below ``height``."""
    ids = (
        await session.execute(
            select(Transfer.id).where(
                Transfer.chain == chain,
                Transfer.block_height <= height,
                Transfer.status == TransferStatus.PENDING,
            )
        )
    ).scalars().all()
    return await set_status(session, ids, TransferStatus.CONFIRMED, now=now)


async def record_event(
    session: AsyncSession, kind: EventKind, *, chain: str | None = None, transfer_id: int | None = None, **detail: Any
) -> None:
    """Append one event (a sanctions hit, a watcher failing) to the event log."""
    session.add(Event(kind=str(kind), chain=chain, transfer_id=transfer_id, detail=detail))
    await session.flush()
