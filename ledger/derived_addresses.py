"""Reading and extending the derived addresses of extended-key wallets; the next unused receive address."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.derived_tables import WalletAddress
from ledger.types import utcnow

RECEIVE, CHANGE = 0, 1


async def derived_addresses(session: AsyncSession, wallet_id: int) -> Sequence[WalletAddress]:
    """The wallet's derived addresses, receive branch first, by index."""
    stmt = select(WalletAddress).where(WalletAddress.wallet_id == wallet_id).order_by(WalletAddress.branch, WalletAddress.index)
    return (await session.execute(stmt)).scalars().all()


async def add_derived(session: AsyncSession, wallet_id: int, branch: int, addresses: dict[int, str]) -> None:
    """Store newly derived addresses (index -> address) of one branch."""
    session.add_all(WalletAddress(wallet_id=wallet_id, branch=branch, index=i, address=a) for i, a in sorted(addresses.items()))
    await session.flush()


async def save_address_cursor(
    session: AsyncSession, wallet_id: int, address: str, chain_tx_count: int, mempool_tx_count: int, newest_txid: str | None
) -> None:
    """Remember how far an address's history was read; an address with any transaction is used."""
    row = (
        await session.execute(select(WalletAddress).where(WalletAddress.wallet_id == wallet_id, WalletAddress.address == address))
    ).scalar_one()
    row.chain_tx_count, row.mempool_tx_count, row.newest_txid = chain_tx_count, mempool_tx_count, newest_txid
    row.used = row.used or chain_tx_count > 0 or mempool_tx_count > 0
    row.updated_at = utcnow()
    await session.flush()


async def next_unused_receive_address(session: AsyncSession, wallet_id: int) -> str | None:
    """The first receive address after the last used one (what a donor should be shown), or None."""
    return (await next_unused_receive_addresses(session, [wallet_id])).get(wallet_id)


async def next_unused_receive_addresses(session: AsyncSession, wallet_ids: Collection[int]) -> dict[int, str]:
    """Per wallet, the first derived receive address after its last used one; wallets with none are left out.

    One query over the primary key (wallet, branch, index), however many addresses a wallet has used.
    """
    if not wallet_ids:
        return {}
    row, used, later = (aliased(WalletAddress) for _ in range(3))
    last_used = (
        select(func.coalesce(func.max(used.index), -1))
        .where(used.wallet_id == row.wallet_id, used.branch == RECEIVE, used.used)
        .scalar_subquery()
    )
    first_after = (
        select(func.min(later.index))
        .where(later.wallet_id == row.wallet_id, later.branch == RECEIVE, later.index > last_used)
        .scalar_subquery()
    )
    stmt = select(row.wallet_id, row.address).where(
        row.wallet_id.in_(list(wallet_ids)), row.branch == RECEIVE, row.index == first_after
    )
    return {wallet_id: address for wallet_id, address in (await session.execute(stmt)).all()}
