"""The page and JSON API handlers: `/`, `/api/v1/totals`, `/api/v1/donations`, `/api/v1/wallets`, the export.

Every handler only reads. Figures come from `FigureSource` (running totals live, full-scan figures
cached), donation pages by keyset; nothing from settings but the public page settings is shown.
"""

from __future__ import annotations

import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web
from markupsafe import Markup, escape

from bot import export, fiat
from bot.qr import qr_svg
from bot.settings import Settings
from bot.wallet_cards import wallet_card
from bot.web import guard, present
from bot.web.cache import ResponseCache
from bot.web.chart_svg import asset_chart
from bot.web.explorers import Explorers
from bot.web.figures import FigureSource, cumulative
from ledger.database import Database
from ledger.donations import donation_page

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
PAGE_SIZE = 20
MAX_LIMIT = 100


def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every value is escaped unless it is Markup we made (QR and chart SVG)
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        amount=present.amount_text, money=present.money, when=present.when, short=present.short, iso=present.iso
    )
    return env


@dataclass
class PageContext:
    """What the handlers share: settings, database, figures, explorers, templates."""

    settings: Settings
    db: Database
    figures: FigureSource
    explorers: Explorers
    templates: jinja2.Environment
    cache: ResponseCache


CTX = web.AppKey("donation_watch_page", PageContext)


def _ctx(request: web.Request) -> PageContext:
    return request.app[CTX]


def _cursor(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise _bad(f"{name}={raw[:40]!r} is not a cursor from this API (use next_cursor from the previous page)")
    return int(raw)


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit", str(PAGE_SIZE))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise _bad(f"limit={raw[:40]!r} must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=web.json_response({"error": message}).text, content_type="application/json")


async def _cached(request: web.Request, make) -> web.Response:  # type: ignore[no-untyped-def]
    """The answer for this URL from the micro-cache (computed by ``make`` at most once per period)."""
    body, content_type = await _ctx(request).cache.get(request.path_qs, make)
    headers = {"Cache-Control": f"public, max-age={int(_ctx(request).cache.seconds)}"}
    if content_type == "application/json":
        headers["Access-Control-Allow-Origin"] = "*"  # public, read-only figures: any site may show them
    return web.Response(body=body, content_type=content_type, charset="utf-8", headers=headers)


async def index(request: web.Request) -> web.Response:
    """The public page."""
    try:
        before = _cursor(request, "before")
    except web.HTTPBadRequest:
        raw = request.query.get("before", "")
        raise _bad_page(request, f"before={raw[:40]!r} is not a place in the list of donations "
                                 "(follow the page's \u201cOlder donations\u201d link, or start from the newest)") from None
    return await _cached(request, lambda: _render_index(request, before))


def _bad_page(request: web.Request, message: str) -> web.HTTPBadRequest:
    """A 400 on the page: for a browser, a small HTML page with the one line and a way back; JSON otherwise."""
    if "text/html" not in request.headers.get("Accept", ""):
        return _bad(message)
    title = escape(_ctx(request).settings.page.title)
    html = (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}: bad link</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="stylesheet" href="/static/style.css"></head>\n<body><main><h1>{title}</h1>\n'
            f'<p role="alert">{escape(message)}</p>\n<p><a href="/">The newest donations</a></p></main></body></html>\n')
    return web.HTTPBadRequest(text=html, content_type="text/html")


async def _render_index(request: web.Request, before: int | None) -> tuple[bytes, str]:
    ctx = _ctx(request)
    figures = await ctx.figures.figures()
    async with ctx.db.session() as s:
        page = await donation_page(s, limit=PAGE_SIZE, before=before)
        values = await fiat.values_of(s, [d.id for d in page.items], ctx.settings.valuation.currency)
    charts = [asset_chart(asset, decimals, points) for asset, (decimals, points) in cumulative(figures.slow.daily).items()]
    cards = [wallet_card(ctx.settings, w.id, w.chain, w.address, w.label, w.next_address) for w in figures.wallets]
    wallets = [{"card": card, "qr": _qr(card.qr_text)} for card in cards]
    goal_decimals = present.goal_decimals(figures.goal, figures) if figures.goal else 0
    html = ctx.templates.get_template("index.html").render(
        page=ctx.settings.page, figures=figures, wallets=wallets, charts=charts, donations=page, values=values,
        explorers=ctx.explorers, goal=figures.goal, goal_decimals=goal_decimals, before=before,
        to_units=present.to_units,
    )
    return html.encode(), "text/html"


