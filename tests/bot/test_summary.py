"""The daily summary's figures equal the ledger's, and its chart is a real, non-blank PNG of the right size."""

from __future__ import annotations

import io
from datetime import timedelta

from matplotlib.image import imread

from bot.chart import HEIGHT_PX, WIDTH_PX, render_png
from bot.summary import build_summary, render_summary
from ledger.database import Database
from ledger.queries import donation_count, totals, unique_senders
from ledger.writes import record_event
from ledger.models import EventKind
from tests.bot.seed import NOW, chat_settings, seed


def decode(png: bytes):  # type: ignore[no-untyped-def]
    return imread(io.BytesIO(png), format="png")


class TestFigures:
    async def test_totals_equal_the_ledgers(self, db: Database) -> None:
        """Per asset the summary's confirmed, pending and count equal the ledger's totals; count and donors too."""
        await seed(db)
        async with db.session() as s:
            summary = await build_summary(s, now=NOW)
            ledger = await totals(s)
            assert summary.count == await donation_count(s) == 5
            assert summary.unique_donors == await unique_senders(s) == 2
        for figures in summary.assets:
            mine = [t for t in ledger if t.asset == figures.asset]
            assert figures.confirmed == sum(t.confirmed for t in mine)
            assert figures.pending == sum(t.pending for t in mine)
            assert figures.count == sum(t.count for t in mine)
        by = {a.asset: a for a in summary.assets}
        assert (by["BTC"].confirmed, by["BTC"].pending, by["ETH"].confirmed, by["ETH"].pending) == (75_000_000, 10_000_000, 15 * 10**17, 3 * 10**18)

    async def test_last_day_counts_only_the_last_24_hours(self, db: Database) -> None:
        """The 24-hour figures hold the 0.1 BTC and 3 ETH of the last hours, not the orphaned 7 ETH."""
        await seed(db)
        async with db.session() as s:
            by = {a.asset: a for a in (await build_summary(s, now=NOW)).assets}
        assert (by["BTC"].day_count, by["BTC"].day_amount) == (1, 10_000_000)
        assert (by["ETH"].day_count, by["ETH"].day_amount) == (1, 3 * 10**18)

    async def test_cumulative_series_starts_from_earlier_donations(self, db: Database) -> None:
        """The chart's BTC line starts at the 0.5 BTC given 40 days ago and ends at the all-time total."""
        await seed(db)
        async with db.session() as s:
            series = {x.asset: x for x in (await build_summary(s, now=NOW)).series}
        btc = series["BTC"]
        assert len(btc.days) == 30 and btc.days[-1] == NOW.date()
        assert btc.cumulative[0] == 50_000_000 and btc.cumulative[-1] == 85_000_000

    async def test_message_names_what_needs_a_human(self, db: Database) -> None:
        """A failing watcher appears under "Needs a human", and the message carries the chart."""
        await seed(db)
        async with db.session() as s:
            await record_event(s, EventKind.WATCHER_FAILED, chain="bitcoin", error="HTTP 503")
        async with db.session() as s:
            message = await render_summary(s, chat_settings(), now=NOW + timedelta(minutes=1))
        fields = {f.name: f.value for f in message.fields}
        assert "the bitcoin watcher is failing since" in fields["Needs a human"]
        assert fields["BTC"] == "last 24 h: 0.1 in 1 donation\nall time: 0.75 confirmed, 0.1 pending"
        assert message.image is not None and message.image.data.startswith(b"\x89PNG")


class TestChart:
    async def test_png_has_the_size_and_is_not_blank(self, db: Database) -> None:
        """The chart decodes as a WIDTH x HEIGHT PNG with more than background colour in it."""
        await seed(db)
        async with db.session() as s:
            summary = await build_summary(s, now=NOW)
        pixels = decode(render_png(summary.series, "test"))
        assert pixels.shape[:2] == (HEIGHT_PX, WIDTH_PX)
        flat = pixels.reshape(-1, pixels.shape[2])
        assert (flat != flat[0]).any(axis=1).mean() > 0.02  # more than 2% of pixels are not background

    def test_empty_ledger_draws_a_note(self) -> None:
        """With no donations the chart is still a valid PNG of the same size."""
        assert decode(render_png([], "empty")).shape[:2] == (HEIGHT_PX, WIDTH_PX)
