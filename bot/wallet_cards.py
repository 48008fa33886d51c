"""What the bot says about each official wallet, rendered once: `/donations wallets` and the page format it.

A single-address wallet is paid at its address. An extended-key wallet (xpub or descriptor) is
paid at its next unused receive address, the first derived one after the last that received
anything: each donor is shown an address nobody has paid yet, and it moves on once one is paid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import address_url
from ledger.derived_addresses import next_unused_receive_addresses
from ledger.models import Wallet
from watchers.addresses import looks_like_key_wallet

if TYPE_CHECKING:
    from bot.settings import Settings

FRESH_ADDRESS = "A new address for every donation: this one has received nothing yet, and the next donor is shown another."
NOT_DERIVED_YET = "Its first address appears here after the watcher's first sync of the wallet."


@dataclass(frozen=True, slots=True)
class WalletCard:
    """One official wallet as people are shown it, free of any channel's markup."""

    wallet_id: int
    chain: str
    title: str
    pay_to: str | None  # where to send: the address, or a key wallet's next unused one (None until derived)
    explorer_url: str | None  # of ``pay_to``
    key: str | None = None  # the extended key (descriptor) ``pay_to`` is derived from
    lines: tuple[str, ...] = ()  # plain sentences shown under the address

    @property
    def qr_text(self) -> str | None:
        """What the QR code holds: the bare address, which every wallet app scans."""
        return self.pay_to


def wallet_card(settings: Settings, wallet_id: int, chain: str, address: str, label: str, next_address: str | None) -> WalletCard:
    """The card of one wallet; ``next_address`` is a key wallet's next unused receive address."""
    title = label or chain
    if not looks_like_key_wallet(address):
        return WalletCard(wallet_id, chain, title, address, address_url(settings, chain, address))
    url = address_url(settings, chain, next_address) if next_address else None
    return WalletCard(wallet_id, chain, title, next_address, url, key=address,
                      lines=(FRESH_ADDRESS if next_address else NOT_DERIVED_YET,))


async def wallet_cards(session: AsyncSession, settings: Settings, wallets: Sequence[Wallet]) -> list[WalletCard]:
    """The cards of these wallets, reading the key wallets' next unused addresses in one query."""
    keyed = [w.id for w in wallets if w.id is not None and looks_like_key_wallet(w.address)]
    nexts = await next_unused_receive_addresses(session, keyed)
    return [wallet_card(settings, w.id, w.chain, w.address, w.label, nexts.get(w.id)) for w in wallets if w.id is not None]
