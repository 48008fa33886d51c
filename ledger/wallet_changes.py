"""Changing the watched addresses from chat: guarded, audited, and announced through the event stream.

The address list is what donors copy, so every change writes an audit row (who, when, from which
guild, what) and a ``wallet.added`` / ``wallet.removed`` event in the same transaction; wallets
defined in the config file are never removed or relabelled here.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.chat_tables import WalletAudit
from ledger.errors import UnknownWallet, WalletAlreadyWatched, WalletProtected
from ledger.models import Wallet
from ledger.wallets import get_wallet, upsert_wallet
from ledger.writes import record_event

WALLET_ADDED = "wallet.added"
WALLET_REMOVED = "wallet.removed"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asked for a change: a display name, and the chat ids it came from."""

    name: str
    user_id: int | None = None
    guild_id: int | None = None


async def add_wallet(session: AsyncSession, chain: str, address: str, label: str, actor: Actor) -> Wallet:
    """Watch a (validated, canonical) address from chat; a retired one is watched again."""
    wallet = await get_wallet(session, chain, address)
    if wallet is not None and wallet.active:
        raise WalletAlreadyWatched(chain, address, wallet.label)
    wallet, _ = await upsert_wallet(session, chain, address, label=label)
    wallet.label = label
    await _audit(session, "added", wallet, actor)
    await record_event(session, WALLET_ADDED, chain=chain, address=address, label=label, actor=actor.name)  # type: ignore[arg-type]
    return wallet


async def remove_wallet(session: AsyncSession, chain: str, address: str, actor: Actor, *, protected: Collection[tuple[str, str]]) -> Wallet:
    """Stop watching an address added from chat; its donations stay in the ledger."""
    if (chain, address) in protected:
        raise WalletProtected(chain, address)
    wallet = await get_wallet(session, chain, address)
    if wallet is None or not wallet.active:
        raise UnknownWallet(chain, address)
    wallet.active = False
    await session.flush()
    await _audit(session, "removed", wallet, actor)
    await record_event(session, WALLET_REMOVED, chain=chain, address=address, label=wallet.label, actor=actor.name)  # type: ignore[arg-type]
    return wallet


async def _audit(session: AsyncSession, action: str, wallet: Wallet, actor: Actor) -> None:
    session.add(WalletAudit(action=action, chain=wallet.chain, address=wallet.address, label=wallet.label,
                            actor=actor.name[:200], actor_id=actor.user_id, guild_id=actor.guild_id))
    await session.flush()


async def audit_log(session: AsyncSession, *, limit: int = 50) -> Sequence[WalletAudit]:
    """The latest wallet changes, newest first."""
    return (await session.execute(select(WalletAudit).order_by(WalletAudit.id.desc()).limit(limit))).scalars().all()


async def find_wallets(session: AsyncSession, text: str, *, limit: int = 25) -> Sequence[Wallet]:
    """Active wallets whose id, label or address matches ``text`` (case-insensitive prefix of label/address)."""
    stmt = select(Wallet).where(Wallet.active.is_(True))
    text = text.strip()
    if text.isdigit():
        stmt = stmt.where(or_(Wallet.id == int(text), func.lower(Wallet.label).like(text.lower() + "%")))
    elif text:
        pattern = "%" + text.lower().replace("%", "").replace("_", "") + "%"
        stmt = stmt.where(or_(func.lower(Wallet.label).like(pattern), func.lower(Wallet.address).like(pattern)))
    return (await session.execute(stmt.order_by(Wallet.chain, Wallet.id).limit(limit))).scalars().all()


async def wallet_by_address(session: AsyncSession, address: str) -> Wallet | None:
    """The active wallet with this address on any chain (compared case-insensitively)."""
    stmt = select(Wallet).where(Wallet.active.is_(True), func.lower(Wallet.address) == address.strip().lower())
    return (await session.execute(stmt.limit(1))).scalars().first()
