"""The page as a plugin of the App: its routes join the one HTTP server only when page.enabled."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from aiohttp import web

from bot.app import App
from ledger.database import Database
from tests.bot.test_app import settings_for


async def get_status(web_app: web.Application, path: str) -> tuple[int, str]:
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}{path}") as r:
            return r.status, await r.text()
    finally:
        await runner.cleanup()


class TestPlugin:
    async def test_enabled_page_is_served_beside_healthz(self, db: Database, tmp_path: Path) -> None:
        """With page.enabled the App's server answers / with the page titled from settings, and /healthz still."""
        settings = settings_for(db, tmp_path, '[page]\nenabled = true\ntitle = "Our fund"\n')
        async with await App.open(settings) as app:
            await app.setup()
            status, html = await get_status(app.http, "/")
            assert status == 200 and "<title>Our fund</title>" in html
            assert any(r.resource.canonical == "/healthz" for r in app.http.router.routes() if r.resource)

    async def test_disabled_page_adds_no_route(self, db: Database, tmp_path: Path) -> None:
        """With page.enabled = false, / and /api/v1/totals are not routes of the App's server."""
        async with await App.open(settings_for(db, tmp_path)) as app:
            await app.setup()
            paths = {r.resource.canonical for r in app.http.router.routes() if r.resource}
        assert "/" not in paths and "/api/v1/totals" not in paths
