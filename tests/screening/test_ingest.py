"""Screening on ingest: every new transfer's senders, once, with hits stored and exposed as events."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ledger.database import Database
from ledger.models import Event, EventKind
from ledger.screening_tables import ScreeningHit
from ledger.stream_tables import ConsumerPosition
from screening.ofac_xml import parse_file
from screening.screener import Screener
from screening.versions import install
from tests.screening.conftest import CLEAN_ETH, EXCERPT_1119, KHORASHADIZADEH_XBT, LAZARUS_ETH, store_transfer


async def _screener(db: Database) -> Screener:
    async with db.session() as s:
        await install(s, parse_file(EXCERPT_1119))
    return Screener(db)


class TestScreeningOnIngest:
    async def test_listed_bitcoin_sender_is_a_hit(self, db: Database) -> None:
        """A real listed XBT address sending to a Bitcoin wallet is stored as a hit with party, programme and list."""
        screener = await _screener(db)
        tid = await store_transfer(db, (KHORASHADIZADEH_XBT,), txid="aa" * 32, chain="bitcoin")
        report = await screener.screen_new()
        [hit] = report.hits or []
        assert (hit.transfer_id, hit.address, hit.verdict, hit.source) == (tid, KHORASHADIZADEH_XBT, "listed", "ofac-sdn")
        assert (hit.party, hit.programmes, hit.listed_on) == ("Ali Khorashadizadeh", "CYBER2", date(2018, 11, 28))

    async def test_hit_is_an_event_the_bot_can_alert_on(self, db: Database) -> None:
        """Each hit appends a sanctions.hit event naming the address, list version and party."""
        screener = await _screener(db)
        tid = await store_transfer(db, (LAZARUS_ETH.lower(),), txid="0x" + "bb" * 32)
        await screener.screen_new()
        async with db.session() as s:
            [event] = (await s.execute(select(Event).where(Event.kind == str(EventKind.SANCTIONS_HIT)))).scalars().all()
        assert event.transfer_id == tid and event.chain == "ethereum"
        assert event.detail["party"] == "Lazarus Group" and event.detail["list_published"] == "2025-11-19"
        assert len(event.detail["list_sha256"]) == 64

    async def test_each_transfer_is_screened_once(self, db: Database) -> None:
        """A second pass finds nothing new; a later transfer is screened by the next pass only."""
        screener = await _screener(db)
        await store_transfer(db, (LAZARUS_ETH,), txid="0x" + "cc" * 32)
        assert len((await screener.screen_new()).hits or []) == 1
        assert (await screener.screen_new()).hits == []
        await store_transfer(db, (CLEAN_ETH, LAZARUS_ETH), txid="0x" + "dd" * 32)
        second = await screener.screen_new()
        assert second.transfers == 1 and second.senders == 2 and len(second.hits or []) == 1
        async with db.session() as s:
            assert len((await s.execute(select(ScreeningHit))).scalars().all()) == 2

    async def test_position_advances_with_the_hits(self, db: Database) -> None:
        """The consumer "screening" ends at the newest transfer.new event, in the same commit as the hits."""
        screener = await _screener(db)
        await store_transfer(db, (CLEAN_ETH,), txid="0x" + "ee" * 32)
        report = await screener.screen_new()
        async with db.session() as s:
            newest = max((e for e in (await s.execute(select(Event))).scalars()), key=lambda e: e.position)
            stored = await s.get(ConsumerPosition, "screening")
        assert stored is not None and (stored.xact, stored.event_id) == (newest.xact, newest.id)
        assert report.position == newest.position and report.hits == []

    async def test_batches_cover_every_transfer(self, db: Database) -> None:
        """With a batch of one event, every transfer is still screened in one call."""
        from screening.ingest import screen_new_transfers

        screener = await _screener(db)
        for n in range(3):
            await store_transfer(db, (LAZARUS_ETH,), txid="0x" + f"{n:02x}" * 32)
        async with db.session() as s:
            index = await screener.refresh(s)
            report = await screen_new_transfers(s, index, batch=1)
        assert report.transfers == 3 and len(report.hits or []) == 3


class TestCrashSafety:
    async def test_a_failed_pass_leaves_no_hits_and_no_cursor_move(self, db: Database) -> None:
        """If the transaction dies after screening, neither hits nor the cursor survive; the next pass finds the hit once."""
        import pytest

        from screening.ingest import screen_new_transfers

        screener = await _screener(db)
        await store_transfer(db, (LAZARUS_ETH,), txid="0x" + "ff" * 32)
        with pytest.raises(RuntimeError):
            async with db.session() as s:
                report = await screen_new_transfers(s, await screener.refresh(s))
                assert len(report.hits or []) == 1
                raise RuntimeError("crash before commit")
        async with db.session() as s:
            assert (await s.execute(select(ScreeningHit))).scalars().all() == []
            assert (await s.execute(select(ConsumerPosition))).scalars().all() == []
        assert len((await screener.screen_new()).hits or []) == 1
        assert (await screener.screen_new()).hits == []


class TestOneActiveHit:
    async def test_database_refuses_a_second_active_hit(self, db: Database) -> None:
        """The partial unique index allows one active hit per transfer, address, list and party; a delisted one does not count."""
        import pytest
        from sqlalchemy.exc import IntegrityError

        screener = await _screener(db)
        await store_transfer(db, (LAZARUS_ETH,), txid="0x" + "ab" * 32)
        [hit] = (await screener.screen_new()).hits or []
        copy = {k: v for k, v in hit.model_dump().items() if k != "id"}
        with pytest.raises(IntegrityError):
            async with db.session() as s:
                s.add(ScreeningHit(**copy))
        async with db.session() as s:
            stored = (await s.execute(select(ScreeningHit))).scalar_one()
            stored.delisted_at = stored.found_at
        async with db.session() as s:
            s.add(ScreeningHit(**copy))
