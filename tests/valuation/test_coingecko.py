"""CoinGecko as a price source when a key is configured: hourly points, the key header, its limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from ledger.database import Database
from ledger.valuation_tables import TransferValue
from tests.fakes.prices import PriceFake
from tests.valuation.conftest import FAST_RETRY, NOW, Store, hours_ago
from valuation.candles import unix
from valuation.coingecko import CoinGeckoSource
from valuation.valuer import value_pending

H = 3600


@pytest.fixture
async def gecko(prices: PriceFake) -> AsyncIterator[CoinGeckoSource]:
    source = CoinGeckoSource(prices.coingecko_key, prices.url + "/api/v3", requests_per_second=1000, retry=FAST_RETRY)
    try:
        yield source
    finally:
        await source.close()


async def _value(db: Database, tid: int) -> TransferValue | None:
    async with db.session() as s:
        return (await s.execute(select(TransferValue).where(TransferValue.transfer_id == tid))).scalar_one_or_none()


class TestCoinGecko:
    async def test_prices_a_transfer_from_the_hour_s_point(self, db: Database, store: Store, prices: PriceFake, gecko: CoinGeckoSource) -> None:
        """A transfer takes the price of the hourly point inside its hour, from the coin's id market."""
        at = hours_ago(200)
        tid = await store("ETH", 18, 10**18, at)
        report = await value_pending(db, [gecko], now=NOW)
        v = await _value(db, tid)
        hour = unix(at) - unix(at) % H
        assert report.requests == 1 and v is not None and v.source == "coingecko"
        assert v.price == prices.close("ETH-USD", H, hour)

    async def test_one_request_covers_89_days(self, db: Database, store: Store, prices: PriceFake, gecko: CoinGeckoSource) -> None:
        """Transfers spread over 80 days cost one market-chart request."""
        for i in range(20):
            await store("BTC", 8, 10**8, NOW - timedelta(days=2 + i * 4))
        report = await value_pending(db, [gecko], now=NOW)
        assert report.valued == 20 and report.requests == 1

    async def test_a_wrong_key_leaves_the_transfer_unvalued(self, db: Database, store: Store, prices: PriceFake) -> None:
        """A refused key (401) is not retried; the transfer stays unvalued with the reason."""
        source = CoinGeckoSource("wrong", prices.url + "/api/v3", requests_per_second=1000, retry=FAST_RETRY)
        await store("BTC", 8, 10**8, hours_ago(10))
        try:
            report = await value_pending(db, [source], now=NOW)
        finally:
            await source.close()
        assert report.unvalued == 1 and report.requests == 1 and any("HTTP 401" in e for e in report.errors)
