"""CoinGecko (only with an API key): ``GET /coins/{id}/market_chart/range?vs_currency=&from=&to=``.

From CoinGecko's published reference (docs.coingecko.com, "Coin Historical Chart Data within
Time Range by ID"): the answer is ``{"prices": [[ms, price], ...], "market_caps": [...],
"total_volumes": [...]}``; ``from``/``to`` take unix seconds; granularity is automatic: hourly
points for ranges of 2 to 90 days, daily above; the demo plan sends its key in the
``x-cg-demo-api-key`` header and reaches back 365 days, paid plans use ``pro-api.coingecko.com``
and ``x-cg-pro-api-key``. Points are not on the hour: each bucket takes its last point (its
"close"), as the exchanges' candles do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Any

from valuation.candles import Quote, bucket_of, cover, fill
from valuation.errors import NoMarket, PriceUnavailable
from valuation.http import HttpSource

DEMO_URL = "https://api.coingecko.com/api/v3"
PRO_URL = "https://pro-api.coingecko.com/api/v3"
# Ranges up to 90 days come back hourly; stay just under.
PAGE_SECONDS = 89 * 86400


class CoinGeckoSource(HttpSource):
    """Hourly points from CoinGecko's market chart, 89 days a request; needs an API key."""

    name = "coingecko"

    def __init__(self, key: str, url: str = DEMO_URL, *, pro: bool = False, requests_per_second: float = 0.5,
                 **kwargs: Any) -> None:
        super().__init__(url, requests_per_second=requests_per_second, **kwargs)
        self._headers = {"x-cg-pro-api-key" if pro else "x-cg-demo-api-key": key}

    async def pages(self, base: str, currency: str, buckets: Sequence[int], granularity: int, now: int) -> AsyncIterator[dict[int, Quote]]:
        if granularity < 3600:
            return  # hourly points cannot price finer buckets
        horizon = bucket_of(now, granularity) + granularity
        width = max(1, PAGE_SECONDS // granularity)
        for start in cover(buckets, granularity, width):
            if start >= horizon:
                break
            stop = min(start + width * granularity, horizon)
            params = {"vs_currency": currency.lower(), "from": str(start), "to": str(stop)}
            try:
                body = await self.get_json(f"/coins/{base}/market_chart/range", params, headers=self._headers)
            except PriceUnavailable as exc:
                if exc.status == 404:
                    raise NoMarket(self.name, f"{base}/{currency.lower()}") from None
                raise
            yield fill(self._buckets(base, body, granularity), start, stop, granularity)

    def _buckets(self, base: str, body: Any, granularity: int) -> dict[int, tuple[Decimal, Decimal]]:
        points = body.get("prices") if isinstance(body, dict) else None
        if not isinstance(points, list):
            raise PriceUnavailable(self.name, 200, f"{base} market chart: no 'prices' list", retryable=False)
        out: dict[int, tuple[Decimal, Decimal]] = {}
        for point in sorted(points, key=lambda p: p[0] if isinstance(p, list) and p else 0):
            try:
                ms, price = point
                b = bucket_of(int(ms) // 1000, granularity)
                price = Decimal(price)
            except (TypeError, ValueError, ArithmeticError):
                raise PriceUnavailable(self.name, 200, f"{base} market chart: point {point!r} is not [ms, price]", retryable=False) from None
            first = out.get(b, (price, price))[0]
            out[b] = (first, price)
        return out
