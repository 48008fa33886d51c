"""Extended-key wallets on the Bitcoin watcher: a window of derived addresses that grows as they get used.

For each branch (receive, change), addresses are derived up to ``gap`` past the last used one
(BIP-44's gap limit, 20 by default): a wallet software hands out addresses in order and stops
``gap`` unused ones ahead, so an address beyond the window cannot have been given out. Each poll
syncs every address of the window through Esplora like a single address, with the wallet's id,
and extends the window when an address near its end turns out used.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from ledger.derived_addresses import add_derived, derived_addresses
from ledger.models import Wallet
from watchers.descriptors import CHANGE, RECEIVE, KeyWallet, derive, looks_like_key_wallet, parse_key_wallet

DEFAULT_GAP = 20


@dataclass(frozen=True, slots=True)
class AddressTarget:
    """One derived address to sync, on behalf of its wallet (transfers go to ``id``, the wallet)."""

    id: int
    address: str
    start_height: int | None
    # Every derived address of the wallet: a payment from one of them is the wallet's own change.
    own: frozenset[str]
    chain_tx_count: int
    mempool_tx_count: int
    newest_txid: str | None


def key_wallet_of(wallet: Wallet, network: str) -> KeyWallet | None:
    """The extended key of a wallet whose address is a descriptor, or None for a single address."""
    if not looks_like_key_wallet(wallet.address):
        return None
    return parse_key_wallet(wallet.address, network)


async def ensure_window(session: AsyncSession, wallet: Wallet, key: KeyWallet, gap: int = DEFAULT_GAP) -> int:
    """Derive addresses until each branch reaches ``gap`` past its last used one; returns how many were added."""
    assert wallet.id is not None
    rows = await derived_addresses(session, wallet.id)
    added = 0
    for branch in (RECEIVE, CHANGE):
        mine = [r for r in rows if r.branch == branch]
        last_used = max((r.index for r in mine if r.used), default=-1)
        have = max((r.index for r in mine), default=-1) + 1
        want = last_used + 1 + gap
        if want > have:
            await add_derived(session, wallet.id, branch, {i: derive(key, branch, i) for i in range(have, want)})
            added += want - have
    return added


async def targets_of(session: AsyncSession, wallet: Wallet) -> list[AddressTarget]:
    """The wallet's derived addresses with their cursors, ready to sync."""
    assert wallet.id is not None
    rows = await derived_addresses(session, wallet.id)
    own = frozenset(r.address for r in rows)
    return [
        AddressTarget(wallet.id, r.address, wallet.start_height, own, r.chain_tx_count, r.mempool_tx_count, r.newest_txid)
        for r in rows
    ]
