"""Plugin: `GET /metrics` in Prometheus text format (prometheus-client's aiohttp handler).

Counters move as work happens (polls, errors by kind); figures kept in the database (transfers,
hits, list age, outbox backlog, synced height) are read when the endpoint is scraped.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge

if TYPE_CHECKING:
    from aiohttp import web

    from bot.app import App
    from watchers.base import PollReport, Watcher

log = logging.getLogger(__name__)
P = "donation_watch_"


class Metrics:
    """The App's metrics, on a registry of its own."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.polls = Counter(P + "polls", "Watcher polls, by chain and outcome (ok|failed)", ["chain", "outcome"], registry=r)
        self.errors = Counter(P + "errors", "Failures, by source (a chain or a job) and kind (the error's type)",
                              ["source", "kind"], registry=r)
        self.height = Gauge(P + "chain_height", "The node's chain height seen by the last good poll", ["chain"], registry=r)
        self.synced = Gauge(P + "chain_synced_height", "The height stored up to (block-scanning chains)", ["chain"], registry=r)
        self.lag_blocks = Gauge(P + "chain_lag_blocks", "Blocks the ledger is behind the node", ["chain"], registry=r)
        self.since_ok = Gauge(P + "chain_seconds_since_success", "Seconds since the chain's last good poll (or start)",
                              ["chain"], registry=r)
        self.transfers = Gauge(P + "transfers_stored", "Transfers in the ledger, by chain", ["chain"], registry=r)
        self.hits = Gauge(P + "sanctions_hits", "Active sanctions hits, by list source", ["source"], registry=r)
        self.list_age = Gauge(P + "sanctions_list_age_seconds", "Seconds since the list's last successful check",
                              ["source"], registry=r)
        self.backlog = Gauge(P + "outbox_backlog", "Messages not yet delivered, by channel", ["channel"], registry=r)
        self.oldest = Gauge(P + "outbox_oldest_undelivered_seconds", "Age of the oldest undelivered message", ["channel"],
                            registry=r)

    def metered(self, watcher: Watcher) -> Watcher:
        """`watcher` with its polls and errors counted."""
        return _MeteredWatcher(watcher, self)

    def job(self, name: str, fn: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[object]]:
        """`fn` with its failures counted (and still raised, for the runner to log)."""

        async def counted() -> object:
            try:
                return await fn()
            except Exception as exc:
                self.errors.labels(name, type(exc).__name__).inc()
                raise

        return counted

    async def refresh(self, app: App) -> None:
        """Read the figures kept in the database and the runner's health into the gauges."""
        from sqlalchemy import func, select

        from ledger.models import ChainCursor, Transfer
        from screening.status import list_status

        now = datetime.now(timezone.utc)
        async with app.db.session() as s:
            for chain, n in (await s.execute(select(Transfer.chain, func.count()).group_by(Transfer.chain))).all():
                self.transfers.labels(chain).set(n)
            synced = {c: h for c, h in (await s.execute(select(ChainCursor.chain, ChainCursor.height))).all()}
            for st in await list_status(s):
                self.hits.labels(st.source).set(st.active_hits)
                checked = st.checked_at or (st.in_force.loaded_at if st.in_force else None)
                if checked is not None:
                    self.list_age.labels(st.source).set((now - checked).total_seconds())
            await self._outbox(app, s, now)
        for chain in app.settings.chains:
            health = app.runner.health.get(chain)
            if chain in synced:
                self.synced.labels(chain).set(synced[chain])
            if health is not None and health.height is not None:
                self.height.labels(chain).set(health.height)
                if chain in synced:
                    self.lag_blocks.labels(chain).set(max(health.height - synced[chain], 0))
            if app.runs("watchers"):
                since = (health.last_ok_at if health and health.last_ok_at else None) or app.started_at
                self.since_ok.labels(chain).set((now - since).total_seconds())

    async def _outbox(self, app: App, session: object, now: datetime) -> None:
        try:
            from ledger.outbox import backlog
        except ImportError:  # the outbox is not in this build yet
            return
        for name in app.channels:
            count, oldest = await backlog(session, name)  # type: ignore[arg-type]
            self.backlog.labels(name).set(count)
            self.oldest.labels(name).set((now - oldest).total_seconds() if oldest else 0)


class _MeteredWatcher:
    """A watcher proxy that counts polls by outcome and errors by kind."""

    def __init__(self, inner: Watcher, metrics: Metrics) -> None:
        self.inner, self.metrics, self.chain = inner, metrics, inner.chain

    async def poll(self) -> PollReport:
        try:
            report = await self.inner.poll()
        except Exception as exc:
            self.metrics.polls.labels(self.chain, "failed").inc()
            self.metrics.errors.labels(self.chain, type(exc).__name__).inc()
            raise
        self.metrics.polls.labels(self.chain, "ok" if report.ok else "failed").inc()
        if not report.ok:
            self.metrics.errors.labels(self.chain, "PollError").inc(len(report.errors))
        return report

    async def close(self) -> None:
        await self.inner.close()

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


async def metrics_handler(request: web.Request) -> web.StreamResponse:
    """The gauges refreshed from the database, then prometheus-client's own exposition."""
    from prometheus_client.aiohttp import make_aiohttp_handler

    from bot.http import app_of

    app = app_of(request)
    try:
        await app.metrics.refresh(app)
    except Exception as exc:  # noqa: BLE001 - counters are still worth serving without the database
        log.warning("metrics: reading the database failed: %s", exc)
    return await make_aiohttp_handler(app.metrics.registry)(request)


def add_routes(web_app: web.Application, app: App) -> None:
    """The metrics route set."""
    web_app.router.add_get("/metrics", metrics_handler)


def setup(app: App) -> None:
    """Plugin: register /metrics."""
    app.add_routes(add_routes)
