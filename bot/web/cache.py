"""A micro-cache of rendered answers: each distinct URL is computed at most once per few seconds.

Under a crowd (a page shared widely, 200 readers at once) the database answers one request per
URL per period instead of every one; concurrent misses of one URL wait for a single computation.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

Rendered = tuple[bytes, str]  # body, content type


class ResponseCache:
    """Rendered bodies by key for ``seconds`` (0 turns it off), at most ``max_entries`` of them."""

    def __init__(self, seconds: float, *, max_entries: int = 256, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, Rendered]] = OrderedDict()
        self._pending: dict[str, asyncio.Future[Rendered]] = {}

    async def get(self, key: str, make: Callable[[], Awaitable[Rendered]]) -> Rendered:
        """The cached answer for ``key``, or ``make()``'s (shared by every request waiting for it)."""
        if self.seconds <= 0:
            return await make()
        entry = self._entries.get(key)
        if entry is not None and self.clock() < entry[0]:
            return entry[1]
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Rendered] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            value = await make()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody is left unobserved
            raise
        finally:
            self._pending.pop(key, None)
        future.set_result(value)
        self._entries[key] = (self.clock() + self.seconds, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return value
