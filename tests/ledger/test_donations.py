"""Read-only donation views: keyset pages, the donation span, exact daily sums, listed counts, export batches."""

from __future__ import annotations

from datetime import date, datetime, timezone

from ledger import donations
from ledger.database import Database
from tests.bot.web import seed


class TestDonationPage:
    async def test_pages_walk_every_donation_once_newest_first(self, db: Database) -> None:
        """Keyset pages of 4 then 2 cover the six counted donations in id order, newest first, then end."""
        await seed.seed(db, seed.settings())
        async with db.session() as s:
            first = await donations.donation_page(s, limit=4)
            second = await donations.donation_page(s, limit=4, before=first.next_before)
        assert [d.id for d in first.items] == [6, 5, 4, 3]
        assert [d.id for d in second.items] == [2, 1]
        assert first.next_before == 3 and second.next_before is None

    async def test_a_new_donation_does_not_shift_the_next_page(self, db: Database) -> None:
        """A donation stored between two page reads appears on no later page and moves no boundary."""
        cfg = seed.settings()
        ids = await seed.seed(db, cfg)
        async with db.session() as s:
            first = await donations.donation_page(s, limit=3)
        from ledger.writes import TransferIn, record_transfers

        async with db.session() as s:
            await record_transfers(s, [TransferIn(chain="bitcoin", txid="ff" * 32, position=0, wallet_id=ids["bitcoin"],
                                                  asset="BTC", decimals=8, amount=1)])
        async with db.session() as s:
            second = await donations.donation_page(s, limit=3, before=first.next_before)
        assert [d.id for d in second.items] == [3, 2, 1]

    async def test_orphaned_transfers_are_left_out(self, db: Database) -> None:
        """An orphaned transfer is not a donation on any page."""
        await seed.seed(db, seed.settings())
        from sqlalchemy import update

        from ledger.models import Transfer

        async with db.session() as s:
            await s.execute(update(Transfer).where(Transfer.id == 6).values(status="orphaned"))
            page = await donations.donation_page(s, limit=10)
        assert [d.id for d in page.items] == [5, 4, 3, 2, 1]


class TestSlowFigures:
    async def test_span_and_unique_donors(self, db: Database) -> None:
        """First and latest donation times (block time, else first seen) and distinct senders."""
        await seed.seed(db, seed.settings())
        async with db.session() as s:
            span = await donations.donation_span(s)
            donors = await donations.unique_donors(s)
        assert span.first == datetime(2026, 11, 1, 12, tzinfo=timezone.utc)
        assert span.latest == datetime(2026, 11, 13, 12, tzinfo=timezone.utc)
        assert donors == seed.UNIQUE_DONORS

    async def test_daily_sums_are_exact_per_day_asset_and_status(self, db: Database) -> None:
        """Daily sums keep 18-decimal amounts exact and confirmed apart from pending."""
        await seed.seed(db, seed.settings())
        async with db.session() as s:
            daily = await donations.daily_sums(s)
        eth = [(d.day, d.status, d.amount) for d in daily if d.asset == "ETH"]
        assert eth == [(date(2026, 11, 2), "confirmed", 2 * 10**18), (date(2026, 11, 13), "pending", 5 * 10**17)]
        assert sum(d.count for d in daily) == len(seed.DONATIONS)

    async def test_listed_donations_count_active_hits_only(self, db: Database) -> None:
        """The seeded hit counts once; a delisted hit does not count."""
        await seed.seed(db, seed.settings())
        async with db.session() as s:
            assert await donations.listed_donation_count(s) == 1
            listed = await donations.listed_donations(s)
            assert [(h.txid[:4], h.source) for h in listed] == [("0505", "ofac-sdn")]
            from sqlalchemy import update

            from ledger.screening_tables import ScreeningHit

            await s.execute(update(ScreeningHit).values(delisted_at=seed.T0))
            assert await donations.listed_donation_count(s) == 0


class TestExportRows:
    async def test_batches_cover_all_rows_in_id_order_with_senders_and_screening(self, db: Database) -> None:
        """Batches of 4 and 2 hold every donation oldest first, its senders, and "listed" for the hit."""
        await seed.seed(db, seed.settings())
        batches = [b async for b in donations.export_rows(db, batch=4)]
        assert [len(b) for b in batches] == [4, 2]
        rows = [r for b in batches for r in b]
        assert [r.donation.id for r in rows] == [1, 2, 3, 4, 5, 6]
        assert rows[1].senders == ("bc1qdonor2", "bc1qdonor3")
        assert [r.screening for r in rows] == ["clear"] * 4 + ["listed", "clear"]
        assert rows[4].list_versions[0].startswith("ofac-sdn#") and "2025-11-19" in rows[4].list_versions[0]

    async def test_since_and_until_bound_the_donation_time(self, db: Database) -> None:
        """Only donations with time in [since, until) are exported."""
        await seed.seed(db, seed.settings())
        since, until = datetime(2026, 11, 2, tzinfo=timezone.utc), datetime(2026, 11, 11, 12, tzinfo=timezone.utc)
        rows = [r async for b in donations.export_rows(db, since=since, until=until) for r in b]
        assert [r.donation.at.day for r in rows] == [4, 2, 6]
