"""Read-only questions people ask of the ledger: totals, counts, senders, recent and largest."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.id_lists import id_chunks
from ledger.models import Transfer, TransferSender, TransferStatus, Wallet, WalletTotal

COUNTED = (TransferStatus.PENDING, TransferStatus.CONFIRMED)


@dataclass(frozen=True, slots=True)
class Total:
    """The sum received by one wallet in one asset, in base units."""

    wallet_id: int
    chain: str
    address: str
    label: str
    asset: str
    decimals: int
    confirmed: int
    pending: int
    confirmed_count: int
    pending_count: int

    @property
    def with_pending(self) -> int:
        return self.confirmed + self.pending

    @property
    def count(self) -> int:
        return self.confirmed_count + self.pending_count


async def totals(session: AsyncSession, *, wallet_id: int | None = None) -> list[Total]:
    """Confirmed and pending sums per (wallet, asset); orphaned transfers count for nothing.

    Reads the running totals (a few rows per wallet), never the transfers themselves.
    """
    t = WalletTotal.__table__
    w = Wallet.__table__
    stmt = (
        select(t.c.wallet_id, w.c.chain, w.c.address, w.c.label, t.c.asset, t.c.decimals, t.c.status, t.c.count, t.c.amount)
        .join(w, w.c.id == t.c.wallet_id)
        .where(t.c.status.in_([str(s) for s in COUNTED]))
        .order_by(w.c.chain, t.c.wallet_id, t.c.asset)
    )
    if wallet_id is not None:
        stmt = stmt.where(t.c.wallet_id == wallet_id)
    acc: dict[tuple[int, str], list[object]] = {}
    conn = await session.connection()
    for wid, chain, address, label, asset, decimals, status, count, amount in await conn.execute(stmt):
        entry = acc.get((wid, asset))
        if entry is None:
            entry = acc[(wid, asset)] = [wid, chain, address, label, asset, decimals, 0, 0, 0, 0]
        if status == TransferStatus.CONFIRMED:
            entry[6], entry[8] = amount, count
        else:
            entry[7], entry[9] = amount, count
    return [Total(*e) for e in acc.values()]  # type: ignore[arg-type]


async def donation_count(session: AsyncSession, *, include_pending: bool = True) -> int:
    """How many transfers count as donations (confirmed, and pending if asked)."""
    statuses = [str(s) for s in (COUNTED if include_pending else (TransferStatus.CONFIRMED,))]
    value = await session.scalar(select(func.coalesce(func.sum(WalletTotal.count), 0)).where(WalletTotal.status.in_(statuses)))
    return int(value or 0)


async def unique_senders(session: AsyncSession) -> int:
    """How many distinct addresses have sent a counted transfer."""
    stmt = (
        select(func.count(func.distinct(TransferSender.address)))
        .join(Transfer, Transfer.id == TransferSender.transfer_id)
        .where(Transfer.status.in_([str(s) for s in COUNTED]))
    )
    return int(await session.scalar(stmt) or 0)


async def recent(session: AsyncSession, limit: int = 20, *, wallet_id: int | None = None) -> Sequence[Transfer]:
    """The most recently stored counted transfers, newest first (ids only ever increase)."""
    stmt = (
        select(Transfer)
        .where(Transfer.status.in_([str(s) for s in COUNTED]))
        .order_by(Transfer.id.desc())
        .limit(limit)
    )
    if wallet_id is not None:
        stmt = stmt.where(Transfer.wallet_id == wallet_id)
    return (await session.execute(stmt)).scalars().all()


async def largest(session: AsyncSession, asset: str, limit: int = 20) -> Sequence[Transfer]:
    """The biggest counted transfers of one asset, biggest first."""
    stmt = (
        select(Transfer)
        .where(Transfer.asset == asset, Transfer.status.in_([str(s) for s in COUNTED]))
        .order_by(Transfer.amount.desc(), Transfer.id)
        .limit(limit)
    )
    return (await session.execute(stmt)).scalars().all()


async def totals_between(
    session: AsyncSession, start: datetime, end: datetime, *, include_pending: bool = True
) -> dict[str, tuple[int, int, int]]:
    """Per asset, the (decimals, count, sum) of counted transfers first seen in [start, end).

    Summed in Python: SQLite has no exact wide sum, and a window holds few rows.
    """
    statuses = [str(s) for s in (COUNTED if include_pending else (TransferStatus.CONFIRMED,))]
    stmt = select(Transfer.asset, Transfer.decimals, Transfer.amount).where(
        Transfer.first_seen >= start, Transfer.first_seen < end, Transfer.status.in_(statuses)
    )
    return _per_asset((await session.execute(stmt)).all())


async def totals_of(session: AsyncSession, transfer_ids: Sequence[int]) -> dict[str, tuple[int, int, int]]:
    """Per asset, the (decimals, count, sum) of these transfers (e.g. what an import stored), whatever their status."""
    rows = []
    for ids in id_chunks(transfer_ids):
        stmt = select(Transfer.asset, Transfer.decimals, Transfer.amount).where(Transfer.id.in_(ids))
        rows += (await session.execute(stmt)).all()
    return _per_asset(rows)


def _per_asset(rows: Sequence[tuple[str, int, int]]) -> dict[str, tuple[int, int, int]]:
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for asset, decimals, amount in rows:
        entry = acc[asset]
        entry[0] = decimals
        entry[1] += 1
        entry[2] += amount
    return {k: (v[0], v[1], v[2]) for k, v in acc.items()}


async def senders_of(session: AsyncSession, transfer_id: int) -> list[str]:
    """The sending addresses of one transfer."""
    stmt = select(TransferSender.address).where(TransferSender.transfer_id == transfer_id).order_by(TransferSender.address)
    return list((await session.execute(stmt)).scalars())

