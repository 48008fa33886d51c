"""Running the watchers: one poll of each, or on a schedule, with failures contained per watcher."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.errors import BotError
from ledger.database import Database
from ledger.errors import LedgerError
from ledger.models import EventKind
from ledger.writes import record_event
from screening.errors import ScreeningError
from watchers.base import PollReport, Watcher
from watchers.errors import WatcherError

log = logging.getLogger(__name__)

AfterPoll = Callable[[], Awaitable[object]]
# Our own errors name the thing, the value and the fix: their one line is the whole story. Anything
# else is a bug or a surprise, and its traceback is logged (once per failure streak).
EXPECTED_ERRORS: tuple[type[BaseException], ...] = (WatcherError, ScreeningError, LedgerError, BotError)


@dataclass
class JobHealth:
    """A job's (or an after-poll step's) recent record: runs, consecutive failures, the last error."""

    runs: int = 0
    failures: int = 0  # consecutive, reset by a success
    total_failures: int = 0
    last_error: str = ""
    last_ok_at: datetime | None = None
    last_failed_at: datetime | None = None


@dataclass
class WatcherHealth:
    """A watcher's recent record: consecutive failures, and when it may run next."""

    failures: int = 0
    skip: int = 0
    last_error: str = ""
    last_ok_at: datetime | None = None  # when a poll last succeeded (for /healthz)
    height: int | None = None  # the chain height that poll saw
    # The steps run after each poll (screening ...), by name: they fail and recover on their own.
    steps: dict[str, JobHealth] = field(default_factory=dict)
    # A failure streak is announced (watcher.failed, and its end as watcher.recovered) only once it
    # has lasted this long: alerts.watcher_unhealthy_minutes, so a blip or a restart is not news.
    announce_after_seconds: float = 0.0
    failing_since: datetime | None = None
    announced: bool = False


def describe_error(exc: BaseException) -> str:
    """One line for an error, as people may read it: ours as they are, a database error by its driver's
    first line (never the SQL and its parameters), anything else by type and first line."""
    if isinstance(exc, EXPECTED_ERRORS):
        return str(exc)
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError) and exc.orig is not None:
        first = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
        return f"database error: {first}"[:500]
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}"[:500]


def _step_name(fn: Callable[..., object]) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


async def run_guarded(what: str, fn: Callable[[], Awaitable[object]], health: JobHealth) -> bool:
    """Run ``fn``; a failure is contained, counted in ``health`` and logged: with its traceback on
    the first failure of a streak (for unexpected errors), as one line after that, and its end noted."""
    health.runs += 1
    try:
        await fn()
    except Exception as exc:  # noqa: BLE001 - a job's failure must never stop the scheduler
        health.failures += 1
        health.total_failures += 1
        health.last_failed_at = _now()
        expected = isinstance(exc, EXPECTED_ERRORS)
        health.last_error = describe_error(exc)[:500]
        if health.failures == 1:
            log.error("%s failed: %s", what, health.last_error, exc_info=not expected or log.isEnabledFor(logging.DEBUG))
        else:
            log.warning("%s failed again (%d in a row): %s", what, health.failures, health.last_error)
        return False
    if health.failures:
        log.info("%s works again after %d failure(s)", what, health.failures)
    health.failures = 0
    health.last_ok_at = _now()
    return True


INSTANCE = f"{socket.gethostname()}:{os.getpid()}"


async def _share_good_poll(db: Database, chain: str, health: WatcherHealth) -> None:
    """Tell the other instances (their /healthz) that this chain is followed; a failure here is only logged."""
    from ledger.chain_health import record_good_poll

    try:
        async with db.session() as s:
            await record_good_poll(s, chain, health.last_ok_at or _now(), health.height, INSTANCE)
    except Exception as exc:  # noqa: BLE001 - the poll itself succeeded and is stored
        log.warning("could not note the good poll of %s for other instances: %s", chain, describe_error(exc))


