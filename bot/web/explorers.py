"""Explorer links for addresses and transactions, from the settings' `explorers` (with their defaults)."""

from __future__ import annotations

from bot.settings import Settings


class Explorers:
    """Builds explorer URLs per configured chain; a chain with no known explorer gets no links."""

    def __init__(self, settings: Settings) -> None:
        self._links = {name: settings.explorer_for(name) for name in settings.chains}

    def address(self, chain: str, address: str) -> str | None:
        """The explorer page of an address, or None."""
        links = self._links.get(chain)
        return links.address.replace("{address}", address) if links else None

    def tx(self, chain: str, txid: str) -> str | None:
        """The explorer page of a transaction, or None."""
        links = self._links.get(chain)
        return links.tx.replace("{txid}", txid) if links else None
