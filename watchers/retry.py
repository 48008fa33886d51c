"""Retries with exponential backoff and full jitter, Retry-After, and per-source rate limits."""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aiolimiter import AsyncLimiter
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from watchers.errors import SourceUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a failing source."""

    attempts: int = 4
    base_seconds: float = 0.5
    max_seconds: float = 30.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before try number ``attempt + 1``; a server's Retry-After wins if longer."""
        backoff = random.uniform(0, min(self.max_seconds, self.base_seconds * 2 ** (attempt - 1)))
        if retry_after is not None:
            return min(max(backoff, retry_after), max(self.max_seconds, retry_after))
        return backoff


def parse_retry_after(value: str | None) -> float | None:
    """A Retry-After header in seconds; None when absent or an HTTP date (our own backoff applies)."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, SourceUnavailable) and exc.retryable


async def call_with_retry(policy: RetryPolicy, fn: Callable[[], Awaitable[T]], *, what: str = "") -> T:
    """Await ``fn()``; retry it on retryable SourceUnavailable errors as the policy says.

    The last error is raised as it was once the attempts are used up.
    """

    def _wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = exc.retry_after if isinstance(exc, SourceUnavailable) else None
        delay = policy.delay(state.attempt_number, retry_after)
        log.debug("retrying %s after %s (attempt %d, waiting %.2fs)", what or fn, exc, state.attempt_number, delay)
        return delay

    retrying = AsyncRetrying(
        stop=stop_after_attempt(policy.attempts),
        wait=_wait,
        retry=retry_if_exception(_retryable),
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            return await fn()
    raise AssertionError("unreachable")  # pragma: no cover


def rate_limiter(requests_per_second: float) -> AsyncLimiter:
    """A limiter of ``requests_per_second``: at most one second's worth in a burst; below 1/s, one per 1/rate s."""
    if requests_per_second >= 1:
        return AsyncLimiter(requests_per_second, 1.0)
    return AsyncLimiter(1, 1.0 / requests_per_second)
