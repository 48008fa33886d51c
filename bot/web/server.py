"""Serving an aiohttp application on the page's listen address (until the runtime's App serves it)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiohttp import web

from bot.settings import Settings
from ledger.database import Database

log = logging.getLogger(__name__)


@dataclass
class Host:
    """The pieces route sets take: settings and the database."""

    settings: Settings
    db: Database


async def start(settings: Settings, db: Database) -> web.AppRunner | None:
    """Start the page's HTTP server when `page.enabled`; the caller awaits `runner.cleanup()` to stop it."""
    if not settings.page.enabled:
        return None
    from bot.web import add_routes

    web_app = web.Application()
    add_routes(web_app, Host(settings, db))
    runner = web.AppRunner(web_app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, settings.page.host, settings.page.port)
    await site.start()
    log.info("public page on http://%s:%s/", settings.page.host, settings.page.port)
    return runner
