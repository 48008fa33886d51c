"""Plugin: the public transparency page and its JSON API, as one route set on the App's HTTP server.

`setup(app)` registers `add_routes` when `page.enabled` is true; `add_routes(web_app, app)` takes
anything with `.settings` and `.db` (the composition root's `App`). Heavy imports (Jinja2, segno)
happen only when the routes are added, so commands that never serve HTTP do not pay for them.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def add_routes(web_app: Any, app: Any) -> None:
    """Register the page, the JSON API, the export and the static files, behind the guard middlewares."""
    from bot.web.routes import add_page_routes

    add_page_routes(web_app, app)


def setup(app: Any) -> None:
    """Plugin: serve the page on `[http]` host/port when `page.enabled`."""
    if not app.settings.page.enabled:
        return
    if not app.settings.http.enabled:
        log.warning("page.enabled is true but http.enabled is false: the public page is not served "
                    "(set [http] enabled = true)")
    app.add_routes(add_routes)
