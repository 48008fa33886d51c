"""`donation-watch run` as an operator starts it: it keeps going while its sources are down, says so
on the console, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from tests.e2e.botproc import start_bot


class TestRun:
    async def test_runs_reports_a_dead_source_and_stops_on_sigterm(self, tmp_path: Path) -> None:
        """With no Discord token and a dead source, run prints the failure, then exits 0 on SIGTERM."""
        config = tmp_path / "bot.toml"
        config.write_text(f"""
data_dir = "{tmp_path / 'data'}"
[database]
url = "sqlite+aiosqlite:///{tmp_path / 'data' / 'ledger.db'}"
[chains.bitcoin]
kind = "bitcoin"
esplora_urls = ["http://127.0.0.1:9/api"]
timeout_seconds = 1
[[wallets]]
chain = "bitcoin"
address = "357a3So9CbsNfBBgFYACGvxxS6tMaDoa1P"
[screening]
ofac_url = "http://127.0.0.1:9/unreachable"
[http]
port = 0
[alerts]
watcher_unhealthy_minutes = 0
""")
        proc = await start_bot(config, "run")
        assert proc.stdout is not None
        lines: list[str] = []

        async def read_until_failure() -> None:
            while True:
                line = (await proc.stdout.readline()).decode()  # type: ignore[union-attr]
                assert line, "run exited early"
                lines.append(line)
                if "The bitcoin watcher stopped working" in line:
                    return

        await asyncio.wait_for(read_until_failure(), timeout=60)
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
        assert proc.returncode == 0, err.decode()[-2000:]
        text = "".join(lines) + out.decode()
        assert "no Discord token (DONATION_WATCH_DISCORD__TOKEN): messages go to this console" in text
        assert text.rstrip().endswith("stopped")
        assert "Traceback" not in err.decode()
