"""GET /metrics: polls and errors counted as they happen, ledger figures read at scrape time."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from bot.app import App
from bot.metrics import add_routes
from bot.runner import WatcherHealth, poll_once
from bot.service import start_http
from ledger.database import Database
from tests.bot.test_app import settings_for
from tests.bot.test_runner import ScriptedWatcher, _wallet


async def scrape(app: App) -> str:
    async with aiohttp.ClientSession() as client:
        async with client.get(f"http://127.0.0.1:{app.http_port}/metrics") as r:
            assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")
            return await r.text()


class TestMetrics:
    async def test_polls_errors_transfers_and_lists_are_exposed(self, db: Database, tmp_path: Path) -> None:
        """After a failed and a good poll, /metrics counts both, the error's kind, the stored transfer and the list age."""
        async with await App.open(settings_for(db, tmp_path)) as app:
            await app.screener.ensure_lists()
            app.add_routes(add_routes)
            watcher = app.metrics.metered(ScriptedWatcher(app.db, await _wallet(app.db), ["fail", "store"]))
            health = app.runner.health.setdefault("ethereum", WatcherHealth())
            await poll_once(watcher, app.db, health)
            await poll_once(watcher, app.db, health)
            http = await start_http(app)
            assert http is not None
            try:
                text = await scrape(app)
            finally:
                await http.cleanup()
        assert 'donation_watch_polls_total{chain="ethereum",outcome="ok"} 1.0' in text
        assert 'donation_watch_polls_total{chain="ethereum",outcome="failed"} 1.0' in text
        assert 'donation_watch_errors_total{kind="SourceUnavailable",source="ethereum"} 1.0' in text
        assert 'donation_watch_transfers_stored{chain="ethereum"} 1.0' in text
        assert "donation_watch_sanctions_list_age_seconds{source=" in text

    async def test_a_failing_job_counts_its_error_kind(self, db: Database, tmp_path: Path) -> None:
        """A job wrapped by metrics.job still raises, and its failure is counted by kind."""
        async with await App.open(settings_for(db, tmp_path)) as app:
            async def broken() -> None:
                raise TimeoutError("slow")

            job = app.metrics.job("sanctions:update", broken)
            try:
                await job()
            except TimeoutError:
                pass
            else:
                raise AssertionError("the job's error was swallowed")
            value = app.metrics.registry.get_sample_value(
                "donation_watch_errors_total", {"source": "sanctions:update", "kind": "TimeoutError"})
        assert value == 1.0
