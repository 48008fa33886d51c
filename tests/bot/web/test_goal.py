"""The fundraising goal: exact percentages, bar segments, days left, and a goal limited to a date window."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import aiohttp
import pytest

from bot.web.goal import progress
from ledger.database import Database
from tests.bot.web import seed
from tests.bot.web.conftest import serve

TODAY = date(2026, 11, 29)


class TestProgress:
    def test_percentages_are_exact_and_rounded_down(self) -> None:
        """1/3 of the target reads 33.33 %, never 33.34 %."""
        p = progress(Decimal(3), "USD", Decimal(1), Decimal(0), today=TODAY)
        assert p.percent == Decimal("33.33") and p.pending_percent == Decimal("0.00")

    def test_bar_segments_never_exceed_the_bar(self) -> None:
        """At 90 % confirmed and 30 % pending the bar shows 90 and 10; the percentages stay true."""
        p = progress(Decimal(100), "USD", Decimal(90), Decimal(30), today=TODAY)
        assert (p.bar_confirmed, p.bar_pending) == (Decimal(90), Decimal(10))
        assert (p.percent, p.pending_percent) == (Decimal("90.00"), Decimal("30.00"))

    def test_over_the_goal_keeps_counting(self) -> None:
        """Raising 150 % reads 150.00 % with a full bar."""
        p = progress(Decimal(2), "BTC", Decimal(3), Decimal(0), today=TODAY)
        assert p.percent == Decimal("150.00") and p.bar_confirmed == Decimal(100) and p.bar_pending == 0

    @pytest.mark.parametrize(("start", "end", "phase", "text"), [
        (None, date(2026, 12, 8), "active", "10 days left"),
        (None, TODAY, "active", "last day"),
        (None, date(2026, 11, 28), "ended", "ended on 2026-11-28"),
        (date(2026, 12, 1), date(2026, 12, 31), "upcoming", "starts on 2026-12-01"),
        (None, None, "active", "no end date"),
    ])
    def test_time_left(self, start: date | None, end: date | None, phase: str, text: str) -> None:
        """Days left count today; before the start and after the end the campaign says so."""
        p = progress(Decimal(1), "USD", Decimal(0), Decimal(0), today=TODAY, start=start, end=end)
        assert (p.phase, p.time_text) == (phase, text)


class TestWindowedGoal:
    async def test_only_donations_inside_the_window_count(self, db: Database) -> None:
        """A BTC goal from Nov 2 to Nov 10 counts only the 0.25 BTC of Nov 4 (not Nov 1's 1.5 or Nov 11's 0.01)."""
        cfg = seed.settings(goal={"amount": Decimal(1), "currency": "BTC", "start": date(2026, 11, 2), "end": date(2026, 11, 10)})
        await seed.seed(db, cfg)
        runner, url = await serve(db, cfg)
        try:
            async with aiohttp.ClientSession() as http, http.get(url + "/api/v1/totals") as r:
                goal = (await r.json())["goal"]
        finally:
            await runner.cleanup()
        assert (goal["confirmed"], goal["pending"], goal["percent"], goal["phase"]) == ("25000000", "0", "25.00", "ended")

    async def test_fiat_goal_counts_values_at_arrival(self, db: Database) -> None:
        """A 200,000 USD goal with 112,250.025 USD valued reads 56.12 %, two donations not yet valued."""
        cfg = seed.settings(goal={"amount": Decimal(200000), "currency": "USD"})
        await seed.seed(db, cfg)
        runner, url = await serve(db, cfg)
        try:
            async with aiohttp.ClientSession() as http, http.get(url + "/api/v1/totals") as r:
                goal = (await r.json())["goal"]
        finally:
            await runner.cleanup()
        assert (goal["percent"], goal["confirmed"], goal["unvalued_count"]) == ("56.12", "11225003", seed.UNVALUED)

    async def test_fiat_goal_window_counts_its_days_only(self, db: Database) -> None:
        """A USD goal over Nov 2 to Nov 5 counts the ETH (6,000) and the BTC of Nov 4 (16,000) only."""
        cfg = seed.settings(goal={"amount": Decimal(44000), "currency": "USD", "start": date(2026, 11, 2),
                                  "end": date(2026, 11, 5)})
        await seed.seed(db, cfg)
        runner, url = await serve(db, cfg)
        try:
            async with aiohttp.ClientSession() as http, http.get(url + "/api/v1/totals") as r:
                goal = (await r.json())["goal"]
        finally:
            await runner.cleanup()
        assert (goal["confirmed"], goal["percent"], goal["unvalued_count"]) == ("2200000", "50.00", 0)

    async def test_fiat_goal_in_an_unvalued_currency_says_not_yet_valued(self, db: Database) -> None:
        """A EUR goal while donations are valued in USD shows 0 % and every donation as not yet valued."""
        cfg = seed.settings(goal={"amount": Decimal(10000), "currency": "EUR"})
        await seed.seed(db, cfg)
        runner, url = await serve(db, cfg)
        try:
            async with aiohttp.ClientSession() as http, http.get(url + "/api/v1/totals") as r:
                goal = (await r.json())["goal"]
        finally:
            await runner.cleanup()
        assert (goal["percent"], goal["unvalued_count"], goal["decimals"], goal["amount"]) == ("0.00", 6, 2, "1000000")
