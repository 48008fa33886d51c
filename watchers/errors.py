"""Errors of the watchers room: a source that failed, an answer that made no sense, a bad address."""

from __future__ import annotations


class WatcherError(Exception):
    """Base of every error raised by a watcher."""


class SourceUnavailable(WatcherError):
    """A chain source (RPC node, Esplora server) could not answer: HTTP error, timeout, refused.

    ``status`` is the HTTP status (None for a timeout or a connection error); ``retry_after`` is
    the server's Retry-After in seconds when it sent one.
    """

    def __init__(self, source: str, status: int | None, body: str = "", *, retry_after: float | None = None) -> None:
        self.source = source
        self.status = status
        self.body = body[:300]
        self.retry_after = retry_after
        what = f"HTTP {status}" if status is not None else "no answer"
        detail = f": {self.body}" if self.body else ""
        super().__init__(f"{source}: {what}{detail}")

    @property
    def retryable(self) -> bool:
        """Timeouts, refused connections, 429 and 5xx are worth another try; 4xx are not."""
        return self.status is None or self.status == 429 or self.status >= 500


class MalformedResponse(WatcherError):
    """A source answered, but not with what its API promises (truncated JSON, missing fields)."""

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = reason
        super().__init__(f"{source}: malformed response ({reason})")


class InvalidAddress(WatcherError, ValueError):
    """A string is not a valid address for a chain; the message says what was expected."""

    def __init__(self, chain: str, value: str, reason: str) -> None:
        self.chain = chain
        self.value = value
        self.reason = reason
        article = "an" if chain[:1] in "AEIOU" else "a"
        super().__init__(f'"{clip(value)}" is not {article} {chain} address ({reason})')


def clip(text: str, limit: int = 100) -> str:
    """``text`` for a message: whole when short, else its start and its length (never 100 KB echoed back)."""
    if len(text) <= limit:
        return text
    return f"{text[: limit - 30]}... ({len(text):,} characters)"
