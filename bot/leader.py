"""Work that runs in one instance at a time when several share one ledger: singleton jobs (under
a database lock; the others skip that tick) and leader-elected services such as the Discord
gateway (two clients on one token both receive every interaction and race: error 40060).

The locks are `ledger.locks.named_lock`: a PostgreSQL session advisory lock on a connection of
its own (released by the server the moment the holder's connection drops, e.g. SIGKILL), or an
flock beside a SQLite file. A standby tries again every `LEASE_SECONDS`, so after the leader dies
another instance leads within one lease period (5 s).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

LEASE_SECONDS = 5.0


def singleton(app: App, name: str, fn: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[object]]:
    """`fn` run only while this instance holds the job's database lock; a tick another instance holds is skipped."""
    from ledger.locks import lock_name, named_lock

    async def once() -> object:
        async with named_lock(app.db, lock_name("job", name)) as held:
            if not held:
                log.debug("job %s runs in another instance; skipped here", name)
                return None
            return await fn()

    return once


async def lead(app: App, name: str, service: Callable[[], Awaitable[object]], *, lease: float = LEASE_SECONDS) -> None:
    """Forever: become the leader for `name` when no other instance is, and run `service` while leading.

    `service` is a long-running coroutine function (it is cancelled when `run` stops); if it
    returns or fails, leadership is given up and sought again after one lease period.
    """
    from ledger.locks import lock_name, named_lock

    standby_said = False
    while True:
        async with named_lock(app.db, lock_name("leader", name)) as held:
            if held:
                standby_said = False
                app.leading.add(name)
                log.info("leader for %s: starting it in this instance", name)
                try:
                    await service()
                    log.warning("%s returned; giving up leadership", name)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - a failed service is retried, by us or a standby
                    log.warning("%s failed: %s; giving up leadership", name, exc, exc_info=True)
                finally:
                    app.leading.discard(name)
            elif not standby_said:
                log.info("standby for %s: another instance leads; trying again every %.0f s", name, lease)
                standby_said = True
        await asyncio.sleep(lease)
