"""`donation-watch run` as an operator starts it: it keeps going while its sources are down, says so
on the console, and stops cleanly on SIGTERM."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.support import WATCHED_BTC, BotConfig, BotProcess


class TestRun:
    async def test_runs_reports_a_dead_source_and_stops_on_sigterm(self, tmp_path: Path) -> None:
        """With no Discord token and a dead source, run prints the failure, then exits 0 on SIGTERM."""
        config = (BotConfig(tmp_path).bitcoin("http://127.0.0.1:9/api", timeout_seconds=1).wallet("bitcoin", WATCHED_BTC)
                  .set("alerts", watcher_unhealthy_minutes=0).write())
        async with await BotProcess.start(config, "run") as bot:
            await bot.said("The bitcoin watcher stopped working")
            assert await bot.stop() == 0, bot.tail()
        assert "no Discord token (DONATION_WATCH_DISCORD__TOKEN): messages go to this console" in bot.stdout
        assert bot.stdout.rstrip().endswith("stopped")
        assert "Traceback" not in bot.stderr
