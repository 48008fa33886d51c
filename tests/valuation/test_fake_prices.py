"""The fake price server behaves like the real services where our code depends on it."""

from __future__ import annotations

import aiohttp

from tests.fakes.prices import TOO_MANY, PriceFake
from tests.valuation.conftest import NOW
from valuation.candles import iso, unix

H = 3600


class TestFakeCoinbase:
    async def test_more_than_300_candles_is_refused(self, prices: PriceFake) -> None:
        """A range of 301 hourly candles is a 400 with Coinbase's message."""
        end = unix(NOW) - 100 * H
        async with aiohttp.ClientSession() as s:
            async with s.get(f"{prices.url}/products/BTC-USD/candles",
                             params={"granularity": "3600", "start": iso(end - 301 * H), "end": iso(end)}) as r:
                assert r.status == 400 and (await r.json())["message"] == TOO_MANY

    async def test_empty_hours_are_omitted_and_rows_come_newest_first(self, prices: PriceFake) -> None:
        """Candles without trades are left out; rows are [time, low, high, open, close, volume], newest first."""
        start = unix(NOW) - unix(NOW) % H - 10 * H
        prices.empty("BTC-USD", H, start + 3 * H)
        async with aiohttp.ClientSession() as s:
            async with s.get(f"{prices.url}/products/BTC-USD/candles",
                             params={"granularity": "3600", "start": iso(start), "end": iso(start + 5 * H)}) as r:
                rows = await r.json()
        assert [row[0] for row in rows] == [start + 5 * H, start + 4 * H, start + 2 * H, start + H, start]
        assert all(len(row) == 6 for row in rows)


class TestFakeKraken:
    async def test_ohlc_returns_only_the_720_most_recent_whatever_since_says(self, prices: PriceFake) -> None:
        """Asking OHLC since a year ago still yields the last 720 candles, the newest still forming."""
        async with aiohttp.ClientSession() as s:
            async with s.get(f"{prices.url}/0/public/OHLC",
                             params={"pair": "XBTUSD", "interval": "60", "since": str(unix(NOW) - 365 * 86400)}) as r:
                body = await r.json()
        rows = body["result"]["XXBTZUSD"]
        assert body["error"] == [] and len(rows) == 720
        assert rows[-1][0] == unix(NOW) - unix(NOW) % H and isinstance(rows[0][4], str)

    async def test_unknown_pair_is_an_error_string_in_a_200(self, prices: PriceFake) -> None:
        """An unknown pair answers 200 with EQuery:Unknown asset pair."""
        async with aiohttp.ClientSession() as s:
            async with s.get(f"{prices.url}/0/public/Trades", params={"pair": "FOOUSD", "since": "0", "count": "1"}) as r:
                assert r.status == 200 and (await r.json())["error"] == ["EQuery:Unknown asset pair"]
