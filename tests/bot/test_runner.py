"""Running watchers: a failing watcher is contained, recorded once, and its recovery noted; events print."""

from __future__ import annotations

import io
import os
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot.app import App
from bot.console import ConsoleNotifier
from bot.settings import Settings
from bot.runner import WatcherHealth, poll_once
from ledger.database import Database
from ledger.models import Event, EventKind
from ledger.wallets import upsert_wallet
from ledger.writes import TransferIn, record_transfers
from watchers.base import PollReport
from watchers.errors import SourceUnavailable

SENDER = "0x8589427373D6D84E98730D7795D8f6f8731FDA16"


class ScriptedWatcher:
    """A watcher whose polls follow a script: 'fail' raises, 'store' writes one transfer."""

    chain = "ethereum"

    def __init__(self, db: Database, wallet_id: int, script: list[str]) -> None:
        self.db, self.wallet_id, self.script, self.n = db, wallet_id, script, 0

    async def poll(self) -> PollReport:
        step = self.script.pop(0)
        if step == "fail":
            raise SourceUnavailable("http://node", 503, "busy")
        if step == "skip":
            return PollReport(chain=self.chain, skipped=True)
        self.n += 1
        async with self.db.session() as s:
            res = await record_transfers(s, [TransferIn(
                chain="ethereum", txid=f"0x{self.n:064x}", position=-1, wallet_id=self.wallet_id, asset="ETH",
                decimals=18, amount=15 * 10**17, senders=(SENDER,), block_height=10, block_hash="0x01")])
        return PollReport(chain=self.chain, new=len(res.inserted))

    async def close(self) -> None:
        pass


async def _wallet(db: Database) -> int:
    async with db.session() as s:
        w, _ = await upsert_wallet(s, "ethereum", "0x165CD37b4C644C2921454429E7F9358d18A45e14", label="Ukraine")
        assert w.id is not None
        return w.id


async def _kinds(db: Database) -> list[str]:
    async with db.session() as s:
        return list((await s.execute(select(Event.kind).order_by(Event.id))).scalars())


