"""Fixtures for the page: a seeded ledger on both databases and the page served on a loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web

from bot.settings import Settings
from bot.web import add_routes
from ledger.database import Database
from tests.bot.web import seed


@dataclass
class Host:
    """What a route set takes from the App: settings and the database."""

    settings: Settings
    db: Database


@dataclass
class Served:
    """The page on a real socket: its base URL, an HTTP client, the settings and database behind it."""

    url: str
    http: aiohttp.ClientSession
    settings: Settings
    db: Database


async def serve(db: Database, cfg: Settings) -> tuple[web.AppRunner, str]:
    """Start the page for ``cfg`` on 127.0.0.1 at a free port."""
    web_app = web.Application()
    add_routes(web_app, Host(cfg, db))
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


@pytest.fixture
async def page_settings() -> Settings:
    """The seed's settings (override in a test module to change the page's options)."""
    return seed.settings()


@pytest.fixture
async def served(db: Database, page_settings: Settings) -> AsyncIterator[Served]:
    """The seeded ledger's page, served on loopback."""
    await seed.seed(db, page_settings)
    runner, url = await serve(db, page_settings)
    async with aiohttp.ClientSession() as http:
        try:
            yield Served(url, http, page_settings, db)
        finally:
            await runner.cleanup()
