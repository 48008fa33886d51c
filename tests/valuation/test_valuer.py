"""Valuing stored transfers: the candle holding the arrival time, the cache, outages, fallbacks."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select

from ledger.database import Database
from ledger.valuation_tables import PriceCandle, TransferValue
from tests.fakes.prices import PriceFake
from tests.valuation.conftest import NOW, Store, hours_ago
from valuation.candles import unix
from valuation.coinbase import CoinbaseSource
from valuation.markets import ValuationConfig
from valuation.valuer import value_pending
from watchers.retry import RetryPolicy

H = 3600


async def _value(db: Database, transfer_id: int) -> TransferValue | None:
    async with db.session() as s:
        return (await s.execute(select(TransferValue).where(TransferValue.transfer_id == transfer_id))).scalar_one_or_none()


def _hour(moment: datetime) -> int:
    return unix(moment) - unix(moment) % H


class TestPriceAtArrival:
    async def test_price_is_the_candle_holding_the_block_time(self, db: Database, store: Store, prices: PriceFake, sources: list) -> None:
        """A transfer at 10:37 takes the close of the 10:00 candle, stored with source, candle time and granularity."""
        at = datetime(2025, 5, 20, 10, 37, 12, tzinfo=timezone.utc)
        tid = await store("BTC", 8, 150_000_000, at)
        report = await value_pending(db, sources, now=NOW)
        assert (report.valued, report.unvalued) == (1, 0)
        v = await _value(db, tid)
        expected = prices.close("BTC-USD", H, _hour(at))
        assert v is not None and v.price == expected and v.value == expected * Decimal("1.5")
        assert (v.source, v.granularity, v.currency) == ("coinbase", H, "USD")
        assert v.candle_time == datetime(2025, 5, 20, 10, tzinfo=timezone.utc) and v.priced_at == at

    async def test_mempool_transfer_is_priced_at_first_seen(self, db: Database, store: Store, prices: PriceFake, sources: list) -> None:
        """A transfer with no block yet is priced at the moment it was first seen."""
        seen = hours_ago(5.5)
        tid = await store("ETH", 18, 10**18, seen, mempool=True)
        await value_pending(db, sources, now=NOW)
        v = await _value(db, tid)
        assert v is not None and v.priced_at == seen and v.price == prices.close("ETH-USD", H, _hour(seen))

    async def test_hour_without_trades_takes_the_last_traded_close(self, db: Database, store: Store, prices: PriceFake, sources: list) -> None:
        """An omitted (empty) candle is priced by the previous candle's close, and says which candle."""
        at = datetime(2025, 5, 20, 10, 37, tzinfo=timezone.utc)
        prices.empty("DAI-USD", H, _hour(at), _hour(at) - H)
        await store("DAI", 18, 10**18, at - timedelta(hours=5))
        tid = await store("DAI", 18, 10**18, at)
        await value_pending(db, sources, now=NOW)
        v = await _value(db, tid)
        before = _hour(at) - 2 * H
        assert v is not None and v.price == prices.close("DAI-USD", H, before)
        assert unix(v.candle_time) == before

    async def test_empty_hour_opening_a_page_takes_the_next_open(self, db: Database, store: Store, prices: PriceFake, sources: list) -> None:
        """With no earlier candle in the page, an empty hour takes the first price traded after it (the next open)."""
        at = datetime(2025, 5, 20, 10, 37, tzinfo=timezone.utc)
        prices.empty("DAI-USD", H, _hour(at), _hour(at) + H)
        tid = await store("DAI", 18, 10**18, at)
        await value_pending(db, sources, now=NOW)
        v = await _value(db, tid)
        after = _hour(at) + 2 * H
        assert v is not None and v.price == prices.open("DAI-USD", H, after) and unix(v.candle_time) == after

    async def test_block_time_ahead_of_our_clock_counts_as_now(self, db: Database, store: Store, prices: PriceFake, sources: list) -> None:
        """A block stamped after our clock (miners may run up to two hours ahead) is priced at now."""
        tid = await store("BTC", 8, 10**8, NOW + timedelta(minutes=90))
        await value_pending(db, sources, now=NOW)
        v = await _value(db, tid)
        assert v is not None and v.priced_at == NOW and v.price == prices.close("BTC-USD", H, _hour(NOW))

    async def test_orphaned_transfers_are_not_valued(self, db: Database, store: Store, sources: list) -> None:
        """An orphaned transfer is never counted, so it is not valued either."""
        from ledger.models import TransferStatus

        tid = await store("BTC", 8, 1, hours_ago(30), status=TransferStatus.ORPHANED)
        report = await value_pending(db, sources, now=NOW)
        assert report.valued == 0 and await _value(db, tid) is None


