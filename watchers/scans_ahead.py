"""Ranges of history fetched ahead of their consumer, in order, a few at a time."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TypeVar

T = TypeVar("T")

Range = tuple[int, int]

# Finished range scans kept ready for a consumer that is busy writing (besides those in flight).
SCANS_BUFFERED = 8


async def scans_ahead(
    scan: Callable[[int, int], Awaitable[T]], ranges: Sequence[Range], *, ahead: int = 4, buffered: int = SCANS_BUFFERED
) -> AsyncIterator[tuple[Range, T]]:
    """The scans of ``ranges`` in order, with up to ``ahead`` fetched concurrently.

    History lies still: while one range is mapped and written, the node already answers the
    next ones, so a fast node is never left waiting for the client (and a slow one is still
    asked for only a few ranges at a time). A scan is started as soon as one finishes, not
    when the caller takes the next: a transaction being written does not stall the node. At
    most ``buffered`` finished scans wait for the caller (they hold only headers and
    transfers). A failed scan cancels those in flight.
    """
    todo = iter(ranges)
    flight: deque[tuple[Range, asyncio.Future[T]]] = deque()
    ahead = max(1, ahead)
    stopped = False

    def launch(_: object = None) -> None:
        while not stopped and len(flight) < ahead + buffered and sum(not t.done() for _, t in flight) < ahead:
            rng = next(todo, None)
            if rng is None:
                return
            task = asyncio.ensure_future(scan(rng[0], rng[1]))
            task.add_done_callback(launch)
            flight.append((rng, task))

    launch()
    try:
        while flight:
            rng, task = flight[0]
            result = await task
            flight.popleft()
            launch()
            yield rng, result
    finally:
        stopped = True
        for _, task in flight:
            task.cancel()
        await asyncio.gather(*(t for _, t in flight), return_exceptions=True)