def _qr(text: str | None) -> Markup | None:
    """The inline SVG QR code of ``text`` with its accessible name, or None."""
    if text is None:
        return None
    return Markup(qr_svg(text).replace("<svg ", f'<svg role="img" aria-label="QR code of {escape(text)}" ', 1))


async def totals(request: web.Request) -> web.Response:
    """GET /api/v1/totals."""

    async def make() -> tuple[bytes, str]:
        return _json_body(present.totals_json(await _ctx(request).figures.figures()))

    return await _cached(request, make)


async def donations(request: web.Request) -> web.Response:
    """GET /api/v1/donations?limit=&cursor= — keyset pages, newest stored first."""
    ctx = _ctx(request)
    limit, before = _limit(request), _cursor(request, "cursor")

    async def make() -> tuple[bytes, str]:
        async with ctx.db.session() as s:
            page = await donation_page(s, limit=limit, before=before)
            values = await fiat.values_of(s, [d.id for d in page.items], ctx.settings.valuation.currency)
        return _json_body({
            "schema_version": present.SCHEMA_VERSION,
            "items": [present.donation_json(d, ctx.explorers, values.get(d.id)) for d in page.items],
            "next_cursor": None if page.next_before is None else str(page.next_before),
        })

    return await _cached(request, make)


async def wallets(request: web.Request) -> web.Response:
    """GET /api/v1/wallets."""
    ctx = _ctx(request)

    async def make() -> tuple[bytes, str]:
        return _json_body(present.wallets_json(await ctx.figures.figures(), ctx.explorers))

    return await _cached(request, make)


async def export_csv(request: web.Request) -> web.StreamResponse:
    """GET /api/v1/export.csv — the accounting export, only with the bearer token (404 when none is set)."""
    ctx = _ctx(request)
    token = ctx.settings.page.export_token
    if token is None:
        raise web.HTTPNotFound(text="the export is off: set DONATION_WATCH_PAGE__EXPORT_TOKEN to turn it on\n")
    given = request.headers.get("Authorization", "")
    expected = "Bearer " + token.get_secret_value()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise web.HTTPUnauthorized(text="a bearer token is required (Authorization: Bearer <token>)\n",
                                   headers={"WWW-Authenticate": 'Bearer realm="export"'})
    since, until = _date_param(request, "since"), _date_param(request, "until")
    response = web.StreamResponse(headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": 'attachment; filename="donations.csv"',
        "Cache-Control": "no-store",
    })
    await response.prepare(request)
    async for chunk in export.stream(ctx.db, "csv", since=since, until=until, currency=ctx.settings.valuation.currency):
        await response.write(chunk.encode())
    await response.write_eof()
    return response


def _date_param(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise _bad(f"{name}={raw[:40]!r} is not a date (use YYYY-MM-DD)") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _json_body(data: dict[str, Any]) -> tuple[bytes, str]:
    return json.dumps(data, separators=(",", ":")).encode(), "application/json"


def add_page_routes(web_app: web.Application, app: Any) -> None:
    """The page's routes and middlewares on ``web_app``, reading from ``app.db`` with ``app.settings``."""
    settings = app.settings
    ctx = PageContext(settings=settings, db=app.db, figures=FigureSource(app.db, settings),
                      explorers=Explorers(settings), templates=_templates(),
                      cache=ResponseCache(settings.page.cache_seconds))
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

    async def _warm(_: web.Application) -> None:
        # The full-scan figures start computing when the server starts, not on the first reader's request.
        ctx.figures.warm()

    async def _close(_: web.Application) -> None:
        await ctx.figures.close()

    web_app.on_startup.append(_warm)
    web_app.on_cleanup.append(_close)
