"""Alerts and summaries to Discord through the outbox: each message posted once, transfer messages edited.

Two consumers of the event stream: ``discord:alerts`` (donations, sanctions, health, wallet
changes) and ``discord:summary`` (the daily summary). Each flush fans new events out into
``delivery`` rows, claims the due ones, sends each outside any transaction and marks it after.

Never twice: a post carries the delivery's nonce with ``enforce_nonce`` (discord.py sets it
whenever a nonce is given), so Discord returns the first message when a crash made us send
again within minutes; a retried delivery first looks for its reference in the channel's recent
messages. Later events about a donation edit its first message. A channel that answers 403/404
is reported once (log, /watch list, health) and not tried again until the settings change
(a restart); its deliveries wait, so nothing is lost.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import discord

from bot.discord.render import escape, to_embed
from bot.messages import LIST_OK, LIST_STALE, LIST_UPDATE_FAILED, SUMMARY_DUE, TRANSFER_KINDS, Message, render_event
from ledger.models import Event, EventKind
from ledger.outbox import Delivery, claim, external_id_for, fan_out, mark_failed, mark_retry, mark_sent
from ledger.types import utcnow

if TYPE_CHECKING:
    from bot.discord.client import DonationBot

log = logging.getLogger(__name__)

ALERT_KINDS = TRANSFER_KINDS | {
    str(EventKind.SANCTIONS_HIT), str(EventKind.SANCTIONS_DELISTED), str(EventKind.WATCHER_FAILED),
    str(EventKind.WATCHER_RECOVERED), LIST_STALE, LIST_UPDATE_FAILED, LIST_OK, "wallet.added", "wallet.removed",
    "chain.degraded", "chain.restored",
}
HISTORY_SCAN = 50  # recent channel messages searched for a retried delivery's reference
LEASE_SECONDS = 20  # a crashed sender's claim is taken over this soon (a send, with rate-limit waits, is far shorter)


def accepts_alert(event: Event) -> bool:
    """Alert-channel events; history transfers are never told one by one."""
    if event.kind == EventKind.TRANSFER_NEW and (event.detail or {}).get("history"):
        return False
    return event.kind in ALERT_KINDS


def subject_for(event: Event) -> str | None:
    """What a delivery is about: a transfer's events share one subject, so later ones edit the first."""
    if event.transfer_id is not None and event.kind in TRANSFER_KINDS:
        return f"transfer:{event.transfer_id}"
    if event.kind.startswith("watcher."):
        return f"watcher:{event.chain}"
    return None


def reference(delivery: Delivery) -> str:
    """The delivery's mark on its message: the nonce (Discord allows 25 characters) and the footer."""
    return f"dw-{delivery.id}"


def retry_at(attempts: int, now: datetime) -> datetime:
    """Back off 30 s, 1, 2, 4 … up to 30 minutes."""
    return now + timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 1800))


