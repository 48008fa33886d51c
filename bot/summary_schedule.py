"""When the daily summary is due: at `summary.time` in `summary.timezone`; a missed one once on start.

The job only makes the summary due (a ``summary.due`` event, once per local date, kept in the
database); every channel then delivers it like any other message.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ledger.summary_runs import any_summary_run, make_summary_due
from ledger.types import utcnow

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)


def latest_due(now: datetime, at: time, zone: str) -> datetime:
    """The most recent scheduled moment at or before ``now`` (tz-aware, in the summary's zone)."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    due = datetime.combine(local.date(), at, tzinfo=tz)
    if due > local:
        due = datetime.combine(local.date() - timedelta(days=1), at, tzinfo=tz)
    return due


async def check_summary_due(app: App, *, now: datetime | None = None) -> bool:
    """Make the latest scheduled summary due if it is not yet; on a brand-new ledger, only those after start."""
    now = now or utcnow()
    due = latest_due(now, app.settings.summary.time, app.settings.summary.timezone)
    async with app.db.session() as s:
        if due < app.started_at and not await any_summary_run(s):
            return False  # nothing was missed: the bot has never run at that time
        made = await make_summary_due(s, due.date().isoformat())
    if made:
        log.info("daily summary due day=%s", due.date())
    return made


def setup(app: App) -> None:
    """Plugin: check every minute (one instance at a time) whether the daily summary is due."""

    async def job() -> None:
        await check_summary_due(app)

    app.add_job("summary:due", job, 60, role="bot", singleton=True)
