"""A small real price server: Coinbase Exchange candles and Kraken OHLC/Trades, over a socket.

Shapes from the services' published references (see valuation/coinbase.py and
valuation/kraken.py for the citations):

- Coinbase ``GET /products/{BASE}-{QUOTE}/candles?granularity=&start=&end=``: rows
  ``[time, low, high, open, close, volume]`` as JSON numbers, newest first; granularity one of
  60, 300, 900, 3600, 21600, 86400 (else 400); a range of more than 300 candles is refused with
  400 ``{"message": "granularity too small for the requested time range. Count of aggregations
  requested exceeds 300"}``; candles of intervals without trades are omitted; an unknown product
  is 404 ``{"message": "NotFound"}``; a start inside a candle returns that candle (which precedes
  the start).
- Kraken ``GET /0/public/OHLC?pair=&interval=&since=``: ``{"error": [], "result": {KEY: rows,
  "last": t}}`` with string prices, only the 720 most recent candles whatever ``since`` says (the
  last one still forming); ``GET /0/public/Trades?pair=&since=<ns>&count=`` gives the trades after
  ``since``; errors as strings in ``error`` (``EQuery:Unknown asset pair``) with HTTP 200. Result
  keys are Kraken's own names (``XXBTZUSD`` for ``XBTUSD``).

- CoinGecko ``GET /api/v3/coins/{id}/market_chart/range?vs_currency=&from=&to=`` (key in the
  ``x-cg-demo-api-key`` header, else 401): ``{"prices": [[ms, price], ...], "market_caps": [...],
  "total_volumes": [...]}``, hourly points (a few minutes past the hour) for ranges up to 90
  days, daily ones above; the demo plan refuses ``from`` older than 365 days (401, error 10012).

Prices are a deterministic function of (market, granularity, candle time), so tests can compute
the expected price. Tests set the clock (``now``), make hours empty (``gaps``), fail routes
(429 with Retry-After, 5xx outages), and read request counts per route.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from aiohttp import web

from tests.fakes.serve import serve

COINBASE_GRANULARITIES = (60, 300, 900, 3600, 21600, 86400)
KRAKEN_INTERVALS = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)
TOO_MANY = "granularity too small for the requested time range. Count of aggregations requested exceeds 300"

# market -> (base price, tick): open and close move up to 10,000 ticks around the base price.
MARKETS: dict[str, tuple[Decimal, Decimal]] = {
    "BTC-USD": (Decimal("30000"), Decimal("0.01")),
    "ETH-USD": (Decimal("2000"), Decimal("0.01")),
    "USDT-USD": (Decimal("1"), Decimal("0.000001")),
    "USDC-USD": (Decimal("1"), Decimal("0.000001")),
    "DAI-USD": (Decimal("1"), Decimal("0.000001")),
    "BTC-EUR": (Decimal("27000"), Decimal("0.01")),
    "ETH-EUR": (Decimal("1800"), Decimal("0.01")),
    "USDT-EUR": (Decimal("0.9"), Decimal("0.000001")),
    "USDC-EUR": (Decimal("0.9"), Decimal("0.000001")),
    "DAI-EUR": (Decimal("0.9"), Decimal("0.000001")),
}
# CoinGecko coin id -> the base of our markets.
COINGECKO_IDS = {"bitcoin": "BTC", "ethereum": "ETH", "tether": "USDT", "usd-coin": "USDC", "dai": "DAI"}
# Kraken pair as asked -> (market, the key Kraken answers under).
KRAKEN_PAIRS: dict[str, tuple[str, str]] = {
    "XBTUSD": ("BTC-USD", "XXBTZUSD"), "ETHUSD": ("ETH-USD", "XETHZUSD"), "USDTUSD": ("USDT-USD", "USDTZUSD"),
    "USDCUSD": ("USDC-USD", "USDCUSD"), "DAIUSD": ("DAI-USD", "DAIUSD"),
    "XBTEUR": ("BTC-EUR", "XXBTZEUR"), "ETHEUR": ("ETH-EUR", "XETHZEUR"), "USDTEUR": ("USDT-EUR", "USDTEUR"),
    "USDCEUR": ("USDC-EUR", "USDCEUR"), "DAIEUR": ("DAI-EUR", "DAIEUR"),
}


@dataclass
class _Fault:
    prefix: str
    status: int
    times: int | None  # None: until healed
    retry_after: str | None = None


def _seed(*parts: object) -> int:
    return int(hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:16], 16)


class PriceFake:
    """Coinbase Exchange and Kraken public market data, scripted by tests."""

    def __init__(self, now: datetime, *, coinbase: set[str] | None = None, kraken: set[str] | None = None) -> None:
        self.now = int(now.timestamp())
        self.coinbase_products = set(MARKETS) if coinbase is None else set(coinbase)
        self.kraken_pairs = set(KRAKEN_PAIRS) if kraken is None else set(kraken)
        # market -> set of (granularity, candle start) with no trades (omitted candles)
        self.gaps: dict[str, set[tuple[int, int]]] = {}
        self.coingecko_key = "test-demo-key"
        self.requests: Counter[str] = Counter()
        self.calls: list[tuple[str, dict[str, str]]] = []
        self._faults: list[_Fault] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- the price model ---------------------------------------------------------------------

    def candle(self, market: str, granularity: int, t: int) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal]:
        """(low, high, open, close, volume) of the candle starting at ``t``."""
        base, tick = MARKETS[market]
        s = _seed(market, granularity, t)
        open_ = base + (s % 20001 - 10000) * tick
        close = base + ((s >> 20) % 20001 - 10000) * tick
        return min(open_, close) - tick, max(open_, close) + tick, open_, close, Decimal((s >> 40) % 1000) / 10

    def close(self, market: str, granularity: int, t: int) -> Decimal:
        return self.candle(market, granularity, t)[3]

    def open(self, market: str, granularity: int, t: int) -> Decimal:
        return self.candle(market, granularity, t)[2]

    def traded(self, market: str, granularity: int, t: int) -> bool:
        """Whether the candle at ``t`` exists: started by now and not made empty by a test."""
        return t <= self.now and (granularity, t) not in self.gaps.get(market, set())

    def empty(self, market: str, granularity: int, *starts: int) -> None:
        """Make these candles have no trades (the exchanges then omit them)."""
        self.gaps.setdefault(market, set()).update((granularity, t) for t in starts)

    # -- faults ------------------------------------------------------------------------------

    def fail(self, prefix: str, status: int = 503, *, times: int | None = None, retry_after: str | None = None) -> None:
        """Answer requests whose path starts with ``prefix`` with ``status`` (``times`` times, or until
        healed); status 200 is Kraken's ``EGeneral:Too many requests`` inside a 200 answer."""
        self._faults.append(_Fault(prefix, status, times, retry_after))

    def heal(self) -> None:
        self._faults.clear()

    def total_requests(self) -> int:
        return sum(self.requests.values())

    # -- server ------------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/products/{product}/candles", self._candles)
        app.router.add_get("/0/public/OHLC", self._ohlc)
        app.router.add_get("/0/public/Trades", self._trades)
        app.router.add_get("/api/v3/coins/{id}/market_chart/range", self._market_chart)
        self._runner, port = await serve(app, access_log=None)
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        route = request.path.rsplit("/", 1)[-1]
        self.requests[route] += 1
        self.calls.append((request.path, dict(request.query)))
        fault = next((f for f in self._faults if request.path.startswith(f.prefix)), None)
        if fault is not None:
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            if fault.status == 200:  # Kraken reports being busy inside a 200 answer
                return web.json_response({"error": ["EGeneral:Too many requests"]})
            if fault.status == 429:
                return web.json_response({"message": "Public rate limit exceeded"}, status=429, headers=headers)
            return web.Response(status=fault.status, text="<html><body>upstream unavailable</body></html>",
                                content_type="text/html", headers=headers)
        return await handler(request)

    # -- Coinbase ----------------------------------------------------------------------------

    async def _candles(self, request: web.Request) -> web.Response:
        product = request.match_info["product"]
        if product not in self.coinbase_products:
            return web.json_response({"message": "NotFound"}, status=404)
        try:
            granularity = int(request.query.get("granularity", "60"))
        except ValueError:
            return web.json_response({"message": "Unsupported granularity"}, status=400)
        if granularity not in COINBASE_GRANULARITIES:
            return web.json_response({"message": "Unsupported granularity"}, status=400)
        if "start" in request.query and "end" in request.query:
            try:
                start, end = _time(request.query["start"]), _time(request.query["end"])
            except ValueError:
                return web.json_response({"message": "Invalid start or end"}, status=400)
        else:
            end = self.now
            start = end - 300 * granularity
        if end < start:
            return web.json_response({"message": "start must be before end"}, status=400)
        if (end - start) / granularity > 300:
            return web.json_response({"message": TOO_MANY}, status=400)
        rows = []
        t = start - start % granularity
        while t <= end:
            if self.traded(product, granularity, t):
                low, high, open_, close, volume = self.candle(product, granularity, t)
                rows.append(f"[{t},{low},{high},{open_},{close},{volume}]")
            t += granularity
        return web.Response(text="[" + ",".join(reversed(rows)) + "]", content_type="application/json")

    # -- Kraken ------------------------------------------------------------------------------

    def _pair(self, request: web.Request) -> tuple[str, str] | None:
        pair = request.query.get("pair", "")
        if pair not in self.kraken_pairs or pair not in KRAKEN_PAIRS:
            return None
        return KRAKEN_PAIRS[pair]

    async def _ohlc(self, request: web.Request) -> web.Response:
        found = self._pair(request)
        if found is None:
            return web.json_response({"error": ["EQuery:Unknown asset pair"]})
        market, key = found
        interval = int(request.query.get("interval", "1"))
        if interval not in KRAKEN_INTERVALS:
            return web.json_response({"error": ["EGeneral:Invalid arguments"]})
        g = interval * 60
        since = int(request.query.get("since", "0") or 0)
        forming = self.now - self.now % g
        rows = []
        # Only the 720 most recent candles exist, whatever since says.
        for t in range(forming - 719 * g, forming + g, g):
            if t > since and self.traded(market, g, t):
                low, high, open_, close, volume = self.candle(market, g, t)
                rows.append([t, str(open_), str(high), str(low), str(close), str((open_ + close) / 2), str(volume), 7])
        return web.json_response({"error": [], "result": {key: rows, "last": forming - g}})

    async def _trades(self, request: web.Request) -> web.Response:
        found = self._pair(request)
        if found is None:
            return web.json_response({"error": ["EQuery:Unknown asset pair"]})
        market, key = found
        since_raw = int(request.query.get("since", "0") or 0)
        since = since_raw / 10**9 if since_raw > 10**14 else since_raw
        count = min(int(request.query.get("count", "1000")), 1000)
        rows: list[list[Any]] = []
        # One trade a minute after each hour with trades, at that hour's opening price.
        hour = int(since) - int(since) % 3600
        while len(rows) < count and hour <= self.now:
            at = hour + 60
            if at > since and at <= self.now and self.traded(market, 3600, hour):
                rows.append([str(self.open(market, 3600, hour)), "0.01000000", float(at), "b", "l", "", _seed(market, at) % 10**9])
            hour += 3600
        last = str(int(rows[-1][2]) * 10**9) if rows else str(since_raw)
        return web.json_response({"error": [], "result": {key: rows, "last": last}})

    # -- CoinGecko ---------------------------------------------------------------------------

    async def _market_chart(self, request: web.Request) -> web.Response:
        if request.headers.get("x-cg-demo-api-key") != self.coingecko_key:
            return web.json_response({"status": {"error_code": 10002, "error_message": "API Key Missing"}}, status=401)
        coin = request.match_info["id"]
        vs = request.query.get("vs_currency", "").upper()
        market = f"{COINGECKO_IDS.get(coin, '?')}-{vs}"
        if market not in MARKETS:
            return web.json_response({"error": "coin not found"}, status=404)
        start, end = _time(request.query["from"]), _time(request.query["to"])
        if start < self.now - 365 * 86400:
            return web.json_response({"error": {"status": {"error_code": 10012, "error_message":
                "Your request exceeds the allowed time range. Public API users are limited to querying historical "
                "data within the past 365 days."}}}, status=401)
        step = 3600 if end - start <= 90 * 86400 else 86400
        points = []
        t = start - start % step
        while t <= min(end, self.now):
            at = t + (197 if step == 3600 else 0)
            if start <= at <= end and at <= self.now and self.traded(market, 3600, t - t % 3600):
                points.append(f"[{at * 1000},{self.close(market, 3600, t - t % 3600)}]")
            t += step
        body = '{"prices":[' + ",".join(points) + '],"market_caps":[],"total_volumes":[]}'
        return web.Response(text=body, content_type="application/json")


def _time(value: str) -> int:
    """An ISO 8601 UTC time or unix seconds, as unix seconds."""
    if value.isdigit():
        return int(value)
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


def valuation_toml(url: str) -> str:
    """A ``[valuation]`` settings section pointing both price sources at this fake."""
    return f"""
[valuation]
coinbase_url = "{url}"
kraken_url = "{url}/0"
coinbase_requests_per_second = 100
kraken_requests_per_second = 100
"""
