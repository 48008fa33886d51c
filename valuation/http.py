"""What every HTTP price source shares: one session, a request-rate limit, retries, a request count.

429, 5xx, timeouts and refused connections are retried with the project's backoff
(``watchers.retry.RetryPolicy``, full jitter); a server's Retry-After wins when it is longer.
Numbers in JSON answers are read as Decimals, never floats.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import aiohttp
from valuation.errors import PriceUnavailable
from watchers.retry import RetryPolicy, parse_retry_after, rate_limiter

log = logging.getLogger(__name__)


class HttpSource:
    """Base of the HTTP price sources: ``get_json`` with a rate limit, retries and a request count."""

    name = "http"

    def __init__(
        self,
        url: str,
        *,
        requests_per_second: float,
        timeout_seconds: float = 20.0,
        retry: RetryPolicy | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.limiter = rate_limiter(requests_per_second)
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._retry = retry or RetryPolicy()
        self._session = session
        self._own_session = session is None
        self.requests = 0

    async def close(self) -> None:
        """Close the HTTP session if this source made it."""
        if self._session is not None and self._own_session:
            await self._session.close()
        self._session = None

    async def get_json(
        self,
        path: str,
        params: Mapping[str, str],
        *,
        headers: Mapping[str, str] | None = None,
        check: Callable[[Any], Any] | None = None,
    ) -> Any:
        """GET ``path`` and parse its JSON (numbers as Decimal), retrying what is worth retrying.

        ``check`` reads the parsed body and may raise ``PriceUnavailable`` for an error reported
        inside a 200 answer; a retryable one is retried like a 429.
        """
        attempt = 0
        while True:
            attempt += 1
            try:
                body = await self._get_once(path, params, headers)
                return check(body) if check is not None else body
            except PriceUnavailable as exc:
                if not exc.retryable or attempt >= self._retry.attempts:
                    raise
                delay = self._retry.delay(attempt, exc.retry_after)
                log.debug("retrying source=%s path=%s after %s (attempt %d, waiting %.2fs)", self.name, path, exc, attempt, delay)
                await asyncio.sleep(delay)

    async def _get_once(self, path: str, params: Mapping[str, str], headers: Mapping[str, str] | None) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        async with self.limiter:
            self.requests += 1
            try:
                async with self._session.get(self.url + path, params=params, headers=headers, timeout=self._timeout) as resp:
                    text = await resp.text(errors="replace")
                    status = resp.status
                    retry_after = parse_retry_after(resp.headers.get("Retry-After"))
            except (asyncio.TimeoutError, aiohttp.ServerTimeoutError):
                raise PriceUnavailable(self.name, None, f"{path}: timed out") from None
            except aiohttp.ClientPayloadError as exc:
                raise PriceUnavailable(self.name, None, f"{path}: body cut short ({exc})") from None
            except aiohttp.ClientError as exc:
                raise PriceUnavailable(self.name, None, f"{path}: {type(exc).__name__}: {exc}") from None
        try:
            body = json.loads(text, parse_float=Decimal)
        except ValueError:
            if status == 200:
                raise PriceUnavailable(self.name, status, f"{path}: not JSON ({len(text)} bytes)", retryable=False) from None
            body = None
        if status != 200:
            raise self.http_error(path, status, body, text, retry_after)
        return body

    def http_error(self, path: str, status: int, body: Any, text: str, retry_after: float | None) -> Exception:
        """The error for a non-200 answer; sources override it to recognise "no such market"."""
        return PriceUnavailable(self.name, status, f"{path}: {text.strip()}", retry_after=retry_after)
