"""Nothing a person must hear is lost on a restart: `run` killed right after it stored a sanctions hit
prints that hit, once, when it is started again; history from `backfill` is screened in the same run
and only its hits are announced."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.support import OFAC_ETH, WATCHED_ETH as WATCHED, BotConfig, BotProcess, first_listed, ledger_rows, run_bot, until
from tests.watchers.ethereum.devchain import DevChain

HIT = "ALERT Sanctions hit: "


def _config(tmp_path: Path, rpc_url: str, *, start_height: int = 1) -> BotConfig:
    return BotConfig(tmp_path).ethereum(rpc_url).wallet("ethereum", WATCHED, label="Relief fund (ETH)", start_height=start_height)


async def _hits_stored(cfg: BotConfig) -> int:
    return len(await ledger_rows(cfg.database_url, "SELECT id FROM event WHERE kind = 'sanctions.hit'"))


class TestRestartAfterKill:
    async def test_hit_stored_just_before_a_sigkill_is_printed_once_after_restart(self, tmp_path: Path, dev: DevChain) -> None:
        """run stores and screens a donation from a listed sender, is SIGKILLed at once, and the restart prints the hit once."""
        listed = first_listed(OFAC_ETH)
        dev.impersonate(listed)
        dev.send(listed, WATCHED, 25 * 10**17)
        dev.mine(3)
        cfg = _config(tmp_path, dev.url)
        config = cfg.write()

        async with await BotProcess.start(config, "run", name="first run") as first:
            await until(lambda: first.returncode is not None or _hits_stored(cfg), "the hit to be stored", 60, every=0.01)
            await first.kill()  # SIGKILL: no clean shutdown
        assert await _hits_stored(cfg) == 1, f"the first run should have stored the hit: {first.tail()}"
        assert HIT not in first.stdout, "the kill should land before the console's next flush"

        async with await BotProcess.start(config, "run", name="second run") as second:
            await second.said(HIT)
            assert await second.stop() == 0, second.tail()
        assert (first.stdout + second.stdout).count(HIT) == 1
        assert f"Sender {listed} is listed" in second.stdout
        assert "New donation: 2.5 ETH" not in first.stdout + second.stdout  # sent before the first poll: history, counted, not announced


class TestBackfillIsHistory:
    async def test_backfill_screens_in_the_same_run_and_announces_only_the_hit(self, tmp_path: Path, dev: DevChain) -> None:
        """backfill screens the senders it stored at once; the console then prints the hit but no "new donation"."""
        listed = first_listed(OFAC_ETH)
        dev.impersonate(listed)
        dev.send(listed, WATCHED, 10**18)
        dev.mine(5)
        cfg = _config(tmp_path, dev.url, start_height=dev.height() + 1)
        config = cfg.write()

        status, out, err = await run_bot(config, "poll", "--once")  # the console channel exists from here on
        assert status == 0, err + out
        status, out, err = await run_bot(config, "backfill", "ethereum", "--from-block", "1")
        assert status == 0, err + out
        assert "1 transfers found" in out and "1 sanctions hit(s)" in out
        assert await _hits_stored(cfg) == 1

        status, out, err = await run_bot(config, "poll", "--once")
        assert status == 0, err + out
        assert out.count(HIT) == 1 and f"Sender {listed} is listed" in out and "New donation" not in out
