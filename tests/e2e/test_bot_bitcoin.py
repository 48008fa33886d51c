"""The whole bot, as an operator runs it, against a local Esplora server: a donation from a
real OFAC-listed address is stored, shown on the console, flagged as a sanctions hit, and counted."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.support import OFAC_XBT, WATCHED_BTC as WATCHED, BotConfig, first_listed, run_bot
from tests.fakes.esplora import EsploraFake, fake_address, make_tx
from tests.fakes.prices import PriceFake


def write_config(tmp_path: Path, esplora_url: str) -> BotConfig:
    return BotConfig(tmp_path).bitcoin(esplora_url).wallet("bitcoin", WATCHED, label="Relief fund (BTC)")


class TestBitcoinEndToEnd:
    async def test_listed_donor_is_stored_announced_and_flagged(self, tmp_path: Path, esplora: EsploraFake, prices: PriceFake) -> None:
        """poll --once stores the donation, prints it and a SANCTIONS HIT for the listed sender; totals count it."""
        listed = first_listed(OFAC_XBT)
        config = write_config(tmp_path, esplora.url).prices(prices.url).write()
        status, out, err = await run_bot(config, "poll", "--once")  # the wallet's first sync: no past
        assert status == 0 and "bitcoin: 0 new" in out, err

        donation = make_tx([(listed, 60_000_000)], [(WATCHED, 50_000_000), (fake_address(1), 9_990_000)])
        esplora.add_tx(donation)
        esplora.mine()
        status, out, err = await run_bot(config, "poll", "--once")
        assert status == 0, err
        assert "bitcoin: 1 new" in out
        assert "New donation: 0.5 BTC\n    0.5 BTC to Relief fund (BTC) on bitcoin" in out and f"From: {listed}" in out
        assert f"ALERT Sanctions hit: a donor is on ofac-sdn\n    Sender {listed} is listed." in out

        status, out, _ = await run_bot(config, "totals")
        assert status == 0 and "Relief fund (BTC)" in out and "0.5" in out and "unique senders: 1" in out
        assert "confirmed at arrival" in out and "not valued yet" not in out

        status, again, _ = await run_bot(config, "poll", "--once")
        assert status == 0 and "bitcoin: 0 new" in again and "SANCTIONS HIT" not in again

    async def test_unreachable_source_fails_the_poll_without_a_traceback(self, tmp_path: Path) -> None:
        """With the Esplora server down, poll --once reports the failure in one line and exits 1."""
        config = write_config(tmp_path, "http://127.0.0.1:9/api").write()
        status, out, err = await run_bot(config, "poll", "--once")
        assert status == 1
        assert "bitcoin:" in out and "FAILED" in out
        assert "Traceback" not in err