class DiscordChannel:
    """One Discord text channel fed from one stream consumer."""

    def __init__(self, bot: DonationBot, name: str, channel_id: int, accept, *, start: str = "now") -> None:  # type: ignore[no-untyped-def]
        self.bot = bot
        self.name = name
        self.channel_id = channel_id
        self.accept = accept
        self.start = start
        self.blocked: str | None = None

    @property
    def db(self):  # type: ignore[no-untyped-def]
        return self.bot.app.db

    @property
    def settings(self):  # type: ignore[no-untyped-def]
        return self.bot.app.settings

    async def flush(self) -> int:
        """Queue new events, then deliver what is due; returns how many messages went out."""
        async with self.db.session() as s:
            await fan_out(s, self.name, self.accept, start=self.start, subject=subject_for)  # type: ignore[arg-type]
        if self.blocked is not None or not self.bot.is_ready():
            return 0
        sent = 0
        while True:
            async with self.db.session() as s:
                batch = await claim(s, self.name, limit=20, lease_seconds=LEASE_SECONDS)
            if not batch:
                return sent
            for delivery in batch:
                if self.blocked is not None:
                    async with self.db.session() as s:
                        await mark_retry(s, delivery.id, self.blocked, at=utcnow())  # type: ignore[arg-type]
                    continue
                sent += await self.deliver(delivery)
            if len(batch) < 20:
                return sent

    async def deliver(self, delivery: Delivery) -> int:
        """Render, send or edit, and mark one delivery; returns 1 when a message went out."""
        async with self.db.session() as s:
            event = await s.get(Event, delivery.event_id)
            message = await render_event(s, event, self.settings)
            edits = delivery.subject and delivery.subject.startswith("transfer:") and event.kind != EventKind.TRANSFER_NEW
            edit_id = await external_id_for(s, self.name, delivery.subject) if edits else None
        if message is None:  # nothing to say (below the minimum, history): done
            async with self.db.session() as s:
                await mark_sent(s, delivery.id, None)  # type: ignore[arg-type]
            return 0
        try:
            external_id = await self._send(delivery, message, edit_id)
        except (discord.Forbidden, discord.NotFound) as exc:
            self._block(exc)
            async with self.db.session() as s:
                await mark_retry(s, delivery.id, self.blocked or str(exc), at=utcnow())  # type: ignore[arg-type]
            return 0
        except discord.HTTPException as exc:
            text = f"HTTP {exc.status}: {exc.text}"[:500]
            async with self.db.session() as s:
                if 400 <= exc.status < 500:
                    log.error("discord refused a message channel=%s delivery=%s error=%s", self.name, delivery.id, text)
                    await mark_failed(s, delivery.id, text)  # type: ignore[arg-type]
                else:
                    await mark_retry(s, delivery.id, text, at=retry_at(delivery.attempts, utcnow()))  # type: ignore[arg-type]
            return 0
        except (OSError, TimeoutError) as exc:
            async with self.db.session() as s:
                await mark_retry(s, delivery.id, f"{type(exc).__name__}: {exc}", at=retry_at(delivery.attempts, utcnow()))  # type: ignore[arg-type]
            return 0
        async with self.db.session() as s:
            await mark_sent(s, delivery.id, external_id)  # type: ignore[arg-type]
        return 1

    async def _send(self, delivery: Delivery, message: Message, edit_id: str | None) -> str:
        ref = reference(delivery)
        embed, file = to_embed(message, footer=f"donation-watch · {ref}")
        target = self.bot.get_partial_messageable(self.channel_id)
        if edit_id is not None:
            try:
                await target.get_partial_message(int(edit_id)).edit(embed=embed)
                return edit_id
            except discord.NotFound as exc:
                if exc.code != 10008:  # not "Unknown Message": the channel itself is gone
                    raise
                log.info("the message to edit was deleted; posting anew subject=%s", delivery.subject)
        if delivery.attempts > 1:
            found = await self._find_posted(target, ref)
            if found is not None:
                return found
        content, mentions = None, discord.AllowedMentions.none()
        role_id = self.settings.discord.operator_role_id
        if message.mentions_operators and role_id:
            content = f"<@&{role_id}> {escape(message.title)}"
            mentions = discord.AllowedMentions(everyone=False, users=False, roles=[discord.Object(role_id)])
        kwargs = {"file": file} if file is not None else {}
        posted = await target.send(content=content, embed=embed, nonce=ref, allowed_mentions=mentions, **kwargs)
        return str(posted.id)

    async def _find_posted(self, target: discord.PartialMessageable, ref: str) -> str | None:
        """A message of ours already carrying this reference (sent before a crash), if any."""
        me = self.bot.user.id if self.bot.user else None
        async for old in target.history(limit=HISTORY_SCAN):
            if old.author.id == me and any(ref in (e.footer.text or "") for e in old.embeds):
                return str(old.id)
        return None

    def _block(self, exc: discord.HTTPException) -> None:
        what = "the bot lacks permission to post there" if exc.status == 403 else "the channel does not exist (deleted?)"
        self.blocked = f"channel {self.channel_id} ({self.name}): HTTP {exc.status}, {what}; fix it, then restart the bot"
        self.bot.delivery_problems[self.name] = self.blocked
        log.error("discord delivery stopped: %s", self.blocked)

    async def close(self) -> None:
        """The client is closed by the plugin."""
