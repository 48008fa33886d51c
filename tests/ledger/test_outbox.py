"""The delivery outbox: events fanned out per channel once, claimed under a lease, marked only after the send."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ledger.database import Database
from ledger.events import consumer_position
from ledger.models import Event, EventKind
from ledger.outbox import (
    Delivery,
    DeliveryState,
    backlog,
    claim,
    external_id_for,
    fan_out,
    mark_failed,
    mark_retry,
    mark_sent,
)
from ledger.types import utcnow
from ledger.wallets import upsert_wallet
from ledger.writes import TransferIn, record_event, record_transfers
from tests.ledger.test_events import ONLY_POSTGRES

WALLET = "0x165CD37b4C644C2921454429E7F9358d18A45e14"


def _all(_: Event) -> bool:
    return True


async def _events(db: Database, n: int, kind: EventKind = EventKind.WATCHER_FAILED) -> None:
    for i in range(n):
        async with db.session() as s:
            await record_event(s, kind, chain="ethereum", n=i)


async def _fan_out(db: Database, channel: str = "chat", accept=_all, start: str = "beginning") -> int:  # type: ignore[no-untyped-def]
    async with db.session() as s:
        return await fan_out(s, channel, accept, start=start)  # type: ignore[arg-type]


async def _claim(db: Database, channel: str = "chat", **kw: object) -> list[Delivery]:
    async with db.session() as s:
        return await claim(s, channel, **kw)  # type: ignore[arg-type]


class TestFanOut:
    async def test_each_accepted_event_is_queued_once(self, db: Database) -> None:
        """Accepted events become pending deliveries keyed channel:event; a second fan-out queues nothing."""
        await _events(db, 2)
        await _events(db, 1, EventKind.WATCHER_RECOVERED)
        assert await _fan_out(db, accept=lambda e: e.kind == EventKind.WATCHER_FAILED) == 2
        assert await _fan_out(db) == 0
        async with db.session() as s:
            rows = list((await s.execute(select(Delivery).order_by(Delivery.id))).scalars())
            ids = list((await s.execute(select(Event.id).order_by(Event.id))).scalars())
        assert [r.idempotency_key for r in rows] == [f"chat:{ids[0]}", f"chat:{ids[1]}"]
        assert {r.state for r in rows} == {DeliveryState.PENDING}

    async def test_new_channel_starts_now(self, db: Database) -> None:
        """A channel fanned out for the first time with start="now" queues only later events."""
        await _events(db, 2)
        async with db.session() as s:
            await consumer_position(s, "chat", start="now")
        await _events(db, 1)
        assert await _fan_out(db, start="now") == 1

    async def test_channels_are_independent(self, db: Database) -> None:
        """Each channel has its own position and its own deliveries."""
        await _events(db, 2)
        assert await _fan_out(db, "a") == 2
        assert await _fan_out(db, "b") == 2

    async def test_transfer_events_carry_their_subject(self, db: Database) -> None:
        """A transfer's events are about "transfer:ID", so a later message can find the first one to edit."""
        async with db.session() as s:
            wallet, _ = await upsert_wallet(s, "ethereum", WALLET)
            result = await record_transfers(s, [TransferIn(
                chain="ethereum", txid="0x" + "ab" * 32, position=-1, wallet_id=wallet.id, asset="ETH",  # type: ignore[arg-type]
                decimals=18, amount=10**18)])
        await _fan_out(db)
        [delivery] = await _claim(db)
        assert delivery.subject == f"transfer:{result.inserted[0]}"


class TestClaim:
    async def test_claim_leases_and_counts_attempts(self, db: Database) -> None:
        """A claimed row is leased (not claimed again meanwhile); after the lease runs out it is, with attempts 2."""
        await _events(db, 1)
        await _fan_out(db)
        now = utcnow()
        [first] = await _claim(db, now=now, lease_seconds=30)
        assert first.attempts == 1 and await _claim(db, now=now + timedelta(seconds=10)) == []
        [again] = await _claim(db, now=now + timedelta(seconds=31))
        assert again.id == first.id and again.attempts == 2

    async def test_claims_in_event_order(self, db: Database) -> None:
        """Deliveries come out in the order of their events, up to the limit."""
        await _events(db, 3)
        await _fan_out(db)
        claimed = await _claim(db, limit=2)
        async with db.session() as s:
            ids = list((await s.execute(select(Event.id).order_by(Event.id))).scalars())
        assert [d.event_id for d in claimed] == ids[:2]

    @ONLY_POSTGRES
    async def test_two_claimers_never_get_the_same_row(self, db: Database) -> None:
        """Two transactions claiming at once on PostgreSQL split the rows (FOR UPDATE SKIP LOCKED)."""
        await _events(db, 4)
        await _fan_out(db)
        async with db.session() as one, db.session() as two:
            mine = await claim(one, "chat", limit=2)
            theirs = await claim(two, "chat", limit=10)
        assert len(mine) == 2 and len(theirs) == 2
        assert not {d.id for d in mine} & {d.id for d in theirs}


class TestMarks:
    async def test_sent_is_final_and_keeps_the_external_id(self, db: Database) -> None:
        """A sent delivery is never claimed again; its external id is found by channel and subject."""
        await _events(db, 1)
        await _fan_out(db)
        [d] = await _claim(db)
        async with db.session() as s:
            await s.execute(Delivery.__table__.update().values(subject="transfer:7"))
            await mark_sent(s, d.id, "1234567890")  # type: ignore[arg-type]
        assert await _claim(db, now=utcnow() + timedelta(hours=1)) == []
        async with db.session() as s:
            assert await external_id_for(s, "chat", "transfer:7") == "1234567890"
            assert await external_id_for(s, "other", "transfer:7") is None
            assert await backlog(s) == (0, None)

    async def test_retry_waits_until_its_time(self, db: Database) -> None:
        """A delivery to retry is not due before ``at`` and keeps the error."""
        await _events(db, 1)
        await _fan_out(db)
        [d] = await _claim(db)
        at = utcnow() + timedelta(minutes=5)
        async with db.session() as s:
            await mark_retry(s, d.id, "HTTP 503", at=at)  # type: ignore[arg-type]
        assert await _claim(db) == []
        [again] = await _claim(db, now=at)
        assert again.last_error == "HTTP 503" and again.attempts == 2

    async def test_failed_is_not_retried(self, db: Database) -> None:
        """A delivery marked failed is never claimed again and leaves the backlog."""
        await _events(db, 2)
        await _fan_out(db)
        [d, _] = await _claim(db)
        async with db.session() as s:
            await mark_failed(s, d.id, "channel deleted")  # type: ignore[arg-type]
            count, oldest = await backlog(s, "chat")
        assert count == 1 and oldest is not None
        assert [x.id for x in await _claim(db, now=utcnow() + timedelta(hours=1))] != [d.id]

    async def test_crash_before_mark_sends_again(self, db: Database) -> None:
        """A claim whose sender died before marking is claimed again once the lease ends: nothing is lost."""
        await _events(db, 1)
        await _fan_out(db)
        [d] = await _claim(db, lease_seconds=60)
        [again] = await _claim(db, now=utcnow() + timedelta(seconds=61))
        assert again.id == d.id


class TestBacklog:
    async def test_backlog_counts_pending_per_channel(self, db: Database) -> None:
        """backlog() counts pending deliveries of one channel or of all, with the oldest queue time."""
        await _events(db, 3)
        await _fan_out(db, "console")
        await _fan_out(db, "other")
        async with db.session() as s:
            count, oldest = await backlog(s, "console")
            total, _ = await backlog(s)
        assert count == 3 and total == 6 and oldest is not None
