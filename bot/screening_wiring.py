"""Wiring of sanctions screening into the bot's runs: lists in force at start, senders screened
after every poll, lists updated on their schedule."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.settings import Settings
from screening.errors import ScreeningListError
from screening.update import ListsConfig, update_all

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)


def lists_config(settings: Settings) -> ListsConfig:
    """The screening room's view of the settings."""
    sc = settings.screening
    return ListsConfig(
        ofac_url=sc.ofac_url,
        download_dir=Path(settings.data_dir) / "sanctions",
        extra_lists=tuple(sc.extra_lists),
        own_list=sc.own_list,
        opensanctions_file=sc.opensanctions_file,
        timeout=sc.download_timeout_seconds,
        max_bytes=sc.max_download_mb * 1024 * 1024,
        max_age=timedelta(days=sc.max_list_age_days),
    )


async def setup(app: App) -> None:
    """Plugin: the bundled list in force on first start, senders screened after every poll, lists updated."""
    await app.screener.ensure_lists()
    app.add_after_poll(app.screener.screen_new)

    async def update() -> None:
        results = await update_all(app.db, lists_config(app.settings))
        for result in results:
            if not result.failed:  # failures are logged, and stored for `sanctions status`, by update_all
                log.info("sanctions list source=%s outcome=%s", result.source, result.outcome)
        failed = [r for r in results if r.failed]
        if failed:  # the job failed: counted in the runner's job health (the last good lists stay in force)
            raise ScreeningListError(", ".join(r.source for r in failed), "; ".join(r.reason or "failed" for r in failed))

    app.add_job("sanctions:update", update, app.settings.screening.update_hours * 3600, role="watchers", singleton=True)
