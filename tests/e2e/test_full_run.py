"""The whole `donation-watch run` as an operator runs it, as a process, against a real local Ethereum
node (anvil), the Esplora fake, the fake Discord (REST and gateway) and OFAC's download server
publishing the sanctions excerpt: a Bitcoin and an Ethereum donation arrive, a reorg drops the
Ethereum one, a real OFAC-listed address donates, and the process is SIGKILLed and started again.

Discord then holds exactly one message per donation and one sanctions alert: the dropped
donation's alert edited in place, never posted again, and every message once. /healthz says 200.
"""

from __future__ import annotations

from pathlib import Path
import pytest

from tests.e2e.support import (ALERTS, OFAC_ETH, ROLE, WATCHED_BTC, WATCHED_ETH, BotConfig, BotProcess, bot_env,
                               get_json, ledger_rows, ready, until)
from tests.fakes.discord import FakeDiscord
from tests.fakes.esplora import EsploraFake, fake_address, make_tx
from tests.fakes.ofac import FakeOfac
from tests.fakes.prices import PriceFake
from tests.watchers.ethereum.devchain import ETH, DevChain

LISTED = "0x08723392Ed15743cc38513C4925f5e6be5c17243"  # OFAC SDN (Lazarus Group), in the published excerpt
EXPECTED = ["Donation confirmed: 0.5 BTC", "Donation dropped from the chain: 1 ETH", "Donation confirmed: 2.5 ETH",
            "Sanctions hit: a donor is on ofac-sdn"]


class TestFullRun:
    @pytest.mark.slow
    async def test_donations_reorg_sanctions_and_a_sigkill_give_each_message_once(
        self, tmp_path: Path, dev: DevChain, esplora: EsploraFake, discord_fake: FakeDiscord, ofac: FakeOfac,
        prices: PriceFake, ledger_url: str | None,
    ) -> None:
        """Two donations, a reorg, a listed donor, SIGKILL and restart: four messages, each once, the dropped one edited."""
        assert LISTED in OFAC_ETH.read_text()  # really listed (and in the excerpt the fake OFAC publishes)
        config = (BotConfig(tmp_path, database_url=ledger_url)
                  .ethereum(dev.url, confirmations=3, poll_seconds=0.5)
                  .bitcoin(esplora.url, confirmations=2, poll_seconds=0.5)
                  .wallet("ethereum", WATCHED_ETH, label="Relief fund (ETH)", start_height=1)
                  .wallet("bitcoin", WATCHED_BTC, label="Relief fund (BTC)")
                  .discord(discord_fake).prices(prices.url)
                  .set("screening", ofac_url=ofac.url))
        ledger = config.database_url
        env = bot_env(DONATION_WATCH_DISCORD__TOKEN="fake-token")
        dev.mine(1)  # the tip at the wallet's start height, as on a real chain: the first poll finds no past

        async with await BotProcess.start(config.write(), "run", name="first run", env=env) as first:
            await ready(first, discord_fake)
            donor = fake_address(70)
            esplora.add_tx(make_tx([(donor, 60_000_000)], [(WATCHED_BTC, 50_000_000), (donor, 9_990_000)]))
            esplora.mine()
            dev.send(dev.accounts[1], WATCHED_ETH, ETH)  # one block, mined at once: pending until 3 deep
            await until(lambda: {"New donation: 0.5 BTC", "New donation: 1 ETH"} <= set(discord_fake.titles(ALERTS)),
                        "both donation alerts", 60, detail=first.tail)
            dropped_id = discord_fake.titled(ALERTS, "New donation: 1 ETH")["id"]
            btc_id = discord_fake.titled(ALERTS, "New donation: 0.5 BTC")["id"]

            dev.reorg(1)  # the block with the 1 ETH donation replaced by an empty one: the donation is gone
            dev.impersonate(LISTED)
            dev.send(LISTED, WATCHED_ETH, 25 * ETH // 10)

            async def both_stored() -> bool:
                sql = "SELECT DISTINCT kind FROM event WHERE kind IN ('transfer.orphaned', 'sanctions.hit')"
                return len(await ledger_rows(ledger, sql)) == 2

            await until(both_stored, "the orphaning and the sanctions hit to be stored", 60, every=0.05, detail=first.tail)
            await first.kill()  # SIGKILL, likely before the next alert flush (every 5 s) told either

        dev.mine(3)
        esplora.mine([])
        esplora.mine([])
        async with await BotProcess.start(config.path, "run", name="restarted run", env=env) as again:
            base = await again.http_base()
            await until(lambda: set(EXPECTED) <= set(discord_fake.titles(ALERTS)), "the four final messages", 90,
                        detail=lambda: f"Discord has: {discord_fake.titles(ALERTS)}\n{again.tail()}")
            await until(lambda: _healthy(base), "/healthz to say 200", 60, detail=again.tail)
            assert await again.stop() == 0, again.tail()

        assert sorted(discord_fake.titles(ALERTS)) == sorted(EXPECTED)  # each message once: nothing re-posted after the kill
        dropped = discord_fake.titled(ALERTS, "Donation dropped from the chain: 1 ETH")
        assert dropped["id"] == dropped_id and dropped["edited_timestamp"]  # the first alert, edited in place
        assert discord_fake.titled(ALERTS, "Donation confirmed: 0.5 BTC")["id"] == btc_id
        hit = discord_fake.titled(ALERTS, "Sanctions hit: a donor is on ofac-sdn")
        assert hit["content"].startswith(f"<@&{ROLE}>") and LISTED in str(hit["embeds"])
        assert "Traceback" not in first.stderr + again.stderr, first.tail() + again.tail()


async def _healthy(base: str) -> bool:
    status, _ = await get_json(base + "/healthz")
    return status == 200
