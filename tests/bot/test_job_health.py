"""Failing jobs and after-poll steps: contained, counted in health, traceback logged once per failure streak."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.app import App
from bot.runner import JobHealth, Runner, WatcherHealth, poll_once, run_guarded
from ledger.database import Database
from screening.errors import ScreeningListError
from tests.bot.test_app import settings_for
from watchers.base import PollReport


class Flaky:
    """A job that fails with an unexpected error ``failures`` times, then works."""

    def __init__(self, failures: int, exc: Exception | None = None) -> None:
        self.left = failures
        self.exc = exc or KeyError("boom")

    async def __call__(self) -> None:
        if self.left:
            self.left -= 1
            raise self.exc


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "bot.runner" and r.exc_info]


class OkWatcher:
    chain = "ethereum"

    async def poll(self) -> PollReport:
        return PollReport(chain=self.chain)

    async def close(self) -> None:
        pass


class TestRunGuarded:
    async def test_traceback_once_per_streak_and_counted(self, caplog: pytest.LogCaptureFixture) -> None:
        """Three failures log one traceback and two one-liners; health counts them; a success resets the streak."""
        caplog.set_level(logging.INFO, logger="bot.runner")
        health, job = JobHealth(), Flaky(3)
        for _ in range(4):
            await run_guarded("job demo", job, health)
        assert len(tracebacks(caplog)) == 1
        assert "KeyError" in tracebacks(caplog)[0].getMessage()
        assert sum("failed again" in r.getMessage() for r in caplog.records) == 2
        assert any("works again after 3 failure(s)" in r.getMessage() for r in caplog.records)
        assert (health.runs, health.failures, health.total_failures) == (4, 0, 3) and health.last_ok_at is not None

    async def test_a_new_streak_logs_its_traceback_again(self, caplog: pytest.LogCaptureFixture) -> None:
        """After a recovery, the next failure is the first of a new streak and gets its traceback."""
        health = JobHealth()
        await run_guarded("job demo", Flaky(1), health)
        await run_guarded("job demo", Flaky(0), health)
        await run_guarded("job demo", Flaky(1), health)
        assert len(tracebacks(caplog)) == 2

    async def test_our_own_errors_are_one_line(self, caplog: pytest.LogCaptureFixture) -> None:
        """An error of our hierarchy already names what failed: one line, no traceback, still counted."""
        health = JobHealth()
        await run_guarded("job lists", Flaky(1, ScreeningListError("ofac-sdn", "HTTP 503")), health)
        assert tracebacks(caplog) == [] and health.failures == 1 and health.last_error == "ofac-sdn: HTTP 503"


class TestRunnerJobs:
    async def test_add_job_counts_failures_in_job_health(self, db: Database, caplog: pytest.LogCaptureFixture) -> None:
        """A scheduled job that raises is counted in runner.jobs and logs its traceback once."""
        runner = Runner(db)
        runner.add_job("notify:demo", Flaky(2), 60, start_now=False)
        run = runner.scheduler.get_job("notify:demo").func
        await run()
        await run()
        assert runner.jobs["notify:demo"].failures == 2 and len(tracebacks(caplog)) == 1
        await run()
        assert runner.jobs["notify:demo"].failures == 0 and runner.jobs["notify:demo"].total_failures == 2

    async def test_after_poll_step_failures_count_in_watcher_health(self, db: Database, caplog: pytest.LogCaptureFixture) -> None:
        """A failing after-poll step is counted under the watcher's health, by step, with one traceback."""
        health, step = WatcherHealth(), Flaky(2)
        for _ in range(2):
            report = await poll_once(OkWatcher(), db, health, after=[step])  # type: ignore[arg-type]
            assert report.ok  # the poll itself succeeded
        [(name, step_health)] = health.steps.items()
        assert "Flaky" in name and step_health.failures == 2 and "KeyError" in step_health.last_error
        assert len(tracebacks(caplog)) == 1

    async def test_a_failing_list_update_counts_as_a_failed_job(self, db: Database, tmp_path: Path) -> None:
        """The sanctions:update job fails (and counts) when a list cannot be updated, keeping the lists in force."""
        settings = settings_for(db, tmp_path, '[screening]\nofac_url = "http://127.0.0.1:9/SDN.XML"\ndownload_timeout_seconds = 1\n')
        app = await App.open(settings)
        try:
            await app.setup(("bot.screening_wiring",))
            [spec] = [j for j in app.jobs if j.name == "sanctions:update"]
            runner = Runner(db)
            runner.add_job(spec.name, spec.fn, spec.seconds, start_now=False)
            await runner.scheduler.get_job(spec.name).func()
            health = runner.jobs["sanctions:update"]
            assert health.failures == 1 and health.last_error.startswith("ofac-sdn: ")
        finally:
            await app.close()


class TestHealthReport:
    async def test_a_job_failing_three_times_in_a_row_is_a_health_problem(self, db: Database, tmp_path: Path) -> None:
        """/healthz's report names a job that failed 3 runs in a row, with its last error, and lists every job's counts."""
        from bot.health import problems

        app = await App.open(settings_for(db, tmp_path))
        try:
            app.runner.add_job("channel:demo", Flaky(3), 60, start_now=False)
            run = app.runner.scheduler.get_job("channel:demo").func
            for _ in range(3):
                await run()
            reasons, figures = await problems(app)
            assert "job channel:demo failed 3 times in a row (last error: KeyError: 'boom')" in reasons
            assert figures["jobs"]["channel:demo"]["failures"] == 3
        finally:
            await app.close()


class TestDegradedChainHealth:
    async def test_blocks_stored_without_traces_make_healthz_name_the_range(self, db: Database, tmp_path: Path) -> None:
        """An open scan gap is a health problem: the chain, the blocks, what is missing and why."""
        from bot.health import problems
        from ledger.scan_gaps import record_gap

        app = await App.open(settings_for(db, tmp_path))
        try:
            async with db.session() as s:
                await record_gap(s, "ethereum", "traces", 100, 150, "the node has no trace_filter")
            reasons, figures = await problems(app)
            assert ("the ethereum watcher is degraded: blocks 100..150 are stored without traces "
                    "(the node has no trace_filter)") in reasons
            assert figures["chains"]["ethereum"]["unchecked"] == [{"missing": "traces", "from_height": 100, "to_height": 150}]
        finally:
            await app.close()


class TestErrorText:
    async def test_a_database_error_is_told_without_its_sql(self, db: Database) -> None:
        """A watcher failing on the database reports the driver's first line, not the statement and parameters."""
        from sqlalchemy import text

        class BrokenWatcher(OkWatcher):
            async def poll(self) -> PollReport:
                async with db.session() as s:
                    await s.execute(text("SELECT no_such_column FROM wallet WHERE id = :id"), {"id": 42})
                return PollReport(chain=self.chain)

        health = WatcherHealth()
        report = await poll_once(BrokenWatcher(), db, health)  # type: ignore[arg-type]
        [error] = report.errors
        assert error.startswith("database error: ") and "no_such_column" in error
        assert "SELECT" not in error and "[parameters" not in error and "\n" not in error
