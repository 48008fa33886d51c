"""Which market prices an asset on each source, and the settings of a valuation run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# asset -> source -> the base symbol that source trades it under. Stablecoins are priced by their
# own market (USDT-USD, ...), never assumed to be worth exactly 1.00.
# For CoinGecko it is the coin's API id.
DEFAULT_MARKETS: dict[str, dict[str, str]] = {
    "BTC": {"coinbase": "BTC", "kraken": "XBT", "coingecko": "bitcoin"},
    "ETH": {"coinbase": "ETH", "kraken": "ETH", "coingecko": "ethereum"},
    "USDT": {"coinbase": "USDT", "kraken": "USDT", "coingecko": "tether"},
    "USDC": {"coinbase": "USDC", "kraken": "USDC", "coingecko": "usd-coin"},
    "DAI": {"coinbase": "DAI", "kraken": "DAI", "coingecko": "dai"},
}


@dataclass(frozen=True)
class ValuationConfig:
    """The fund's currency, the candle width used for prices, and the asset -> market mapping."""

    currency: str = "USD"
    granularity: int = 3600
    markets: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: DEFAULT_MARKETS)

    def base(self, asset: str, source: str) -> str | None:
        """The symbol ``source`` trades ``asset`` under, or None when it is not mapped there."""
        return (self.markets.get(asset) or {}).get(source)
