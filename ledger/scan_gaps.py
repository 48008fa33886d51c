"""Block ranges a scanner stored without optional data the config asked for, kept until filled.

A node without `trace_filter` cannot say which contracts paid a watched address. The watcher
still moves on (native and token donations do not wait), but each such range is written here in
the same transaction as the cursor, the chain is reported degraded (`chain.degraded`, once per
streak), and the ranges are scanned again for the missing data when a node gives it; the last
one filled says `chain.restored`. No range is ever passed over silently.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import BigInteger, Column, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from ledger.types import UTCDateTime, utcnow


class ScanGap(SQLModel, table=True):
    """Blocks ``from_height .. to_height`` of a chain, stored without ``kind`` (e.g. "traces")."""

    __tablename__ = "scan_gap"

    id: Optional[int] = Field(default=None, primary_key=True)
    chain: str = Field(max_length=32, index=True)
    kind: str = Field(max_length=16)
    from_height: int = Field(sa_column=Column(BigInteger, nullable=False))
    to_height: int = Field(sa_column=Column(BigInteger, nullable=False))
    reason: str = Field(default="", max_length=300)
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


async def open_gaps(session: AsyncSession, chain: str | None = None) -> list[ScanGap]:
    """The unfilled ranges (of one chain, or all), lowest first."""
    stmt = select(ScanGap).order_by(ScanGap.chain, ScanGap.from_height)
    if chain is not None:
        stmt = stmt.where(ScanGap.chain == chain)
    return list((await session.execute(stmt)).scalars())


async def record_gap(session: AsyncSession, chain: str, kind: str, start: int, end: int, reason: str) -> bool:
    """Note blocks ``start..end`` as missing ``kind``, joined to the range it continues; True when the chain had no open gap."""
    gaps = await open_gaps(session, chain)
    previous = next((g for g in gaps if g.kind == kind and g.to_height == start - 1), None)
    if previous is not None:
        await session.execute(update(ScanGap).where(ScanGap.id == previous.id).values(to_height=end))
    else:
        session.add(ScanGap(chain=chain, kind=kind, from_height=start, to_height=end, reason=reason[:300]))
        await session.flush()
    return not gaps


async def close_gap(session: AsyncSession, gap_id: int, through: int) -> None:
    """Blocks up to ``through`` of a gap were filled: shrink it, or drop it when it is all done."""
    gap = await session.get(ScanGap, gap_id)
    if gap is None:
        return
    if through >= gap.to_height:
        await session.execute(delete(ScanGap).where(ScanGap.id == gap_id))
    else:
        await session.execute(update(ScanGap).where(ScanGap.id == gap_id).values(from_height=through + 1))


async def forget_above(session: AsyncSession, chain: str, height: int) -> None:
    """A reorg rewound the chain to ``height``: the blocks above will be scanned again whole."""
    await session.execute(delete(ScanGap).where(ScanGap.chain == chain, ScanGap.from_height > height))
    await session.execute(
        update(ScanGap).where(ScanGap.chain == chain, ScanGap.to_height > height).values(to_height=height)
    )
