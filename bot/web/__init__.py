"""The public transparency page and its JSON API, as one route set: `add_routes(web_app, app)`.

`app` is anything with `.settings` and `.db` (the composition root's `App`). Nothing is added
unless `page.enabled` is true.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.web import guard
from bot.web.explorers import Explorers
from bot.web.figures import FigureSource
from bot.web.routes import CTX, HERE, PageContext, _templates, donations, export_csv, index, totals, wallets


def add_routes(web_app: web.Application, app: Any) -> None:
    """Register the page, the JSON API, the export and the static files, behind the guard middlewares."""
    settings = app.settings
    if not settings.page.enabled:
        return
    ctx = PageContext(
        settings=settings, db=app.db, figures=FigureSource(app.db, settings), explorers=Explorers(settings),
        templates=_templates(),
    )
    web_app[CTX] = ctx
    web_app.middlewares.extend(
        guard.middlewares(settings.page.rate_limit_per_minute, trust_forwarded_for=settings.page.trust_forwarded_for)
    )
    web_app.router.add_get("/", index)
    web_app.router.add_get("/api/v1/totals", totals)
    web_app.router.add_get("/api/v1/donations", donations)
    web_app.router.add_get("/api/v1/wallets", wallets)
    web_app.router.add_get("/api/v1/export.csv", export_csv)
    web_app.router.add_static("/static/", HERE / "static", show_index=False, follow_symlinks=False)

    async def _close(_: web.Application) -> None:
        await ctx.figures.close()

    web_app.on_cleanup.append(_close)
