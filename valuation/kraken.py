"""Kraken public market data: ``/0/public/OHLC`` for recent candles, ``/0/public/Trades`` for older moments.

From Kraken's published reference (docs.kraken.com, "Get OHLC Data", "Get Recent Trades"):
OHLC answers ``{"error": [], "result": {PAIR: [[time, open, high, low, close, vwap, volume,
count], ...], "last": t}}`` and returns only the 720 most recent entries whatever ``since`` says
(the last one is the forming, not yet committed interval); intervals are 1, 5, 15, 30, 60, 240,
1440, 10080, 21600 minutes. Trades answers ``{PAIR: [[price, volume, time, side, type, misc,
trade_id], ...], "last": "<ns>"}``; ``since`` takes a nanosecond timestamp and ``count`` caps the
rows, so ``count=1`` gives the first trade after a moment. Errors come as strings in ``error``
(``EQuery:Unknown asset pair``, ``EGeneral:Too many requests``, ``EService:Unavailable``). The
public limit is about one request a second. Prices are strings; the result's key is Kraken's own
pair name (``XXBTZUSD`` for ``XBTUSD``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Any

from valuation.candles import Quote, bucket_of, fill
from valuation.errors import NoMarket, PriceUnavailable
from valuation.http import HttpSource

DEFAULT_URL = "https://api.kraken.com/0"
# Candle width in seconds -> Kraken's interval in minutes.
INTERVALS = {60: 1, 300: 5, 900: 15, 1800: 30, 3600: 60, 14400: 240, 86400: 1440}
OHLC_KEEP = 720
# Older moments cost one Trades request each (at ~1/s): at most this many per call, the rest
# stay unvalued for the next run (when the first source may be back).
TRADES_PER_CALL = 60


class KrakenSource(HttpSource):
    """Kraken: one OHLC request for the last 720 candles, one Trades request per older bucket."""

    name = "kraken"

    def __init__(self, url: str = DEFAULT_URL, *, requests_per_second: float = 1.0, trades_per_call: int = TRADES_PER_CALL,
                 **kwargs: Any) -> None:
        super().__init__(url, requests_per_second=requests_per_second, **kwargs)
        self.trades_per_call = trades_per_call

    async def pages(self, base: str, currency: str, buckets: Sequence[int], granularity: int, now: int) -> AsyncIterator[dict[int, Quote]]:
        pair = f"{base}{currency}".upper()
        now_bucket = bucket_of(now, granularity)
        oldest_kept = now_bucket - (OHLC_KEEP - 1) * granularity
        wanted = sorted(buckets)
        recent = [b for b in wanted if b >= oldest_kept] if granularity in INTERVALS else []
        if recent:
            body = await self._call("/public/OHLC", {"pair": pair, "interval": str(INTERVALS[granularity]),
                                                      "since": str(recent[0] - 1)}, pair)
            candles: dict[int, tuple[Decimal, Decimal]] = {}
            for row in self._series(body, pair, "OHLC"):
                try:
                    candles[int(row[0])] = (Decimal(row[1]), Decimal(row[4]))
                except (TypeError, ValueError, ArithmeticError, IndexError):
                    raise PriceUnavailable(self.name, 200, f"OHLC {pair}: row {row!r} is not [time, open, high, low, close, ...]",
                                           retryable=False) from None
            if candles:
                yield fill(candles, min(min(candles), recent[0]), now_bucket + granularity, granularity)
        older = [b for b in wanted if not (recent and b >= oldest_kept)]
        for b in older[: self.trades_per_call]:
            body = await self._call("/public/Trades", {"pair": pair, "since": str(b * 10**9), "count": "1"}, pair)
            rows = self._series(body, pair, "Trades")
            if rows:
                try:
                    yield {b: Quote(Decimal(rows[0][0]), int(Decimal(rows[0][2])))}
                except (TypeError, ValueError, ArithmeticError, IndexError):
                    raise PriceUnavailable(self.name, 200, f"Trades {pair}: row {rows[0]!r} is not [price, volume, time, ...]",
                                           retryable=False) from None

    async def _call(self, path: str, params: dict[str, str], pair: str) -> Any:
        return await self.get_json(path, params, check=lambda body: self._checked(path, pair, body))

    def _checked(self, path: str, pair: str, body: Any) -> Any:
        if not isinstance(body, dict) or not isinstance(body.get("error"), list):
            raise PriceUnavailable(self.name, 200, f"{path}: no 'error' list in the answer", retryable=False)
        errors = [str(e) for e in body["error"]]
        if errors:
            text = "; ".join(errors)
            if any(e.startswith("EQuery:Unknown asset pair") for e in errors):
                raise NoMarket(self.name, pair)
            busy = any(e.startswith(("EGeneral:Too many requests", "EAPI:Rate limit", "EService:")) for e in errors)
            raise PriceUnavailable(self.name, 200, f"{path}: {text}", retryable=busy)
        return body

    def _series(self, body: dict[str, Any], pair: str, what: str) -> list[Any]:
        result = body.get("result")
        series = [v for k, v in result.items() if k != "last"] if isinstance(result, dict) else []
        if len(series) != 1 or not isinstance(series[0], list):
            raise PriceUnavailable(self.name, 200, f"{what} {pair}: expected one pair's rows in 'result'", retryable=False)
        return series[0]