async def poll_once(
    watcher: Watcher, db: Database, health: WatcherHealth, *, after: Sequence[AfterPoll] = ()
) -> PollReport:
    """Poll one watcher; an exception becomes a failed report, recorded as an event when it starts and ends."""
    try:
        report = await watcher.poll()
    except Exception as exc:  # noqa: BLE001 - a watcher's failure must never stop the others
        # Our own errors say what failed; an unexpected one also names its type, and its traceback
        # is logged on the first failure of a streak.
        expected = isinstance(exc, EXPECTED_ERRORS)
        text = describe_error(exc)
        if health.failures == 0 and not expected:
            log.error("watcher crashed chain=%s error=%s", watcher.chain, text, exc_info=True)
        else:  # the failed report says it (a scheduled run logs it once per streak, `poll --once` prints it)
            log.debug("watcher failed chain=%s error=%s", watcher.chain, text, exc_info=log.isEnabledFor(logging.DEBUG))
        report = PollReport(chain=watcher.chain, errors=[text])
    if report.skipped:
        # Another instance holds this chain's poll lock and polls it: no news about this one's health.
        return report
    if report.ok:
        health.last_ok_at = _now()
        health.height = report.height if report.height is not None else health.height
        await _share_good_poll(db, watcher.chain, health)
        if health.announced:
            async with db.session() as s:
                await record_event(s, EventKind.WATCHER_RECOVERED, chain=watcher.chain, after_failures=health.failures)
        health.failures = 0
        health.skip = 0
        health.failing_since = None
        health.announced = False
    else:
        health.failures += 1
        health.last_error = "; ".join(report.errors)[:500]
        # Back off: skip 1, 2, 4 ... up to 32 scheduled runs after consecutive failures.
        health.skip = min(2 ** (health.failures - 1), 32)
        now = _now()
        health.failing_since = health.failing_since or now
        if not health.announced and (now - health.failing_since).total_seconds() >= health.announce_after_seconds:
            health.announced = True
            async with db.session() as s:
                await record_event(s, EventKind.WATCHER_FAILED, chain=watcher.chain, error=health.last_error)
    for hook in after:
        name = _step_name(hook)
        step = health.steps.setdefault(name, JobHealth())
        await run_guarded(f"after-poll step {name} (chain {watcher.chain})", hook, step)
    return report


def tell_streak(chain: str, failures_before: int, report: PollReport, health: WatcherHealth) -> None:
    """Log a chain's failing polls once when the streak starts and once when it ends, never per poll
    (each poll retries every source several times: offline, that was a screenful a minute)."""
    if report.skipped:
        return
    if not report.ok and failures_before == 0:
        log.warning("chain=%s: poll failed: %s (retrying with back-off; said again when a poll works)",
                    chain, health.last_error)
    elif report.ok and failures_before:
        log.info("chain=%s: polls work again after %d failed", chain, failures_before)


class Runner:
    """Schedules each watcher at its own interval, plus periodic jobs (notifier, list updates)."""

    def __init__(self, db: Database, *, watcher_unhealthy_seconds: float = 0.0) -> None:
        self.db = db
        self.watcher_unhealthy_seconds = watcher_unhealthy_seconds  # alerts.watcher_unhealthy_minutes
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.health: dict[str, WatcherHealth] = {}
        self.jobs: dict[str, JobHealth] = {}
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
        health = self.health.setdefault(watcher.chain, WatcherHealth(announce_after_seconds=self.watcher_unhealthy_seconds))

        async def job() -> None:
            if health.skip:
                health.skip -= 1
                return
            before = health.failures
            report = await poll_once(watcher, self.db, health, after=after)
            tell_streak(watcher.chain, before, report, health)

        self.scheduler.add_job(self._track(job), "interval", seconds=seconds, id=f"watch:{watcher.chain}",
                               max_instances=1, coalesce=True, next_run_time=_now())

    def add_job(self, name: str, fn: Callable[[], Awaitable[object]], seconds: float, *, start_now: bool = True) -> None:
        """Run ``fn`` every ``seconds``; its failures are contained and counted in ``self.jobs[name]``."""
        health = self.jobs.setdefault(name, JobHealth())

        async def job() -> None:
            await run_guarded(f"job {name}", fn, health)

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
