"""Wiring of sanctions screening into the bot's runs: lists in force at start, senders screened
after every poll, lists updated on their schedule."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.settings import Settings
from ledger.database import Database
from screening.screener import Screener
from screening.update import update_all

log = logging.getLogger(__name__)


async def after_poll_steps(settings: Settings, db: Database) -> list[Callable[[], Awaitable[Any]]]:
    """Steps to run after every watcher poll: screen the senders of what it stored."""
    screener = Screener(db)
    await screener.ensure_lists()
    return [screener.screen_new]


async def periodic_jobs(settings: Settings, db: Database) -> list[tuple[str, Callable[[], Awaitable[Any]], float]]:
    """(name, job, seconds) for the runner: the sanctions list update."""
    from bot.cli.sanctions_cmds import lists_config

    async def update() -> None:
        for result in await update_all(db, lists_config(settings)):
            if result.failed:
                log.warning("sanctions list update failed source=%s reason=%s", result.source, result.reason)
            else:
                log.info("sanctions list source=%s outcome=%s", result.source, result.outcome)

    return [("sanctions:update", update, settings.screening.update_hours * 3600)]
