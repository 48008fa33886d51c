"""Explorer links for addresses and transactions: the operator's templates, else a known explorer per network."""

from __future__ import annotations

from bot.settings import BitcoinChain, ExplorerLinks, Settings

_BITCOIN = {
    "mainnet": ExplorerLinks(address="https://mempool.space/address/{address}", tx="https://mempool.space/tx/{txid}"),
    "testnet": ExplorerLinks(
        address="https://mempool.space/testnet/address/{address}", tx="https://mempool.space/testnet/tx/{txid}"
    ),
}
_EVM = {
    1: ExplorerLinks(address="https://etherscan.io/address/{address}", tx="https://etherscan.io/tx/{txid}"),
    11155111: ExplorerLinks(
        address="https://sepolia.etherscan.io/address/{address}", tx="https://sepolia.etherscan.io/tx/{txid}"
    ),
    10: ExplorerLinks(
        address="https://optimistic.etherscan.io/address/{address}", tx="https://optimistic.etherscan.io/tx/{txid}"
    ),
    137: ExplorerLinks(address="https://polygonscan.com/address/{address}", tx="https://polygonscan.com/tx/{txid}"),
    8453: ExplorerLinks(address="https://basescan.org/address/{address}", tx="https://basescan.org/tx/{txid}"),
    42161: ExplorerLinks(address="https://arbiscan.io/address/{address}", tx="https://arbiscan.io/tx/{txid}"),
}


class Explorers:
    """Builds explorer URLs per configured chain; a chain with no known explorer gets no links."""

    def __init__(self, settings: Settings) -> None:
        self._links: dict[str, ExplorerLinks] = {}
        for name, chain in settings.chains.items():
            links = settings.page.explorers.get(name)
            if links is None:
                links = _BITCOIN.get(chain.network) if isinstance(chain, BitcoinChain) else _EVM.get(chain.chain_id)
            if links is not None:
                self._links[name] = links

    def address(self, chain: str, address: str) -> str | None:
        """The explorer page of an address, or None."""
        links = self._links.get(chain)
        return links.address.replace("{address}", address) if links else None

    def tx(self, chain: str, txid: str) -> str | None:
        """The explorer page of a transaction, or None."""
        links = self._links.get(chain)
        return links.tx.replace("{txid}", txid) if links else None
