"""List versions in the database: recorded, put in force atomically, diffed, and re-screened."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from ledger.database import Database
from ledger.models import Event, EventKind
from ledger.screening_tables import ScreeningHit, ScreeningListVersion
from screening.errors import ScreeningListError
from screening.ofac_xml import parse_file
from screening.screener import Screener
from screening.store import current_versions, load_index
from screening.versions import install
from tests.screening.conftest import (
    CLEAN_ETH, EXCERPT_0304, EXCERPT_0321, EXCERPT_1119, LAZARUS_ETH, store_transfer, tornado_addresses,
)

MARCH_21 = datetime(2025, 3, 21, 18, 0, tzinfo=timezone.utc)


async def _install(db: Database, path, now: datetime | None = None, forced_by: str | None = None):  # type: ignore[no-untyped-def]
    async with db.session() as s:
        return await install(s, parse_file(path), now=now, forced_by=forced_by)


class TestVersions:
    async def test_version_is_recorded(self, db: Database) -> None:
        """A loaded list is stored with source, published date, sha256, count and load time."""
        report = await _install(db, EXCERPT_1119)
        async with db.session() as s:
            [version] = (await s.execute(select(ScreeningListVersion))).scalars().all()
        assert (version.source, version.published, version.count) == ("ofac-sdn", date(2025, 11, 19), 21)
        assert version.sha256 == report.version.sha256 and version.loaded_at is not None

    async def test_same_file_twice_is_one_version(self, db: Database) -> None:
        """Loading the same bytes again changes nothing and says so."""
        await _install(db, EXCERPT_1119)
        again = await _install(db, EXCERPT_1119)
        assert again.unchanged
        async with db.session() as s:
            assert await s.scalar(select(func.count()).select_from(ScreeningListVersion)) == 1

    async def test_zero_address_file_keeps_the_last_good_version(self, db: Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
        """A well-formed file with no addresses is refused and the previous version stays in force."""
        await _install(db, EXCERPT_1119)
        data = EXCERPT_1119.read_bytes()
        start, end = data.index(b"  <DistinctParties>"), data.index(b"  </DistinctParties>")
        empty = tmp_path / "none.xml"
        empty.write_bytes(data[:start] + b"  <DistinctParties>\r\n" + data[end:])
        with pytest.raises(ScreeningListError, match="contains no addresses"):
            await _install(db, empty)
        async with db.session() as s:
            assert (await current_versions(s))["ofac-sdn"].published == date(2025, 11, 19)

    async def test_first_start_puts_the_bundled_snapshot_in_force(self, db: Database) -> None:
        """With no stored OFAC version, the bundled 2025-11-19 snapshot goes in force, once."""
        screener = Screener(db)
        report = await screener.ensure_lists()
        assert report is not None and report.version.origin == "bundled snapshot of 2025-11-19"
        assert await screener.ensure_lists() is None
        assert (await screener.check(LAZARUS_ETH.lower()))[0].list.origin == "bundled snapshot of 2025-11-19"

    async def test_screener_sees_another_instances_update(self, db: Database) -> None:
        """A screener rebuilds its index when the version in force changes in the database."""
        screener = Screener(db)
        await screener.ensure_lists()
        await _install(db, EXCERPT_0304, forced_by="test")  # older than the bundled snapshot
        [match] = [m for m in await screener.check(tornado_addresses()[0]) if m.entry.party_ref == "39796"]
        assert match.list.published == date(2025, 3, 4)


class TestMarchUpdate:
    async def test_tornado_cash_delisting(self, db: Database) -> None:
        """03-04 -> 03-21: exactly the 90 Tornado Cash addresses are removed and nothing is added."""
        await _install(db, EXCERPT_0304)
        report = await _install(db, EXCERPT_0321, now=MARCH_21)
        assert report.removed == {a.lower() for a in tornado_addresses()}
        assert report.added == frozenset()

    async def test_earlier_hit_is_marked_delisted_not_re_raised(self, db: Database) -> None:
        """A Tornado Cash hit becomes delisted with the date; the Lazarus hit is untouched; no new hit."""
        await _install(db, EXCERPT_0304)
        tornado = tornado_addresses()[5]
        t1 = await store_transfer(db, (tornado,), txid="0x" + "11" * 32)
        t2 = await store_transfer(db, (LAZARUS_ETH, CLEAN_ETH), txid="0x" + "22" * 32)
        ingest = await Screener(db).screen_new()
        assert {(h.transfer_id, h.party_ref) for h in ingest.hits or []} == {(t1, "39796"), (t2, "27307")}
        report = await _install(db, EXCERPT_0321, now=MARCH_21)
        assert (report.new_hits, report.delisted_hits) == (0, 1)
        async with db.session() as s:
            hits = {h.transfer_id: h for h in (await s.execute(select(ScreeningHit))).scalars()}
            kinds = [k for (k,) in (await s.execute(select(Event.kind).order_by(Event.id))).all()]
        assert hits[t1].delisted_at == MARCH_21 and hits[t1].delisted_version_id == report.version.version_id
        assert hits[t2].delisted_at is None
        assert kinds.count(EventKind.SANCTIONS_DELISTED) == 1 and kinds.count(EventKind.SANCTIONS_HIT) == 2

    async def test_added_addresses_rescreen_past_senders(self, db: Database) -> None:
        """A past sender that a new version lists gets a hit dated now on the old transfer."""
        await _install(db, EXCERPT_0321)
        tornado = tornado_addresses()[0]
        old = await store_transfer(db, (tornado,), txid="0x" + "33" * 32)
        assert (await Screener(db).screen_new()).hits == []
        now = datetime(2025, 3, 25, 9, 0, tzinfo=timezone.utc)
        report = await _install(db, EXCERPT_0304, now=now, forced_by="test")  # back to the older list
        assert len(report.added) == 90 and report.new_hits == 1
        async with db.session() as s:
            [hit] = (await s.execute(select(ScreeningHit))).scalars().all()
            [event] = (await s.execute(select(Event).where(Event.kind == str(EventKind.SANCTIONS_HIT)))).scalars().all()
        assert (hit.transfer_id, hit.found_at, hit.cause, hit.party) == (old, now, "rescreen", "TORNADO CASH")
        assert event.transfer_id == old and event.detail["list_published"] == "2025-03-04"

    async def test_index_swaps_to_the_new_version(self, db: Database) -> None:
        """After the update the index no longer holds the removed addresses."""
        await _install(db, EXCERPT_0304)
        await _install(db, EXCERPT_0321)
        async with db.session() as s:
            index = await load_index(s)
        assert index.lookup(tornado_addresses()[0]) == ()
        assert index.lookup(LAZARUS_ETH)[0].list.published == date(2025, 3, 21)
