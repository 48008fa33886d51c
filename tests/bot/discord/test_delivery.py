"""Alerts over the wire: the real bot posts to a fake Discord REST API and gateway over a socket.

Proves: one multipart request per alert with its chart, within Discord's limits; a 429 retried
and delivered once; a crash after posting and before marking does not post twice; a 403 channel
is reported once and not retried; a confirmation edits the donation's message, never re-posts.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.app import App
from bot.discord.client import DonationBot
from bot.discord.delivery import DiscordChannel, accepts_alert
from ledger.database import Database
from ledger.models import EventKind, TransferStatus
from ledger.outbox import claim
from ledger.types import utcnow
from ledger.writes import TransferIn, record_event, record_transfers, set_status
from tests.bot.seed import DONOR, chat_settings, seed
from tests.fakes.discord import FakeDiscord

ALERTS, SUMMARY, ROLE = 111, 222, 333


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    yield server
    await server.stop()


async def connected(db: Database, fake: FakeDiscord) -> DonationBot:
    settings = chat_settings()
    settings.discord.alerts_channel_id, settings.discord.summary_channel_id, settings.discord.operator_role_id = ALERTS, SUMMARY, ROLE
    settings.discord.api_base, settings.discord.gateway_url = fake.api_base, fake.gateway_url
    bot = DonationBot(App(settings, db), guild_ready_timeout=0.05)  # the fake sends no guilds: do not wait 2 s for them
    bot._runner_task = asyncio.create_task(bot.start("fake-token"))  # type: ignore[attr-defined]
    await asyncio.wait_for(bot.wait_until_ready(), 10)
    return bot


@pytest.fixture
async def bot(db: Database, fake: FakeDiscord) -> AsyncIterator[DonationBot]:
    client = await connected(db, fake)
    yield client
    await client.close()


def alerts(bot: DonationBot) -> DiscordChannel:
    return DiscordChannel(bot, "discord:alerts", ALERTS, accepts_alert, start="beginning")


async def one_donation(db: Database) -> int:
    seeded = await seed(db)
    return seeded.transfers[4]  # 3 ETH, pending


class TestPosting:
    async def test_summary_with_chart_is_one_multipart_request_within_limits(self, db: Database, fake: FakeDiscord, bot: DonationBot) -> None:
        """The daily summary goes out as ONE multipart POST: the embed and its PNG, accepted by the limits check."""
        await seed(db)
        async with db.session() as s:
            await record_event(s, "summary.due", day="2026-11-29")  # type: ignore[arg-type]
        channel = DiscordChannel(bot, "discord:summary", SUMMARY, lambda e: e.kind == "summary.due", start="beginning")
        assert await channel.flush() == 1
        [post] = [r for r in fake.requests if r.method == "POST"]
        assert post.content_type.startswith("multipart/form-data") and post.status == 200
        assert [(name, head[:4]) for name, _, head in post.files] == [(post.payload["attachments"][0]["filename"], b"\x89PNG")]
        embed = post.payload["embeds"][0]
        assert embed["image"]["url"] == "attachment://" + post.payload["attachments"][0]["filename"]
        assert embed["title"].startswith("Daily summary")

    async def test_a_429_is_waited_out_and_delivered_once(self, db: Database, fake: FakeDiscord, bot: DonationBot) -> None:
        """A 429 with Via and retry_after is retried by discord.py: two requests, one message, marked sent."""
        await one_donation(db)
        fake.fail_next(f"/channels/{ALERTS}/messages", 429, retry_after=0.05)
        channel = alerts(bot)
        await channel.flush()
        statuses = [r.status for r in fake.requests if r.method == "POST"]
        assert statuses[:2] == [429, 200]
        assert len(fake.messages[ALERTS]) == len(statuses) - 1  # every accepted post is one message
        assert await channel.flush() == 0  # nothing left to send

    async def test_sanctions_alert_mentions_only_the_operator_role(self, db: Database, fake: FakeDiscord, bot: DonationBot) -> None:
        """A sanctions hit mentions the operator role and allows no other mention."""
        tid = await one_donation(db)
        async with db.session() as s:
            await record_event(s, EventKind.SANCTIONS_HIT, chain="ethereum", transfer_id=tid, hit_id=1, address=DONOR,
                               source="ofac-sdn", party="@everyone LAZARUS", programmes="DPRK3")
        await alerts(bot).flush()
        hit = next(m for m in fake.messages[ALERTS] if m["content"])
        assert hit["content"].startswith(f"<@&{ROLE}> ")
        assert hit["allowed_mentions"] == {"parse": [], "roles": [ROLE]}
        party = next(f for f in hit["embeds"][0]["fields"] if f["name"] == "Party")["value"]
        assert "@\u200beveryone" in party  # data cannot ping everyone


class TestEditing:
    async def test_confirmation_edits_the_first_message(self, db: Database, fake: FakeDiscord, bot: DonationBot) -> None:
        """transfer.confirmed PATCHes the donation's message; no second message is posted about it."""
        tid = await one_donation(db)
        channel = alerts(bot)
        await channel.flush()
        posted = [m for m in fake.messages[ALERTS] if m["embeds"][0]["title"] == "New donation: 3 ETH"]
        assert len(posted) == 1
        before = len(fake.messages[ALERTS])
        async with db.session() as s:
            await set_status(s, [tid], TransferStatus.CONFIRMED)
        assert await channel.flush() == 1
        assert len(fake.messages[ALERTS]) == before
        assert posted[0]["embeds"][0]["title"] == "Donation confirmed: 3 ETH" and posted[0]["edited_timestamp"]
        assert [r.method for r in fake.requests if posted[0]["id"] in r.path] == ["PATCH"]


