"""Adding, listing and retiring watched wallets."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.errors import UnknownWallet
from ledger.models import Wallet


async def upsert_wallet(
    session: AsyncSession, chain: str, address: str, *, label: str = "", start_height: int | None = None
) -> tuple[Wallet, bool]:
    """Make sure a wallet is watched; returns it and whether it was new. Re-activates a retired one."""
    wallet = await get_wallet(session, chain, address)
    if wallet is None:
        wallet = Wallet(chain=chain, address=address, label=label, start_height=start_height)
        session.add(wallet)
        await session.flush()
        return wallet, True
    wallet.active = True
    if label:
        wallet.label = label
    if start_height is not None:
        wallet.start_height = start_height
    await session.flush()
    return wallet, False


async def get_wallet(session: AsyncSession, chain: str, address: str) -> Wallet | None:
    """The wallet with this chain and canonical address, if any."""
    stmt = select(Wallet).where(Wallet.chain == chain, Wallet.address == address)
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_wallets(session: AsyncSession, *, chain: str | None = None, active_only: bool = True) -> Sequence[Wallet]:
    """Watched wallets, by chain then id."""
    stmt = select(Wallet).order_by(Wallet.chain, Wallet.id)
    if chain is not None:
        stmt = stmt.where(Wallet.chain == chain)
    if active_only:
        stmt = stmt.where(Wallet.active.is_(True))
    return (await session.execute(stmt)).scalars().all()


async def retire_wallet(session: AsyncSession, chain: str, address: str) -> Wallet:
    """Stop watching a wallet; its transfers stay in the ledger as history."""
    wallet = await get_wallet(session, chain, address)
    if wallet is None:
        raise UnknownWallet(chain, address)
    wallet.active = False
    await session.flush()
    return wallet
