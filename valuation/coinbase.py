"""Coinbase Exchange candles: ``GET /products/{BASE}-{QUOTE}/candles?granularity=&start=&end=``.

From Coinbase's published reference (docs.cdp.coinbase.com, Exchange API, "Get product
candles"): rows ``[time, low, high, open, close, volume]``, newest first; granularity one of
60, 300, 900, 3600, 21600, 86400 seconds; at most 300 candles a request, and a range asking for
more is refused (400 "granularity too small for the requested time range. Count of
aggregations requested exceeds 300"); no candle for intervals without trades; about 10 public
requests a second. An unknown product is 404 ``{"message": "NotFound"}``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Any

from valuation.candles import Quote, bucket_of, cover, fill, iso
from valuation.errors import NoMarket, PriceUnavailable
from valuation.http import HttpSource

DEFAULT_URL = "https://api.exchange.coinbase.com"
GRANULARITIES = (60, 300, 900, 3600, 21600, 86400)
MAX_CANDLES = 300


class CoinbaseSource(HttpSource):
    """Hourly (or other) candles from Coinbase Exchange, 300 a request, keyless."""

    name = "coinbase"

    def __init__(self, url: str = DEFAULT_URL, *, requests_per_second: float = 10.0, **kwargs: Any) -> None:
        super().__init__(url, requests_per_second=requests_per_second, **kwargs)

    async def pages(self, base: str, currency: str, buckets: Sequence[int], granularity: int, now: int) -> AsyncIterator[dict[int, Quote]]:
        """One request per page of 300 candles, pages placed to cover ``buckets`` with the fewest."""
        if granularity not in GRANULARITIES:
            raise ValueError(f"Coinbase has no {granularity}-second candles (one of {GRANULARITIES})")
        product = f"{base}-{currency}".upper()
        horizon = bucket_of(now, granularity) + granularity
        for start in cover(buckets, granularity, MAX_CANDLES):
            if start >= horizon:
                break
            stop = min(start + MAX_CANDLES * granularity, horizon)
            params = {"granularity": str(granularity), "start": iso(start), "end": iso(stop - granularity)}
            try:
                rows = await self.get_json(f"/products/{product}/candles", params)
            except PriceUnavailable as exc:
                if exc.status == 404:
                    raise NoMarket(self.name, product) from None
                raise
            yield fill(self._candles(product, rows), start, stop, granularity)

    def _candles(self, product: str, rows: Any) -> dict[int, tuple[Decimal, Decimal]]:
        if not isinstance(rows, list):
            raise PriceUnavailable(self.name, 200, f"{product} candles: expected a JSON array", retryable=False)
        out: dict[int, tuple[Decimal, Decimal]] = {}
        for row in rows:
            try:
                time, _low, _high, open_, close = row[:5]
                out[int(time)] = (Decimal(open_), Decimal(close))
            except (TypeError, ValueError, ArithmeticError):
                raise PriceUnavailable(self.name, 200, f"{product} candles: row {row!r} is not [time, low, high, open, close, volume]",
                                       retryable=False) from None
        return out
