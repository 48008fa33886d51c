"""Wiring of sanctions screening into the bot's runs: lists in force at start, senders screened
after every poll, lists updated on their schedule."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from collections.abc import Awaitable, Callable
from typing import Any

from bot.settings import Settings
from ledger.database import Database
from screening.screener import Screener
from screening.update import ListsConfig, update_all

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


async def after_poll_steps(settings: Settings, db: Database) -> list[Callable[[], Awaitable[Any]]]:
    """Steps to run after every watcher poll: screen the senders of what it stored."""
    screener = Screener(db)
    await screener.ensure_lists()
    return [screener.screen_new]


async def periodic_jobs(settings: Settings, db: Database) -> list[tuple[str, Callable[[], Awaitable[Any]], float]]:
    """(name, job, seconds) for the runner: the sanctions list update."""
    async def update() -> None:
        for result in await update_all(db, lists_config(settings)):
            if not result.failed:  # failures are logged, and stored for `sanctions status`, by update_all
                log.info("sanctions list source=%s outcome=%s", result.source, result.outcome)

    return [("sanctions:update", update, settings.screening.update_hours * 3600)]