class TestNeverTwice:
    async def test_crash_after_posting_before_marking_does_not_post_again(self, db: Database, fake: FakeDiscord) -> None:
        """A bot that posted but died before marking: the next one's retry returns the same message (nonce)."""
        await one_donation(db)
        first = await connected(db, fake)
        channel = alerts(first)
        async with db.session() as s:
            from ledger.outbox import fan_out

            await fan_out(s, channel.name, accepts_alert, start="beginning", subject=lambda e: None)
        async with db.session() as s:
            [delivery, *_] = await claim(s, channel.name, limit=1)
        from bot.messages import render_event
        from ledger.models import Event

        async with db.session() as s:
            message = await render_event(s, await s.get(Event, delivery.event_id), first.app.settings)
        await channel._send(delivery, message, None)  # posted ... then the process dies (no mark)
        await first.close()
        assert len(fake.messages[ALERTS]) == 1
        second = await connected(db, fake)
        try:
            async with db.session() as s:  # the lease runs out
                from sqlalchemy import update

                from ledger.outbox import Delivery

                await s.execute(update(Delivery).values(lease_until=utcnow() - timedelta(seconds=1)))
            await alerts(second).flush()
        finally:
            await second.close()
        titles = [m["embeds"][0]["title"] for m in fake.messages[ALERTS]]
        assert titles.count(message.title) == 1

    async def test_after_the_nonce_window_the_posted_message_is_found(self, db: Database, fake: FakeDiscord, bot: DonationBot) -> None:
        """Past Discord's nonce window, a retried delivery finds its reference in the channel instead of re-posting."""
        await one_donation(db)
        channel = alerts(bot)
        async with db.session() as s:
            from ledger.outbox import fan_out

            await fan_out(s, channel.name, accepts_alert, start="beginning")
            [delivery] = await claim(s, channel.name, limit=1)
        from bot.messages import Message

        await channel._send(delivery, Message(title="New donation: test"), None)
        fake.nonces.clear()  # minutes later: Discord no longer remembers the nonce
        delivery.attempts = 2
        assert await channel._send(delivery, Message(title="New donation: test"), None) == fake.messages[ALERTS][0]["id"]
        assert len(fake.messages[ALERTS]) == 1


class TestBrokenChannel:
    async def test_forbidden_channel_is_reported_once_and_not_retried(self, db: Database, fake: FakeDiscord, bot: DonationBot, caplog) -> None:  # type: ignore[no-untyped-def]
        """A 403 stops delivery to that channel: one request, one log line, shown for /watch list; rows wait."""
        await one_donation(db)
        fake.forbidden.add(ALERTS)
        channel = alerts(bot)
        await channel.flush()
        await channel.flush()
        assert [r.status for r in fake.requests if r.method == "POST"] == [403]
        assert "HTTP 403" in bot.delivery_problems["discord:alerts"]
        assert sum("discord delivery stopped" in r.message for r in caplog.records) == 1
        from ledger.outbox import backlog

        async with db.session() as s:
            assert (await backlog(s, "discord:alerts"))[0] >= 1  # kept for when the channel works again


class TestWhatIsTold:
    async def test_history_and_small_donations_are_not_posted(self, db: Database, fake: FakeDiscord, bot: DonationBot) -> None:
        """Backfilled history is never posted one by one; a donation below alerts.min_amount is counted, not posted."""
        seeded = await seed(db)
        async with db.session() as s:
            await record_transfers(s, [TransferIn(chain="ethereum", txid=f"0x{900 + i:064x}", position=-1, wallet_id=seeded.eth_wallet,
                                                  asset="ETH", decimals=18, amount=10**18, senders=(DONOR,)) for i in range(3)], history=True)
        from decimal import Decimal

        bot.app.settings.alerts.min_amount = {"BTC": Decimal(1)}
        await alerts(bot).flush()
        titles = [m["embeds"][0]["title"] for m in fake.messages.get(ALERTS, [])]
        assert not any("BTC" in t for t in titles)  # all BTC donations are below 1 BTC
        assert titles.count("New donation: 1 ETH") == 0 and "New donation: 3 ETH" in titles
