"""Several instances on one ledger: a singleton job runs in one at a time, and a leader-elected
service (the Discord gateway) runs in exactly one, another taking over within one lease period."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.app import App
from bot.leader import lead, singleton
from ledger.database import Database
from tests.bot.test_app import settings_for


async def two_apps(db: Database, tmp_path: Path) -> tuple[App, App]:
    """Two Apps on the same ledger (each with its own engine and connections), as two instances."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = await App.open(settings_for(db, tmp_path / "a"))
    b = await App.open(settings_for(db, tmp_path / "b"))
    return a, b


class TestSingletonJobs:
    async def test_a_tick_held_by_another_instance_is_skipped(self, db: Database, tmp_path: Path) -> None:
        """While one instance runs a singleton job, the other's tick of it does not run."""
        a, b = await two_apps(db, tmp_path)
        ran: list[str] = []
        inside = asyncio.Event()
        release = asyncio.Event()

        async def long_job() -> None:
            ran.append("a")
            inside.set()
            await release.wait()

        async def quick_job() -> None:
            ran.append("b")

        try:
            first = asyncio.create_task(singleton(a, "sanctions:update", long_job)())
            await asyncio.wait_for(inside.wait(), 10)
            await singleton(b, "sanctions:update", quick_job)()
            release.set()
            await first
            await singleton(b, "sanctions:update", quick_job)()  # free again: it runs
        finally:
            await a.close()
            await b.close()
        assert ran == ["a", "b"]


class TestLeaderElection:
    async def test_one_leader_and_a_takeover_within_one_lease(self, db: Database, tmp_path: Path) -> None:
        """Only one instance runs the service; when the leader stops, the standby leads within one lease period."""
        a, b = await two_apps(db, tmp_path)
        running: list[str] = []

        def service(name: str):  # type: ignore[no-untyped-def]
            async def run() -> None:
                running.append(name)
                await asyncio.Event().wait()  # like a gateway connection: runs until cancelled

            return run

        lease = 0.3
        try:
            ta = asyncio.create_task(lead(a, "discord", service("a"), lease=lease))
            await asyncio.sleep(0.3)
            tb = asyncio.create_task(lead(b, "discord", service("b"), lease=lease))
            await asyncio.sleep(4 * lease)
            assert running == ["a"] and a.leading == {"discord"} and b.leading == set()
            ta.cancel()  # the leader stops (its lock's connection goes back: the lock is released)
            loop = asyncio.get_running_loop()
            stopped = loop.time()
            while running == ["a"] and loop.time() - stopped < 10:
                await asyncio.sleep(0.02)
            took = loop.time() - stopped
            assert running == ["a", "b"] and b.leading == {"discord"}
            assert took <= lease + 1.0, took
            tb.cancel()
            await asyncio.gather(ta, tb, return_exceptions=True)
        finally:
            await a.close()
            await b.close()
