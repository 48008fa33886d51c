"""Wiring of sanctions screening into the bot's runs (filled in when screening lands)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.settings import Settings
from ledger.database import Database


async def after_poll_steps(settings: Settings, db: Database) -> list[Callable[[], Awaitable[Any]]]:
    """Steps to run after every watcher poll."""
    return []


async def periodic_jobs(settings: Settings, db: Database) -> list[tuple[str, Callable[[], Awaitable[Any]], float]]:
    """(name, job, seconds) for the runner."""
    return []
