"""Read-only questions behind the daily summary and the chat commands: windows, hits, watcher states."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import Event, EventKind, Transfer, TransferStatus, Wallet
from ledger.queries import COUNTED
from ledger.screening_tables import ScreeningHit

_COUNTED = [str(s) for s in COUNTED]


async def arrivals_between(session: AsyncSession, start: datetime | None, end: datetime) -> list[tuple[datetime, str, int, int]]:
    """(first seen, asset, decimals, amount) of counted transfers first seen in [start, end), oldest first."""
    stmt = select(Transfer.first_seen, Transfer.asset, Transfer.decimals, Transfer.amount).where(
        Transfer.first_seen < end, Transfer.status.in_(_COUNTED)
    )
    if start is not None:
        stmt = stmt.where(Transfer.first_seen >= start)
    return [tuple(row) for row in (await session.execute(stmt.order_by(Transfer.first_seen, Transfer.id))).all()]  # type: ignore[misc]


async def largest_between(session: AsyncSession, start: datetime, end: datetime, *, limit: int = 10) -> Sequence[Transfer]:
    """The counted transfers first seen in [start, end), biggest amount first per asset."""
    stmt = (
        select(Transfer)
        .where(Transfer.first_seen >= start, Transfer.first_seen < end, Transfer.status.in_(_COUNTED))
        .order_by(Transfer.asset, Transfer.amount.desc(), Transfer.id)
        .limit(limit)
    )
    return (await session.execute(stmt)).scalars().all()


@dataclass(frozen=True, slots=True)
class OpenHit:
    """An active (not delisted) sanctions hit with the transfer it concerns."""

    hit: ScreeningHit
    transfer: Transfer
    wallet: Wallet


async def open_hits(session: AsyncSession, *, limit: int = 100) -> list[OpenHit]:
    """Active hits, newest first, each with its transfer and wallet."""
    stmt = (
        select(ScreeningHit, Transfer, Wallet)
        .join(Transfer, Transfer.id == ScreeningHit.transfer_id)
        .join(Wallet, Wallet.id == Transfer.wallet_id)
        .where(ScreeningHit.delisted_at.is_(None))
        .order_by(ScreeningHit.id.desc())
        .limit(limit)
    )
    return [OpenHit(h, t, w) for h, t, w in (await session.execute(stmt)).all()]


async def hit_counts(session: AsyncSession, since: datetime) -> tuple[int, int]:
    """(active hits, hits found since ``since``)."""
    active = await session.scalar(select(func.count()).select_from(ScreeningHit).where(ScreeningHit.delisted_at.is_(None)))
    new = await session.scalar(select(func.count()).select_from(ScreeningHit).where(ScreeningHit.found_at >= since))
    return int(active or 0), int(new or 0)


@dataclass(frozen=True, slots=True)
class WatcherState:
    """A chain watcher's last reported state, from its failed/recovered events."""

    chain: str
    healthy: bool
    since: datetime
    error: str


async def watcher_states(session: AsyncSession) -> dict[str, WatcherState]:
    """Per chain that ever failed: whether its last report was a failure or a recovery, and since when."""
    kinds = [str(EventKind.WATCHER_FAILED), str(EventKind.WATCHER_RECOVERED)]
    last = select(Event.chain, func.max(Event.id).label("id")).where(Event.kind.in_(kinds)).group_by(Event.chain).subquery()
    rows = (await session.execute(select(Event).join(last, last.c.id == Event.id))).scalars().all()
    return {
        e.chain or "": WatcherState(e.chain or "", e.kind == EventKind.WATCHER_RECOVERED, e.created_at, str((e.detail or {}).get("error") or ""))
        for e in rows
    }


async def orphaned_count(session: AsyncSession) -> int:
    """How many stored transfers were dropped from their chain."""
    return int(await session.scalar(select(func.count()).select_from(Transfer).where(Transfer.status == TransferStatus.ORPHANED)) or 0)


async def largest_per_asset(session: AsyncSession, start: datetime, end: datetime, *, per_asset: int = 5) -> dict[str, list[Transfer]]:
    """Per asset, the biggest counted transfers first seen in [start, end), biggest first."""
    assets = (await session.execute(
        select(Transfer.asset).where(Transfer.first_seen >= start, Transfer.first_seen < end, Transfer.status.in_(_COUNTED)).distinct()
    )).scalars().all()
    out: dict[str, list[Transfer]] = {}
    for asset in sorted(assets):
        stmt = (select(Transfer).where(Transfer.asset == asset, Transfer.first_seen >= start, Transfer.first_seen < end,
                                       Transfer.status.in_(_COUNTED)).order_by(Transfer.amount.desc(), Transfer.id).limit(per_asset))
        out[asset] = list((await session.execute(stmt)).scalars())
    return out


async def chain_tip(session: AsyncSession, chain: str) -> int | None:
    """The highest block a block-scanning watcher has stored for ``chain`` (None when it keeps no cursor)."""
    from ledger.models import ChainCursor

    return await session.scalar(select(ChainCursor.height).where(ChainCursor.chain == chain))


async def neighbour_event(session: AsyncSession, kind: str, chain: str | None, *, before_id: int | None = None,
                          after_id: int | None = None) -> Event | None:
    """The nearest event of ``kind`` on ``chain`` before (or after) an event id."""
    stmt = select(Event).where(Event.kind == kind, Event.chain == chain)
    if before_id is not None:
        stmt = stmt.where(Event.id < before_id).order_by(Event.id.desc())
    else:
        stmt = stmt.where(Event.id > (after_id or 0)).order_by(Event.id)
    return (await session.execute(stmt.limit(1))).scalars().first()
