"""Adding, listing and retiring watched wallets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.errors import UnknownWallet
from ledger.models import Wallet


@dataclass(frozen=True)
class WalletChange:
    """What making sure a wallet is watched did: created it, or what changed on the existing one."""

    wallet: Wallet
    created: bool = False
    reactivated: bool = False  # it was retired and is watched again
    old_label: str | None = None  # set when the label changed
    old_start_height: int | None = None  # set when the start height changed
    start_height_changed: bool = False

    @property
    def changed(self) -> bool:
        return self.created or self.reactivated or self.old_label is not None or self.start_height_changed


async def add_wallet(
    session: AsyncSession, chain: str, address: str, *, label: str = "", start_height: int | None = None
) -> WalletChange:
    """Make sure a wallet is watched and say exactly what that did (created, reactivated, relabelled ...)."""
    wallet = await get_wallet(session, chain, address)
    if wallet is None:
        wallet = Wallet(chain=chain, address=address, label=label, start_height=start_height)
        session.add(wallet)
        await session.flush()
        return WalletChange(wallet, created=True)
    reactivated = not wallet.active
    old_label = wallet.label if label and label != wallet.label else None
    moved = start_height is not None and start_height != wallet.start_height
    old_start = wallet.start_height
    wallet.active = True
    if label:
        wallet.label = label
    if start_height is not None:
        wallet.start_height = start_height
    await session.flush()
    return WalletChange(wallet, reactivated=reactivated, old_label=old_label,
                        old_start_height=old_start if moved else None, start_height_changed=moved)


async def upsert_wallet(
    session: AsyncSession, chain: str, address: str, *, label: str = "", start_height: int | None = None
) -> tuple[Wallet, bool]:
    """Make sure a wallet is watched; returns it and whether it was new. Re-activates a retired one."""
    change = await add_wallet(session, chain, address, label=label, start_height=start_height)
    return change.wallet, change.created


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
