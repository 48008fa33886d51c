"""Per-wallet history imports: planning one, the live watcher's hand-over height, progress, the end.

A wallet added while the bot already follows a chain's tip needs its past: the import fills in
``since .. live_from`` while the live watcher covers everything above ``live_from``. Each step
of an import stores its transfers and its progress in the caller's transaction, so an import
stopped anywhere continues where it stopped.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.history_tables import ImportState, WalletImport
from ledger.models import Wallet
from ledger.types import utcnow


async def plan_import(
    session: AsyncSession,
    wallet: Wallet,
    *,
    since_height: int | None = None,
    since_time: datetime | None = None,
    unit: str = "blocks",
    force: bool = False,
) -> WalletImport:
    """Ask for the history of ``wallet`` since a height or a time (both None: its whole history).

    A wallet with an import already asking for at least as much keeps it (a restart re-reads the
    config), unless ``force`` (an operator asked again); one asking for an earlier start than its
    import had is planned again from there. The hand-over height to the live watcher is kept.
    """
    assert wallet.id is not None
    row = await session.get(WalletImport, wallet.id)
    if row is not None and not force and not _earlier(since_height, since_time, row):
        return row
    if row is None:
        row = WalletImport(wallet_id=wallet.id, chain=wallet.chain)
        session.add(row)
    row.state = ImportState.PENDING
    row.since_height, row.since_time, row.unit = since_height, since_time, unit
    row.done_height = row.resume = row.last_error = row.finished_at = None
    row.done = row.total = row.stored = row.rejected = 0
    row.updated_at = utcnow()
    await session.flush()
    return row


def _earlier(height: int | None, when: datetime | None, row: WalletImport) -> bool:
    if row.since_height is None and row.since_time is None:
        return False  # the row already asks for everything
    if height is None and when is None:
        return True
    if height is not None and row.since_height is not None:
        return height < row.since_height
    if when is not None and row.since_time is not None:
        return when < row.since_time
    return True  # a height against a time: cannot compare, import again (writes are idempotent)


async def get_import(session: AsyncSession, wallet_id: int) -> WalletImport | None:
    """The import of one wallet, if it has one."""
    return await session.get(WalletImport, wallet_id)


async def imports_of(session: AsyncSession, wallet_ids: Collection[int]) -> dict[int, WalletImport]:
    """The imports of the given wallets, by wallet id."""
    if not wallet_ids:
        return {}
    rows = await session.execute(select(WalletImport).where(WalletImport.wallet_id.in_(list(wallet_ids))))
    return {r.wallet_id: r for r in rows.scalars()}


async def unfinished(session: AsyncSession, chain: str | None = None) -> Sequence[WalletImport]:
    """Imports not yet done (pending or failed, to retry), of active wallets, oldest first."""
    stmt = (
        select(WalletImport)
        .join(Wallet, Wallet.id == WalletImport.wallet_id)
        .where(WalletImport.state != ImportState.DONE, Wallet.active.is_(True))
        .order_by(WalletImport.created_at, WalletImport.wallet_id)
    )
    if chain is not None:
        stmt = stmt.where(WalletImport.chain == chain)
    return (await session.execute(stmt)).scalars().all()


async def importing_wallet_ids(session: AsyncSession, chain: str, *, unfinished_only: bool = False) -> set[int]:
    """Wallets of ``chain`` whose history an import covers (all of them, or only those not done)."""
    stmt = select(WalletImport.wallet_id).where(WalletImport.chain == chain)
    if unfinished_only:
        stmt = stmt.where(WalletImport.state != ImportState.DONE)
    return set((await session.execute(stmt)).scalars())


async def set_live_from(session: AsyncSession, chain: str, wallet_ids: Collection[int], height: int) -> None:
    """The live watcher covers blocks above ``height`` for these wallets from now on: the imports' end.

    Only imports that have no hand-over height yet take it (the first live poll with the wallet).
    """
    if not wallet_ids:
        return
    await session.execute(
        update(WalletImport)
        .where(
            WalletImport.chain == chain,
            WalletImport.wallet_id.in_(list(wallet_ids)),
            WalletImport.live_from.is_(None),
        )
        .values(live_from=height, updated_at=utcnow())
    )


async def record_progress(
    session: AsyncSession,
    wallet_id: int,
    *,
    done_height: int | None = None,
    resume: str | None = None,
    done: int | None = None,
    total: int | None = None,
    stored: int = 0,
    rejected: int = 0,
) -> None:
    """Move an import forward (in the same transaction as the transfers this step stored)."""
    row = await session.get(WalletImport, wallet_id, with_for_update=True)
    if row is None:
        return
    if done_height is not None:
        row.done_height = done_height
    row.resume = resume
    if done is not None:
        row.done = done
    if total is not None:
        row.total = total
    row.stored += stored
    row.rejected += rejected
    row.last_error = None
    row.updated_at = utcnow()
    await session.flush()


async def finish_import(session: AsyncSession, wallet_id: int) -> None:
    """Mark an import done."""
    row = await session.get(WalletImport, wallet_id, with_for_update=True)
    if row is None:
        return
    row.state = ImportState.DONE
    row.done = max(row.done, row.total)
    row.resume = None
    row.last_error = None
    row.finished_at = row.updated_at = utcnow()
    await session.flush()


async def fail_import(session: AsyncSession, wallet_id: int, error: str) -> None:
    """Record why an import step failed; it is retried later from where it stopped."""
    row = await session.get(WalletImport, wallet_id, with_for_update=True)
    if row is None:
        return
    row.state = ImportState.FAILED
    row.last_error = error[:500]
    row.updated_at = utcnow()
    await session.flush()


@dataclass(frozen=True, slots=True)
class ImportStatus:
    """An import as a person reads it."""

    state: str
    done: int
    total: int
    unit: str
    stored: int
    rejected: int
    last_error: str | None

    @property
    def percent(self) -> int | None:
        return None if self.total <= 0 else min(100, self.done * 100 // self.total)

    def describe(self) -> str:
        """One short line: 'history 42% (4,200/10,000 blocks), 12 stored' or 'history done, 12 stored'."""
        tail = f", {self.stored:,} stored" + (f", {self.rejected:,} rejected" if self.rejected else "")
        if self.state == ImportState.DONE:
            return "history done" + tail
        where = f"{self.percent}% ({self.done:,}/{self.total:,} {self.unit})" if self.percent is not None else "waiting"
        failed = f"; last failure: {self.last_error}" if self.state == ImportState.FAILED and self.last_error else ""
        return f"history {where}{tail}{failed}"


def status_of(row: WalletImport) -> ImportStatus:
    """The import's progress as a plain value."""
    return ImportStatus(row.state, row.done, row.total, row.unit, row.stored, row.rejected, row.last_error)


async def chain_started(session: AsyncSession, chain: str) -> bool:
    """Whether a live watcher has already polled ``chain`` (a block cursor, or any wallet's address cursor)."""
    from ledger.models import ChainCursor, WalletCursor

    if await session.get(ChainCursor, chain) is not None:
        return True
    stmt = select(WalletCursor.wallet_id).join(Wallet, Wallet.id == WalletCursor.wallet_id).where(Wallet.chain == chain).limit(1)
    return (await session.execute(stmt)).first() is not None
