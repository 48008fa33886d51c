"""The console channel: with no Discord token, rendered messages are printed as readable blocks on stdout."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Message, Severity, render_event
from bot.settings import Settings
from ledger.database import Database
from ledger.events import consumer_position
from ledger.models import Event, EventKind
from ledger.outbox import claim, fan_out, mark_sent
from ledger.types import utcnow

if TYPE_CHECKING:
    from bot.app import App


_MARKS = {Severity.INFO: "", Severity.WARNING: "WARNING ", Severity.ALERT: "ALERT "}


def format_message(message: Message, image_dir: Path | None = None) -> str:
    """A message as a few readable lines; its image is saved under ``image_dir`` and the path printed."""
    when = (message.timestamp or utcnow()).strftime("%Y-%m-%d %H:%M:%S UTC")
    out = [f"{when} {_MARKS[message.severity]}{message.title}"]
    out += [f"    {line}" for line in message.lines]
    inline = [f"{f.name}: {f.value}".replace("\n", "; ") for f in message.fields if f.inline]
    if inline:
        out.append("    " + " | ".join(inline))
    out += [f"    {f.name}: {f.value}".replace("\n", "\n      ") for f in message.fields if not f.inline]
    out += [f"    {text}: {url}" for text, url in message.links]
    if message.image is not None and image_dir is not None:
        image_dir.mkdir(parents=True, exist_ok=True)
        path = image_dir / message.image.filename
        path.write_bytes(message.image.data)
        out.append(f"    image: {path.resolve()}")
    if message.mentions_operators:
        out.append("    (operators are asked to act)")
    return "\n".join(out)


def announces(event: Event) -> bool:
    """Whether the console queues ``event``: everything but history, which is not news.

    Transfers stored as history (a backfill, an import of the past) are counted and screened; a
    sanctions hit on one is its own event and is announced.
    """
    return not (event.kind == EventKind.TRANSFER_NEW and event.detail.get("history"))


class ConsoleNotifier:
    """The console channel: prints each announced event once, resuming after a restart or a crash.

    It is the outbox channel ``console``: events are queued with ``fan_out`` from its stored
    stream position, claimed, printed, and marked sent one by one, so a restart prints what was
    not printed yet (a kill between a print and its mark repeats at most that one message).
    """

    name = "console"
    CHANNEL = "console"
    BATCH = 100
    # A crash between claim and print leaves rows leased; printing is instant, so a short lease.
    LEASE_SECONDS = 10

    def __init__(self, db: Database, settings: Settings, out: TextIO | None = None) -> None:
        self.db = db
        self.settings = settings
        self.image_dir = Path(settings.data_dir) / "images"
        self.out = out or sys.stdout

    async def start(self) -> None:
        """Create the channel's stored position if it has none (a brand-new channel starts now)."""
        async with self.db.session() as s:
            await consumer_position(s, self.CHANNEL, start="now")

    start_from_now = start  # the name callers used before the position was stored

    async def flush(self) -> int:
        """Print every announced event not printed yet; returns how many messages were printed."""
        async with self.db.session() as s:
            await fan_out(s, self.CHANNEL, announces, start="now")
        printed = 0
        while True:
            async with self.db.session() as s:
                batch = await claim(s, self.CHANNEL, limit=self.BATCH, lease_seconds=self.LEASE_SECONDS)
                texts = [(d.id, await self.render(s, d.event_id)) for d in batch]
            for delivery_id, text in texts:
                if text is not None:
                    self.emit(text)
                    printed += 1
                async with self.db.session() as s:
                    await mark_sent(s, delivery_id, None)
            if len(batch) < self.BATCH:
                return printed

    async def render(self, session: AsyncSession, event_id: int) -> str | None:
        """The console's text for one stored event, or None when it is not told."""
        event = await session.get(Event, event_id)
        assert event is not None
        message = await render_event(session, event, self.settings)
        return format_message(message, self.image_dir) if message is not None else None

    def emit(self, text: str) -> None:
        """Write one message to the console."""
        print(text, file=self.out, flush=True)

    async def close(self) -> None:
        """Nothing to release: the console stays open."""


async def setup(app: App) -> None:
    """Plugin: with no Discord token, events are printed to the console, resuming where it stopped."""
    if app.settings.discord.token is not None:
        return
    notifier = ConsoleNotifier(app.db, app.settings)
    await notifier.start()
    app.add_channel(notifier, every=5)
