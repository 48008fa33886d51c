"""Fiat totals: value at arrival, pending, the unvalued counted apart, value now; display rounding."""

from __future__ import annotations

from decimal import Decimal

from ledger.database import Database
from ledger.models import TransferStatus
from tests.fakes.prices import PriceFake
from tests.valuation.conftest import NOW, Store, hours_ago
from valuation.candles import unix
from valuation.money import display, rounded, value_of
from valuation.totals import fiat_totals
from valuation.valuer import refresh_prices, value_pending

H = 3600


def _hour(moment) -> int:  # type: ignore[no-untyped-def]
    return unix(moment) - unix(moment) % H


class TestFiatTotals:
    async def test_confirmed_and_pending_value_at_arrival(self, db: Database, store: Store, prices: PriceFake, sources: list) -> None:
        """Confirmed and pending values are summed exactly per asset and overall; orphaned count for nothing."""
        a, b, c = hours_ago(30), hours_ago(20), hours_ago(10)
        await store("BTC", 8, 10**8, a)
        await store("BTC", 8, 5 * 10**7, b, mempool=True)
        await store("BTC", 8, 7 * 10**8, c, status=TransferStatus.ORPHANED)
        await store("USDT", 6, 2_500_000, c)
        await value_pending(db, sources, now=NOW)
        async with db.session() as s:
            t = await fiat_totals(s, "USD")
        btc = prices.close("BTC-USD", H, _hour(a))
        btc_pending = prices.close("BTC-USD", H, _hour(b)) / 2
        usdt = Decimal("2.5") * prices.close("USDT-USD", H, _hour(c))
        assert t.confirmed == btc + usdt and t.pending == btc_pending and t.unvalued_count == 0
        by = {x.asset: x for x in t.assets}
        assert by["BTC"].confirmed_value == btc and by["BTC"].confirmed_amount == 10**8 and by["BTC"].pending_amount == 5 * 10**7

    async def test_unvalued_transfers_are_counted_not_zero(self, db: Database, store: Store, prices: PriceFake, sources: list) -> None:
        """A transfer with no price is reported in unvalued_count and left out of the sums, not added as 0."""
        prices.fail("/products")
        prices.fail("/0/public")
        await store("ETH", 18, 10**18, hours_ago(30))
        await value_pending(db, sources, now=NOW)
        async with db.session() as s:
            t = await fiat_totals(s, "USD")
        assert t.unvalued_count == 1 and t.assets[0].unvalued_amount == 10**18 and t.valued_count == 0
        assert t.confirmed == 0 and not t.complete

    async def test_value_now_uses_the_newest_finished_price(self, db: Database, store: Store, prices: PriceFake, sources: list) -> None:
        """After a refresh, value now is everything held times the last finished hour's close."""
        await store("ETH", 18, 3 * 10**18, hours_ago(500))
        await store("ETH", 18, 10**18, hours_ago(2), mempool=True)
        await value_pending(db, sources, now=NOW)
        await refresh_prices(db, sources, now=NOW)
        async with db.session() as s:
            t = await fiat_totals(s, "USD")
        last = _hour(NOW) - H
        assert t.assets[0].price_now == prices.close("ETH-USD", H, last) and unix(t.assets[0].price_now_at) == last
        assert t.value_now == 4 * prices.close("ETH-USD", H, last) and t.assets_without_price_now == ()

    async def test_totals_in_another_currency_are_separate(self, db: Database, store: Store, sources: list) -> None:
        """Values stored in USD do not count as EUR values: in EUR those transfers are unvalued."""
        await store("BTC", 8, 10**8, hours_ago(30))
        await value_pending(db, sources, now=NOW)
        async with db.session() as s:
            t = await fiat_totals(s, "EUR")
        assert t.unvalued_count == 1 and t.confirmed == 0


class TestMoney:
    def test_value_is_exact_for_78_digit_amounts(self) -> None:
        """The largest uint256 amount times a price keeps every digit."""
        amount = 2**256 - 1
        v = value_of(amount, 18, Decimal("0.999871"))
        assert v == Decimal(f"{amount * 999871}E-24")
        assert v.as_tuple().digits == tuple(int(d) for d in str(amount * 999871))

    def test_display_rounds_half_up_to_the_minor_unit(self) -> None:
        """Display rounds only at the end, to two places for USD and none for JPY."""
        assert display(Decimal("1234.565"), "USD") == "1,234.57 USD"
        assert display(Decimal("1234.5"), "JPY") == "1,235 JPY"
        assert rounded(Decimal("0.004999"), "EUR") == Decimal("0.00")
