"""Errors of the valuation room: a price source that failed, or has no market for an asset."""

from __future__ import annotations


class ValuationError(Exception):
    """Base of every error raised by the valuation room."""


class PriceUnavailable(ValuationError):
    """A price source could not answer: HTTP error, timeout, refused, or an answer we cannot read.

    ``status`` is the HTTP status (None for a timeout or a connection error); ``retry_after`` is
    the server's Retry-After in seconds when it sent one.
    """

    def __init__(self, source: str, status: int | None, body: str = "", *, retry_after: float | None = None,
                 retryable: bool | None = None) -> None:
        self.source = source
        self.status = status
        self.body = body[:300]
        self.retry_after = retry_after
        self._retryable = retryable
        what = f"HTTP {status}" if status is not None else "no answer"
        detail = f": {self.body}" if self.body else ""
        super().__init__(f"price source {source}: {what}{detail}")

    @property
    def retryable(self) -> bool:
        """Timeouts, refused connections, 429 and 5xx are worth another try; 4xx are not."""
        if self._retryable is not None:
            return self._retryable
        return self.status is None or self.status == 429 or self.status >= 500


class NoMarket(ValuationError):
    """A source lists no market for an asset in a currency (e.g. Coinbase has no USDC-USD book)."""

    def __init__(self, source: str, market: str) -> None:
        self.source = source
        self.market = market
        super().__init__(f"price source {source} has no market {market} (map the asset to another one in valuation.markets)")
