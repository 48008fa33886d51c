"""The console channel: with no Discord token, rendered messages are printed as readable blocks on stdout."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from sqlalchemy import func, select

from bot.messages import Message, Severity, render_event
from bot.settings import Settings
from ledger.database import Database
from ledger.models import Event
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


class ConsoleNotifier:
    """Prints every event stored after a starting point, each once per process."""

    name = "console"

    def __init__(self, db: Database, settings: Settings, out: TextIO | None = None) -> None:
        self.db = db
        self.settings = settings
        self.image_dir = Path(settings.data_dir) / "images"
        self.out = out or sys.stdout
        self.last_id: int | None = None

    async def start_from_now(self) -> None:
        """Skip events stored before this process started."""
        async with self.db.session() as s:
            self.last_id = int(await s.scalar(select(func.coalesce(func.max(Event.id), 0))) or 0)

    async def flush(self) -> int:
        """Print the events stored since the last flush; returns how many."""
        if self.last_id is None:
            self.last_id = 0
        async with self.db.session() as s:
            events = (await s.execute(select(Event).where(Event.id > self.last_id).order_by(Event.id))).scalars().all()
            lines = []
            for event in events:
                message = await render_event(s, event, self.settings)
                if message is not None:
                    lines.append(format_message(message, self.image_dir))
                self.last_id = event.id
        for line in lines:
            print(line, file=self.out, flush=True)
        return len(lines)

    async def close(self) -> None:
        """Nothing to release: the console stays open."""


async def setup(app: App) -> None:
    """Plugin: with no Discord token, events stored from now on are printed to the console."""
    if app.settings.discord.token is not None:
        return
    notifier = ConsoleNotifier(app.db, app.settings)
    await notifier.start_from_now()
    app.add_channel(notifier, every=5)
