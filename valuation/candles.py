"""Time buckets, pages of candles, and the price a bucket gets from the candles around it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Quote:
    """A price and the start of the candle (or the time of the trade) it was taken from, unix seconds."""

    price: Decimal
    candle_time: int


class PriceSource(Protocol):
    """A source of historical prices: yields, page by page, quotes for time buckets."""

    name: str
    requests: int

    def pages(self, base: str, currency: str, buckets: Sequence[int], granularity: int, now: int) -> AsyncIterator[dict[int, Quote]]:
        """Quotes for the sorted ``buckets`` (unix starts), one dict per request; it may hold more
        buckets than asked (a whole page). Raises ``NoMarket`` or ``PriceUnavailable``."""
        ...

    async def close(self) -> None: ...


def bucket_of(ts: int, granularity: int) -> int:
    """The start of the bucket holding unix time ``ts``."""
    return ts - ts % granularity


def unix(moment: datetime) -> int:
    """A tz-aware time as whole unix seconds."""
    return int(moment.timestamp())


def utc(ts: int) -> datetime:
    """Unix seconds as a tz-aware UTC datetime."""
    return datetime.fromtimestamp(ts, timezone.utc)


def iso(ts: int) -> str:
    """Unix seconds as ISO 8601 UTC ("2024-01-01T00:00:00Z")."""
    return utc(ts).strftime("%Y-%m-%dT%H:%M:%SZ")


def cover(buckets: Sequence[int], granularity: int, width: int) -> list[int]:
    """The fewest pages of ``width`` buckets covering every bucket: each page starts at the first
    bucket not yet covered (greedy, which is optimal for points on a line)."""
    starts: list[int] = []
    end = None
    for b in sorted(buckets):
        if end is None or b >= end:
            starts.append(b)
            end = b + width * granularity
    return starts


def fill(candles: Mapping[int, tuple[Decimal, Decimal]], start: int, stop: int, granularity: int) -> dict[int, Quote]:
    """A quote for every bucket in ``[start, stop)`` from ``candles`` (start -> (open, close)).

    A bucket with a candle gets its close. Exchanges omit buckets without trades; such a bucket
    gets the last earlier candle's close (the price last traded), or, before the first candle,
    the next candle's open (the first price traded after it). No candles at all, no quotes.
    """
    if not candles:
        return {}
    times = sorted(candles)
    out: dict[int, Quote] = {}
    last: int | None = None
    nxt = 0
    for b in range(start, stop, granularity):
        while nxt < len(times) and times[nxt] <= b:
            last = times[nxt]
            nxt += 1
        if last is not None:
            out[b] = Quote(candles[last][1], last)
        elif nxt < len(times):
            out[b] = Quote(candles[times[nxt]][0], times[nxt])
    return out