class TestPollOnce:
    async def test_skipped_poll_is_neither_success_nor_failure(self, db: Database) -> None:
        """A poll skipped because another instance holds the chain leaves the health record as it was."""
        watcher = ScriptedWatcher(db, await _wallet(db), ["fail", "skip"])
        health = WatcherHealth()
        await poll_once(watcher, db, health)  # type: ignore[arg-type]
        report = await poll_once(watcher, db, health)  # type: ignore[arg-type]
        assert report.skipped and health.failures == 1 and health.last_ok_at is None
        assert await _kinds(db) == [EventKind.WATCHER_FAILED]

    async def test_a_good_poll_is_shared_through_the_ledger_and_a_skipped_one_is_not(self, db: Database) -> None:
        """Only a good poll writes the chain's last good poll (for other instances' /healthz), with its instance."""
        from ledger.chain_health import last_good_polls

        watcher = ScriptedWatcher(db, await _wallet(db), ["skip", "fail", "store"])
        health = WatcherHealth()
        for _ in range(2):
            await poll_once(watcher, db, health)  # type: ignore[arg-type]
            async with db.session() as s:
                assert await last_good_polls(s) == {}
        await poll_once(watcher, db, health)  # type: ignore[arg-type]
        async with db.session() as s:
            row = (await last_good_polls(s))["ethereum"]
        assert row.last_ok_at == health.last_ok_at and row.instance.endswith(f":{os.getpid()}")

    async def test_failure_is_contained_and_recorded_once(self, db: Database) -> None:
        """Two failing polls give failed reports, one watcher.failed event, and a back-off."""
        watcher = ScriptedWatcher(db, await _wallet(db), ["fail", "fail"])
        health = WatcherHealth()
        first = await poll_once(watcher, db, health)
        second = await poll_once(watcher, db, health)
        assert not first.ok and "HTTP 503" in first.errors[0] and not second.ok
        assert await _kinds(db) == [EventKind.WATCHER_FAILED]
        assert (health.failures, health.skip) == (2, 2)

    async def test_recovery_is_recorded(self, db: Database) -> None:
        """A successful poll after failures records watcher.recovered and clears the back-off."""
        watcher = ScriptedWatcher(db, await _wallet(db), ["fail", "store"])
        health = WatcherHealth()
        await poll_once(watcher, db, health)
        report = await poll_once(watcher, db, health)
        assert report.ok and report.new == 1 and health.failures == 0
        assert await _kinds(db) == [EventKind.WATCHER_FAILED, EventKind.TRANSFER_NEW, EventKind.WATCHER_RECOVERED]

    async def test_a_streak_shorter_than_the_unhealthy_time_is_not_announced(self, db: Database) -> None:
        """With alerts.watcher_unhealthy_minutes, failures that end before it are neither announced nor their end."""
        watcher = ScriptedWatcher(db, await _wallet(db), ["fail", "fail", "store"])
        health = WatcherHealth(announce_after_seconds=600)
        for _ in range(3):
            await poll_once(watcher, db, health)  # type: ignore[arg-type]
        assert await _kinds(db) == [EventKind.TRANSFER_NEW]
        assert health.failures == 0 and health.failing_since is None

    async def test_a_streak_lasting_the_unhealthy_time_is_announced_once_then_its_end(self, db: Database) -> None:
        """A watcher failing for watcher_unhealthy_minutes gets one watcher.failed, then watcher.recovered."""
        watcher = ScriptedWatcher(db, await _wallet(db), ["fail", "fail", "fail", "store"])
        health = WatcherHealth(announce_after_seconds=600)
        await poll_once(watcher, db, health)  # type: ignore[arg-type]
        assert await _kinds(db) == []
        assert health.failing_since is not None
        health.failing_since -= timedelta(minutes=11)  # the streak has lasted longer than 10 minutes
        await poll_once(watcher, db, health)  # type: ignore[arg-type]
        await poll_once(watcher, db, health)  # type: ignore[arg-type]
        await poll_once(watcher, db, health)  # type: ignore[arg-type]
        assert await _kinds(db) == [EventKind.WATCHER_FAILED, EventKind.TRANSFER_NEW, EventKind.WATCHER_RECOVERED]

    async def test_the_runner_takes_the_unhealthy_time_from_the_settings(self, db: Database, tmp_path: Path) -> None:
        """App's runner gives each watcher alerts.watcher_unhealthy_minutes (default 10) as its announce delay."""
        from tests.bot.test_app import settings_for

        async with await App.open(settings_for(db, tmp_path, extra="[alerts]\nwatcher_unhealthy_minutes = 2.5\n")) as app:
            app.runner.add_watcher(ScriptedWatcher(db, await _wallet(db), []), 60)  # type: ignore[arg-type]
            assert app.runner.health["ethereum"].announce_after_seconds == 150

    async def test_after_poll_steps_run_even_if_one_fails(self, db: Database) -> None:
        """Every after-poll step runs; one raising does not stop the next."""
        ran: list[str] = []

        async def bad() -> None:
            ran.append("bad")
            raise RuntimeError("boom")

        async def good() -> None:
            ran.append("good")

        await poll_once(ScriptedWatcher(db, await _wallet(db), ["store"]), db, WatcherHealth(), after=[bad, good])
        assert ran == ["bad", "good"]


class TestConsoleNotifier:
    async def test_prints_new_donation_once(self, db: Database) -> None:
        """A stored donation prints one readable block with amount, wallet label, status and sender, once."""
        out = io.StringIO()
        notifier = ConsoleNotifier(db, Settings(), out)
        await notifier.start()
        await poll_once(ScriptedWatcher(db, await _wallet(db), ["store"]), db, WatcherHealth())
        assert await notifier.flush() == 1
        assert await notifier.flush() == 0
        text = out.getvalue()
        assert "New donation: 1.5 ETH\n    1.5 ETH to Ukraine on ethereum" in text
        assert "Status: pending (block 10)" in text and "From: " + SENDER in text


class TestWatcherEventsOnTheConsole:
    async def test_failure_and_recovery_read_as_sentences(self, db: Database) -> None:
        """watcher.failed and watcher.recovered print as plain sentences naming the chain."""
        out = io.StringIO()
        notifier = ConsoleNotifier(db, Settings(), out)
        await notifier.start()
        watcher = ScriptedWatcher(db, await _wallet(db), ["fail", "store"])
        health = WatcherHealth()
        await poll_once(watcher, db, health)
        await poll_once(watcher, db, health)
        await notifier.flush()
        text = out.getvalue()
        assert "WARNING The ethereum watcher stopped working\n    http://node: HTTP 503: busy\n    It keeps retrying" in text
        assert "The ethereum watcher works again\n    after 1 failed poll\n" in text