class TestCache:
    async def test_cache_hit_costs_no_request(self, db: Database, store: Store, prices: PriceFake, sources: list) -> None:
        """A second transfer in an hour already fetched is valued from the ledger's cache, with no request."""
        await store("BTC", 8, 1000, hours_ago(40))
        first = await value_pending(db, sources, now=NOW)
        assert first.requests == 1
        before = prices.total_requests()
        tid = await store("BTC", 8, 2000, hours_ago(40.2))
        again = await value_pending(db, sources, now=NOW)
        assert again.requests == 0 and prices.total_requests() == before
        assert (await _value(db, tid)) is not None

    async def test_a_page_covers_300_hours_of_transfers(self, db: Database, store: Store, prices: PriceFake, sources: list) -> None:
        """Transfers spread over 700 hours cost three 300-candle requests, not one per transfer."""
        for i in range(60):
            await store("ETH", 18, 10**17 + i, hours_ago(24 + i * 11.7))
        report = await value_pending(db, sources, now=NOW)
        assert report.valued == 60 and report.requests == 3 == prices.requests["candles"]
        for path, q in prices.calls:
            span = datetime.fromisoformat(q["end"].replace("Z", "+00:00")) - datetime.fromisoformat(q["start"].replace("Z", "+00:00"))
            assert span <= timedelta(hours=299)

    async def test_the_hour_still_forming_is_used_but_not_cached(self, db: Database, store: Store, prices: PriceFake, sources: list) -> None:
        """A transfer in the current hour is valued, but that unfinished candle is not cached."""
        tid = await store("BTC", 8, 1000, NOW - timedelta(minutes=10))
        await value_pending(db, sources, now=NOW)
        assert await _value(db, tid) is not None
        async with db.session() as s:
            cached = (await s.execute(select(PriceCandle.bucket_start))).scalars().all()
        assert prices.requests["candles"] == 1 and cached == []


