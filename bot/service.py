"""`donation-watch run`: the App's watchers, jobs and channels on a schedule, its HTTP server, and
a bounded, clean stop on SIGTERM/SIGINT (no new work, the job in flight finished, channels flushed)."""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web

    from bot.app import App

log = logging.getLogger(__name__)


def schedule(app: App) -> None:
    """Put this instance's share of the work on the App's scheduler: polls, then registered jobs."""
    runner, metrics = app.runner, app.metrics
    if app.runs("watchers"):
        for name, watcher in app.watchers.items():
            runner.add_watcher(metrics.metered(watcher), app.settings.chains[name].poll_seconds, after=app.after_poll)
    from bot.leader import singleton

    for job in app.jobs:
        if app.runs(job.role):
            fn = singleton(app, job.name, job.fn) if job.singleton else job.fn
            runner.add_job(job.name, metrics.job(job.name, fn), job.seconds, start_now=job.start_now)


def start_services(app: App) -> list[asyncio.Task[None]]:
    """Start this instance's services: leader-elected ones through `bot.leader.lead`."""
    from bot.leader import lead

    tasks = []
    for spec in app.services:
        if not app.runs(spec.role):
            continue
        coro = lead(app, spec.name, spec.run) if spec.leader else _plain(spec.name, spec.run)
        tasks.append(asyncio.create_task(coro, name=f"service:{spec.name}"))
    return tasks


async def _plain(name: str, run: Callable[[], Awaitable[object]]) -> None:
    try:
        await run()
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - a service's failure must not stop the process
        log.error("service %s failed: %s", name, exc, exc_info=True)


async def start_http(app: App) -> web.AppRunner | None:
    """Serve `app.http` on the configured address (`http.port = 0` picks a free port; logged)."""
    from aiohttp import web

    from bot.errors import ConfigError

    cfg = app.settings.http
    if not cfg.enabled:
        return None
    runner = web.AppRunner(app.http, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, cfg.host, cfg.port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        why = "another program listens there" if exc.errno == errno.EADDRINUSE else exc.strerror
        raise ConfigError(app.settings.origin_of("http.port"), "http.port", f"cannot listen on {cfg.host}:{cfg.port} ({why}); "
                          "choose a free port or set http.enabled = false") from None
    for address in runner.addresses:
        host, port = address[0], address[1]
        log.info("http listening on http://%s:%s (/healthz, /metrics)", host, port)
        app.http_port = port
    return runner


async def serve(app: App) -> None:
    """Run until SIGTERM/SIGINT, then stop within `stop_seconds`: drain jobs, flush channels, close."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    http = None
    services: list[asyncio.Task[None]] = []
    try:
        await app.setup()
        schedule(app)
        http = await start_http(app)
        services = start_services(app)
        # Everything loaded at start-up (modules, settings, the screening index) lives for the whole
        # run: moved out of the collector's sight, it no longer makes every full collection, which
        # holds the one event loop, take hundreds of milliseconds.
        gc.freeze()
        app.runner.scheduler.start()
        await stop.wait()
        await shutdown(app)
    finally:
        for task in services:  # the gateway and other services stop (a leader's lock is released)
            task.cancel()
        if services:
            await asyncio.wait(services, timeout=app.settings.stop_seconds)
        if http is not None:
            await http.cleanup()
        if app.runner.scheduler.running:
            app.runner.scheduler.shutdown(wait=False)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def shutdown(app: App) -> None:
    """Take no new work, let jobs in flight finish, flush every channel once more — all within `stop_seconds`."""
    budget = app.settings.stop_seconds
    deadline = asyncio.get_running_loop().time() + budget
    log.info("stopping: no new work; jobs in flight get up to %.0f s", budget)
    if not await app.runner.drain(budget * 0.6):
        log.warning("stopping: a job did not finish in time and is cancelled (its transaction rolls back)")
    for channel in app.channels.values():
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            log.warning("stopping: no time left to flush channel %s", channel.name)
            continue
        try:
            await asyncio.wait_for(channel.flush(), timeout=left)
        except Exception as exc:  # noqa: BLE001 - one channel's failure must not stop the others' flush
            log.warning("stopping: flushing channel %s failed: %s", channel.name, exc)
