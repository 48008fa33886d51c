"""Running the watchers: one poll of each, or on a schedule, with failures contained per watcher."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from ledger.database import Database
from ledger.models import EventKind
from ledger.writes import record_event
from watchers.base import PollReport, Watcher
from watchers.errors import WatcherError

log = logging.getLogger(__name__)

AfterPoll = Callable[[], Awaitable[object]]


@dataclass
class WatcherHealth:
    """A watcher's recent record: consecutive failures, and when it may run next."""

    failures: int = 0
    skip: int = 0
    last_error: str = ""
    last_ok_at: datetime | None = None  # when a poll last succeeded (for /healthz)
    height: int | None = None  # the chain height that poll saw


async def poll_once(
    watcher: Watcher, db: Database, health: WatcherHealth, *, after: Sequence[AfterPoll] = ()
) -> PollReport:
    """Poll one watcher; an exception becomes a failed report, recorded as an event when it starts and ends."""
    try:
        report = await watcher.poll()
    except Exception as exc:  # noqa: BLE001 - a watcher's failure must never stop the others
        log.warning("watcher failed chain=%s error=%s", watcher.chain, exc, exc_info=log.isEnabledFor(logging.DEBUG))
        # Our own errors say what failed; an unexpected one also names its type.
        text = str(exc) if isinstance(exc, WatcherError) else f"{type(exc).__name__}: {exc}"
        report = PollReport(chain=watcher.chain, errors=[text])
    if report.ok:
        health.last_ok_at = _now()
        health.height = report.height if report.height is not None else health.height
        if health.failures:
            async with db.session() as s:
                await record_event(s, EventKind.WATCHER_RECOVERED, chain=watcher.chain, after_failures=health.failures)
        health.failures = 0
        health.skip = 0
    else:
        health.failures += 1
        health.last_error = "; ".join(report.errors)[:500]
        # Back off: skip 1, 2, 4 ... up to 32 scheduled runs after consecutive failures.
        health.skip = min(2 ** (health.failures - 1), 32)
        if health.failures == 1:
            async with db.session() as s:
                await record_event(s, EventKind.WATCHER_FAILED, chain=watcher.chain, error=health.last_error)
    for hook in after:
        try:
            await hook()
        except Exception as exc:  # noqa: BLE001
            log.warning("after-poll step failed chain=%s error=%s", watcher.chain, exc)
    return report


class Runner:
    """Schedules each watcher at its own interval, plus periodic jobs (notifier, list updates)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.health: dict[str, WatcherHealth] = {}
        self._in_flight: set[asyncio.Task[object]] = set()

    def _track(self, fn: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
        """`fn` as a job whose run `drain` can wait for (the scheduler's shutdown would cancel it)."""

        async def job() -> None:
            task = asyncio.current_task()
            assert task is not None
            self._in_flight.add(task)  # type: ignore[arg-type]
            try:
                await fn()
            finally:
                self._in_flight.discard(task)  # type: ignore[arg-type]

        return job

    async def drain(self, timeout: float) -> bool:
        """Stop starting jobs and wait up to `timeout` s for those running; True when all finished."""
        if self.scheduler.running:
            self.scheduler.pause()
        pending = {t for t in self._in_flight if not t.done()}
        if not pending:
            return True
        done, still = await asyncio.wait(pending, timeout=timeout)
        return not still

    def add_watcher(self, watcher: Watcher, seconds: float, *, after: Sequence[AfterPoll] = ()) -> None:
        health = self.health.setdefault(watcher.chain, WatcherHealth())

        async def job() -> None:
            if health.skip:
                health.skip -= 1
                return
            await poll_once(watcher, self.db, health, after=after)

        self.scheduler.add_job(self._track(job), "interval", seconds=seconds, id=f"watch:{watcher.chain}",
                               max_instances=1, coalesce=True, next_run_time=_now())

    def add_job(self, name: str, fn: Callable[[], Awaitable[object]], seconds: float, *, start_now: bool = True) -> None:
        async def job() -> None:
            try:
                await fn()
            except Exception as exc:  # noqa: BLE001
                log.warning("job failed job=%s error=%s", name, exc)

        self.scheduler.add_job(self._track(job), "interval", seconds=seconds, id=name, max_instances=1, coalesce=True,
                               next_run_time=_now() if start_now else None)

    async def run_forever(self) -> None:
        """Run until SIGINT or SIGTERM (what Docker and systemd send), then stop the scheduler."""
        import signal

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        self.scheduler.start()
        try:
            await stop.wait()
            log.info("stopping")
        finally:
            self.scheduler.shutdown(wait=False)
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)


def _now() -> datetime:
    return datetime.now(timezone.utc)
