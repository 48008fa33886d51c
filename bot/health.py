"""Plugin: `GET /healthz` — 200 when every chain was polled well (by this instance or another
sharing the ledger) within its allowed lag and no sanctions list is stale (screening.health's rule, `screening.max_list_age_days`); else 503 with the reasons as JSON."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiohttp import web

    from bot.app import App

log = logging.getLogger(__name__)

# A job (a channel's flush, the list update ...) failing this many runs in a row makes the instance unhealthy.
JOB_FAILURES_UNHEALTHY = 3


def allowed_lag(spec: Any) -> float:
    """Seconds a chain may go without a good poll: its `max_lag_seconds`, or 3 polls + 2 minutes."""
    return spec.max_lag_seconds if spec.max_lag_seconds is not None else 3 * spec.poll_seconds + 120


async def problems(app: App, now: datetime | None = None) -> tuple[list[str], dict[str, Any]]:
    """What is wrong (sentences) and the figures behind it, as /healthz reports them."""
    from ledger.chain_health import last_good_polls
    from ledger.scan_gaps import open_gaps
    from screening.health import is_stale
    from screening.store import current_versions, sources

    now = now or datetime.now(timezone.utc)
    reasons: list[str] = []
    lists: dict[str, Any] = {}
    max_age = timedelta(days=app.settings.screening.max_list_age_days)
    async with app.db.session() as s:
        versions = await current_versions(s)
        states = await sources(s)
        gaps = await open_gaps(s)
        shared = await last_good_polls(s)
    chains = _chains(app, now, shared, reasons)
    for gap in gaps:
        chains.setdefault(gap.chain, {}).setdefault("unchecked", []).append(
            {"missing": gap.kind, "from_height": gap.from_height, "to_height": gap.to_height})
        reasons.append(f"the {gap.chain} watcher is degraded: blocks {gap.from_height}..{gap.to_height} are stored "
                       f"without {gap.kind} ({gap.reason})")
    for state in states:
        version = versions.get(state.source)
        lists[state.source] = {"in_force": version.origin if version else None,
                               "published": version.published.isoformat() if version and version.published else None,
                               "checked_at": state.checked_at.isoformat() if state.checked_at else None}
        if version is None:
            reasons.append(f"no version of the {state.source} list is in force")
        elif is_stale(version, state, now, max_age):
            reasons.append(f"the {state.source} list in force ({version.origin}) is stale: published and last "
                           f"confirmed current more than {app.settings.screening.max_list_age_days:g} days ago")
    jobs: dict[str, Any] = {}
    for name, job in sorted(app.runner.jobs.items()):
        jobs[name] = {"runs": job.runs, "failures_in_a_row": job.failures, "failures": job.total_failures,
                      "last_ok_at": job.last_ok_at.isoformat() if job.last_ok_at else None, "last_error": job.last_error or None}
        if job.failures >= JOB_FAILURES_UNHEALTHY:
            reasons.append(f"job {name} failed {job.failures} times in a row (last error: {job.last_error})")
    for problem in getattr(getattr(app, "discord_bot", None), "delivery_problems", {}).values():
        reasons.append(f"discord delivery stopped: {problem}")  # a 403/404 channel (bot/discord/delivery.py)
    return reasons, {"chains": chains, "lists": lists, "jobs": jobs}


def _chains(app: App, now: datetime, shared: dict[str, Any], reasons: list[str]) -> dict[str, Any]:
    """Each chain's lag since its last good poll — this instance's, or another's from the ledger
    (a standby watcher and a `bot`-role instance poll nothing themselves, yet say whether the chain is followed)."""
    chains: dict[str, Any] = {}
    for name, spec in app.settings.chains.items():
        health = app.runner.health.get(name)
        row = shared.get(name)
        candidates = [t for t in (health.last_ok_at if health else None, row.last_ok_at if row else None) if t is not None]
        last_ok = max(candidates, default=None)
        lag = (now - (last_ok or app.started_at)).total_seconds()
        height = max((h for h in (health.height if health else None, row.height if row else None) if h is not None), default=None)
        chains[name] = {"last_ok_at": last_ok.isoformat() if last_ok else None, "height": height,
                        "polled_by": row.instance if row else None,
                        "seconds_since_ok": round(lag, 1), "allowed_seconds": allowed_lag(spec)}
        if lag > allowed_lag(spec):
            error = f" (last error: {health.last_error})" if health and health.last_error else ""
            reasons.append(f"the {name} watcher has not polled successfully for {lag:.0f} s "
                           f"(allowed {allowed_lag(spec):.0f} s){error}")
    return chains


async def healthz(request: web.Request) -> web.Response:
    """200 {"ok": true, ...} or 503 {"ok": false, "reasons": [...], ...}."""
    from aiohttp import web

    from bot.http import app_of

    app = app_of(request)
    try:
        reasons, figures = await problems(app)
    except Exception as exc:  # noqa: BLE001 - an unreachable database is itself the answer
        reasons, figures = [f"the database cannot be read: {type(exc).__name__}: {exc}"], {}
    body = {"ok": not reasons, "role": app.role, "leading": sorted(app.leading), "reasons": reasons, **figures}
    return web.json_response(body, status=200 if not reasons else 503)


def add_routes(web_app: web.Application, app: App) -> None:
    """The health route set."""
    web_app.router.add_get("/healthz", healthz)


def setup(app: App) -> None:
    """Plugin: register the health routes."""
    app.add_routes(add_routes)
