"""What route handlers share: the key under which `app.http` holds the App, and a getter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from bot.app import App

APP_KEY: web.AppKey[App] = web.AppKey("donation_watch_app")


def app_of(request: web.Request) -> App:
    """The App serving this request (handlers take their database, settings, screener from it)."""
    return request.app[APP_KEY]
