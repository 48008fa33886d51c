"""What every HTTP answer goes through: read-only methods, a per-client rate limit, security headers."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# No inline script or style anywhere: scripts and the stylesheet are files served by the bot; the
# QR codes, the chart and the goal bar are inline SVG (markup, not styles).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The page's own paths: read-only and rate-limited. Other route sets on the same server (/healthz,
# /metrics) keep their own rules; every answer gets the security headers.
PAGE_PATHS = ("/api/", "/static/")


def is_page_path(path: str) -> bool:
    """Whether a request path belongs to the public page (`/`, `/api/...`, `/static/...`)."""
    return path == "/" or path.startswith(PAGE_PATHS)


class RateLimiter:
    """A token bucket per client: ``per_minute`` requests a minute, bursts up to the same number.

    Keeps at most ``max_clients`` buckets (least recently seen dropped first), so a flood of
    addresses cannot grow memory without bound.
    """

    def __init__(self, per_minute: int, *, max_clients: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(per_minute)
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str) -> float:
        """Take one request for ``client``: 0 when allowed, else the seconds until the next one is."""
        now = self.clock()
        tokens, at = self._buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.rate
        self._buckets[client] = (tokens, now)
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait


def client_of(request: web.Request, *, trust_forwarded_for: bool) -> str:
    """Who is asking: the peer address, or the first X-Forwarded-For entry behind a trusted proxy."""
    if trust_forwarded_for:
        forwarded = request.headers.get("X-Forwarded-For", "")
        first = forwarded.split(",", 1)[0].strip()
        if first:
            return first
    return request.remote or "unknown"


def middlewares(per_minute: int, *, trust_forwarded_for: bool = False) -> list[Callable[..., Awaitable[web.StreamResponse]]]:
    """The guard as aiohttp middlewares, outermost first."""
    limiter = RateLimiter(per_minute)

    @web.middleware
    async def headers(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            response = exc
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if isinstance(response, web.HTTPException):
            raise response
        return response

    @web.middleware
    async def read_only(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method not in READ_METHODS and is_page_path(request.path):
            raise web.HTTPMethodNotAllowed(request.method, sorted(READ_METHODS), text="read-only: only GET and HEAD\n")
        return await handler(request)

    @web.middleware
    async def rate_limit(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not is_page_path(request.path):
            return await handler(request)
        wait = limiter.take(client_of(request, trust_forwarded_for=trust_forwarded_for))
        if wait > 0:
            raise web.HTTPTooManyRequests(
                text="too many requests: slow down and retry after the Retry-After seconds\n",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        return await handler(request)

    return [headers, read_only, rate_limit]