class TestFailures:
    async def test_outage_leaves_the_transfer_unvalued_and_the_retry_fills_it(
        self, db: Database, store: Store, prices: PriceFake, sources: list
    ) -> None:
        """With every source down the transfer stays unvalued (not zero); once they are back the retry values it."""
        prices.fail("/products", 503)
        prices.fail("/0/public", 503)
        tid = await store("BTC", 8, 1000, hours_ago(50))
        report = await value_pending(db, sources, now=NOW)
        assert (report.valued, report.unvalued) == (0, 1) and await _value(db, tid) is None
        assert any("HTTP 503" in e for e in report.errors)
        prices.heal()
        retry = await value_pending(db, sources, now=NOW)
        assert (retry.valued, retry.unvalued) == (1, 0) and await _value(db, tid) is not None

    async def test_429_waits_for_retry_after(self, db: Database, store: Store, prices: PriceFake) -> None:
        """A 429 with Retry-After: 1 is retried after at least that second, then succeeds."""
        prices.fail("/products", 429, times=1, retry_after="1")
        source = CoinbaseSource(prices.url, requests_per_second=1000, retry=RetryPolicy(attempts=3, base_seconds=0.01, max_seconds=0.05))
        await store("BTC", 8, 1000, hours_ago(50))
        start = time.monotonic()
        try:
            report = await value_pending(db, [source], now=NOW)
        finally:
            await source.close()
        assert report.valued == 1 and prices.requests["candles"] == 2
        assert time.monotonic() - start >= 0.95

    async def test_falls_back_to_kraken_when_coinbase_is_down(self, db: Database, store: Store, prices: PriceFake, sources: list) -> None:
        """Coinbase failing, the second source (Kraken OHLC) prices the transfer."""
        prices.fail("/products", 500)
        at = hours_ago(100)
        tid = await store("BTC", 8, 10**8, at)
        await value_pending(db, sources, now=NOW)
        v = await _value(db, tid)
        assert v is not None and v.source == "kraken" and v.price == prices.close("BTC-USD", H, _hour(at))
        assert prices.requests["OHLC"] == 1

    async def test_falls_back_when_coinbase_lists_no_such_market(self, db: Database, store: Store, prices: PriceFake, sources: list) -> None:
        """Coinbase has no USDC-USD book (404): Kraken's USDCUSD prices it, without retrying the 404."""
        prices.coinbase_products.discard("USDC-USD")
        tid = await store("USDC", 6, 5_000_000, hours_ago(3))
        report = await value_pending(db, sources, now=NOW)
        v = await _value(db, tid)
        assert v is not None and v.source == "kraken" and prices.requests["candles"] == 1
        assert any("no market USDC-USD" in e for e in report.errors)

    async def test_kraken_busy_inside_a_200_is_retried(self, db: Database, store: Store, prices: PriceFake, sources: list) -> None:
        """Kraken's "EGeneral:Too many requests" (HTTP 200) is retried like a 429, then prices the transfer."""
        prices.fail("/products", 503)
        prices.fail("/0/public/OHLC", 200, times=1)
        tid = await store("BTC", 8, 10**8, hours_ago(20))
        await value_pending(db, sources, now=NOW)
        v = await _value(db, tid)
        assert v is not None and v.source == "kraken" and prices.requests["OHLC"] == 2

    async def test_kraken_prices_older_moments_from_the_first_trade_after(
        self, db: Database, store: Store, prices: PriceFake, sources: list
    ) -> None:
        """Beyond Kraken's 720 candles, the first trade after the hour began gives the price (Trades count=1)."""
        prices.fail("/products", 503)
        at = NOW - timedelta(days=90, minutes=17)
        tid = await store("ETH", 18, 10**18, at)
        await value_pending(db, sources, now=NOW)
        v = await _value(db, tid)
        assert v is not None and v.source == "kraken" and v.price == prices.open("ETH-USD", H, _hour(at))
        assert prices.requests["Trades"] == 1 and prices.requests["OHLC"] == 0
        assert unix(v.candle_time) == _hour(at) + 60

    async def test_kraken_trade_lookups_are_capped_per_run(self, db: Database, store: Store, prices: PriceFake) -> None:
        """Older moments cost a Trades request each: beyond the cap they wait, unvalued, for the next run."""
        from valuation.kraken import KrakenSource

        source = KrakenSource(prices.url + "/0", requests_per_second=1000, trades_per_call=2,
                              retry=RetryPolicy(attempts=2, base_seconds=0.01, max_seconds=0.05))
        for i in range(5):
            await store("BTC", 8, 10**8, NOW - timedelta(days=60 + i))
        try:
            first = await value_pending(db, [source], now=NOW)
            second = await value_pending(db, [source], now=NOW)
        finally:
            await source.close()
        assert (first.valued, first.unvalued, first.requests) == (2, 3, 2)
        assert (second.valued, second.unvalued) == (2, 1)

    async def test_an_asset_with_no_market_stays_unvalued(self, db: Database, store: Store, prices: PriceFake, sources: list) -> None:
        """An asset mapped to no source is left unvalued, with a sentence saying how to map it, and no request."""
        await store("XYZ", 18, 10**18, hours_ago(3))
        report = await value_pending(db, sources, now=NOW)
        assert report.unvalued == 1 and prices.total_requests() == 0
        assert any("valuation.markets" in e for e in report.errors)

    async def test_revalue_since_only_values_later_arrivals(self, db: Database, store: Store, sources: list) -> None:
        """`since` leaves transfers that arrived before it unvalued."""
        old = await store("BTC", 8, 1, hours_ago(500))
        new = await store("BTC", 8, 1, hours_ago(5))
        report = await value_pending(db, sources, now=NOW, since=hours_ago(10))
        assert report.valued == 1 and await _value(db, new) is not None and await _value(db, old) is None


class TestExact:
    async def test_18_decimal_asset_is_exact(self, db: Database, store: Store, prices: PriceFake, sources: list) -> None:
        """123.456789012345678901 DAI times its price is exact to the last digit."""
        at = hours_ago(7)
        tid = await store("DAI", 18, 123_456_789_012_345_678_901, at)
        await value_pending(db, sources, now=NOW)
        v = await _value(db, tid)
        price = prices.close("DAI-USD", H, _hour(at))
        assert v is not None and v.value == Decimal("123.456789012345678901") * price
        assert v.value.as_tuple().exponent <= -18

    async def test_6_decimal_asset_is_exact(self, db: Database, store: Store, prices: PriceFake, sources: list) -> None:
        """1,234.567891 USDT times its price is exact."""
        at = hours_ago(7)
        tid = await store("USDT", 6, 1_234_567_891, at)
        await value_pending(db, sources, now=NOW)
        v = await _value(db, tid)
        assert v is not None and v.value == Decimal("1234.567891") * prices.close("USDT-USD", H, _hour(at))

    async def test_the_fund_currency_is_configurable(self, db: Database, store: Store, prices: PriceFake, sources: list) -> None:
        """With currency EUR the BTC-EUR market is used and the value is stored in EUR."""
        at = hours_ago(9)
        tid = await store("BTC", 8, 2 * 10**8, at)
        await value_pending(db, sources, ValuationConfig(currency="EUR"), now=NOW)
        async with db.session() as s:
            v = (await s.execute(select(TransferValue).where(TransferValue.transfer_id == tid))).scalar_one()
        assert v.currency == "EUR" and v.value == 2 * prices.close("BTC-EUR", H, _hour(at))
