"""The daily summary is made due at its local time, once per date, and a missed one once on start."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from bot.app import App
from bot.summary_schedule import check_summary_due, latest_due
from ledger.database import Database
from tests.bot.seed import chat_settings, events

UTC = timezone.utc


def app_of(db: Database, started: datetime, at: str = "09:00", zone: str = "Europe/Kyiv") -> App:
    settings = chat_settings()
    settings.summary.time = time.fromisoformat(at)
    settings.summary.timezone = zone
    app = App(settings, db)
    app.started_at = started
    return app


class TestLatestDue:
    def test_before_the_time_today_means_yesterday(self) -> None:
        """At 05:00 UTC (07:00 in Kyiv) the latest 09:00 Kyiv summary was yesterday's."""
        due = latest_due(datetime(2026, 11, 29, 5, 0, tzinfo=UTC), time(9, 0), "Europe/Kyiv")
        assert due.isoformat() == "2026-11-28T09:00:00+02:00"

    def test_after_the_time_today_means_today(self) -> None:
        """At 08:00 UTC (10:00 in Kyiv) today's summary is due."""
        due = latest_due(datetime(2026, 11, 29, 8, 0, tzinfo=UTC), time(9, 0), "Europe/Kyiv")
        assert due.isoformat() == "2026-11-29T09:00:00+02:00"


class TestOncePerDay:
    async def test_due_once_even_when_checked_again_or_by_a_second_instance(self, db: Database) -> None:
        """Past the time, the first check makes the summary due; later checks (any instance) do not again."""
        start = datetime(2026, 11, 29, 6, 0, tzinfo=UTC)
        one, two = app_of(db, start), app_of(db, start)
        at = datetime(2026, 11, 29, 7, 1, tzinfo=UTC)  # 09:01 Kyiv
        assert await check_summary_due(one, now=at) is True
        assert await check_summary_due(one, now=at + timedelta(minutes=1)) is False
        assert await check_summary_due(two, now=at + timedelta(minutes=2)) is False
        assert [(e.kind, e.detail) for e in await events(db)] == [("summary.due", {"day": "2026-11-29"})]

    async def test_fresh_ledger_posts_nothing_missed_before_first_start(self, db: Database) -> None:
        """A bot started for the first time after today's time waits for tomorrow's summary."""
        app = app_of(db, datetime(2026, 11, 29, 12, 0, tzinfo=UTC))
        assert await check_summary_due(app, now=datetime(2026, 11, 29, 12, 1, tzinfo=UTC)) is False
        assert await check_summary_due(app, now=datetime(2026, 11, 30, 7, 1, tzinfo=UTC)) is True

    async def test_missed_while_down_is_made_due_once_on_start(self, db: Database) -> None:
        """Down over two summary times, a restarted bot makes only the latest one due, once."""
        first = app_of(db, datetime(2026, 11, 27, 6, 0, tzinfo=UTC))
        assert await check_summary_due(first, now=datetime(2026, 11, 27, 7, 1, tzinfo=UTC)) is True
        later = app_of(db, datetime(2026, 11, 29, 12, 0, tzinfo=UTC))  # down on the 28th and the 29th at 09:00
        assert await check_summary_due(later, now=datetime(2026, 11, 29, 12, 0, tzinfo=UTC)) is True
        assert await check_summary_due(later, now=datetime(2026, 11, 29, 12, 1, tzinfo=UTC)) is False
        assert [e.detail["day"] for e in await events(db)] == ["2026-11-27", "2026-11-29"]
