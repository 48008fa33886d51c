"""The whole bot with a Discord token, as an operator runs it: `run` against a fake Discord (REST and
gateway over a socket) and a real local Ethereum node (anvil). A donation from an OFAC-listed
sender gives one donation alert, later edited to confirmed, and one sanctions alert mentioning the
operator role; `/donations total` then answers the right figure."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.support import (ALERTS, OFAC_ETH, ROLE, WATCHED_ETH as WATCHED, BotConfig, BotProcess, bot_env, first_listed,
                               ledger_rows, ready, until)
from tests.fakes.discord import FakeDiscord
from tests.fakes.prices import PriceFake
from tests.watchers.ethereum.devchain import DevChain

ENV = {"DONATION_WATCH_DISCORD__TOKEN": "fake-token"}


def write_config(tmp_path: Path, dev: DevChain, prices: PriceFake, discord_fake: FakeDiscord) -> BotConfig:
    cfg = (BotConfig(tmp_path).ethereum(dev.url, confirmations=3, poll_seconds=1)
           .wallet("ethereum", WATCHED, label="Relief fund (ETH)", start_height=1).discord(discord_fake).prices(prices.url))
    cfg.write()
    return cfg


def sanctions_alerts(fake: FakeDiscord) -> list[str]:
    return [t for t in fake.titles(ALERTS) if t.startswith("Sanctions hit")]


class TestDiscordEndToEnd:
    @pytest.mark.slow
    async def test_listed_donation_alerts_edit_and_total(self, tmp_path: Path, dev: DevChain, prices: PriceFake,
                                                         discord_fake: FakeDiscord) -> None:
        """One donation alert edited to confirmed, one sanctions alert mentioning the role, then /donations total answers 2.5 ETH."""
        cfg = write_config(tmp_path, dev, prices, discord_fake)
        async with await BotProcess.start(cfg.path, "run", env=bot_env(**ENV)) as bot:
            await ready(bot, discord_fake)
            await until(lambda: discord_fake.commands, "the slash commands to be synced", detail=bot.tail)
            listed = first_listed(OFAC_ETH)
            dev.impersonate(listed)
            dev.send(listed, WATCHED, 25 * 10**17)  # one block: pending until 3 confirmations
            await until(lambda: sanctions_alerts(discord_fake) and "New donation: 2.5 ETH" in discord_fake.titles(ALERTS),
                        "the donation and sanctions alerts", detail=bot.tail)
            dev.mine(3)
            await until(lambda: "Donation confirmed: 2.5 ETH" in discord_fake.titles(ALERTS),
                        "the donation alert edited to confirmed", detail=bot.tail)
            assert [t for t in discord_fake.titles(ALERTS) if "2.5 ETH" in t] == ["Donation confirmed: 2.5 ETH"]  # edited in place
            [hit_title] = sanctions_alerts(discord_fake)
            hit = discord_fake.titled(ALERTS, hit_title)
            assert hit["content"].startswith(f"<@&{ROLE}>") and hit["allowed_mentions"]["roles"] == [ROLE]

            token = await discord_fake.interact("donations", "total")
            await until(lambda: any(r["token"] == token and r.get("embeds") for r in discord_fake.replies),
                        "the /donations total reply", detail=bot.tail)
            reply = next(r for r in discord_fake.replies if r["token"] == token and r.get("embeds"))
            fields = {f["name"]: f["value"] for f in reply["embeds"][0]["fields"]}
            assert fields["ETH"].startswith("**2.5** confirmed")
            assert await bot.stop() == 0, bot.tail()
        assert "Traceback" not in bot.stderr, bot.tail()

    @pytest.mark.slow
    async def test_sigkill_after_posting_before_marking_posts_once(self, tmp_path: Path, dev: DevChain, prices: PriceFake,
                                                                  discord_fake: FakeDiscord) -> None:
        """Killed (SIGKILL) after Discord stored the alert but before the bot marked it: the restarted bot posts it once."""
        cfg = write_config(tmp_path, dev, prices, discord_fake)
        discord_fake.hold_seconds = 30
        async with await BotProcess.start(cfg.path, "run", env=bot_env(**ENV)) as first:
            await ready(first, discord_fake)
            dev.send(dev.accounts[0], WATCHED, 10**18)
            await until(discord_fake.created.is_set, "the first alert to reach Discord", detail=first.tail)
            held = next(r for r in discord_fake.requests if r.method == "POST" and "/messages" in r.path).payload["nonce"]
            await first.kill()  # SIGKILL: no chance to mark the delivery sent
        discord_fake.hold_seconds = 0
        stored = [m for m in discord_fake.messages[ALERTS] if m["nonce"] == held]
        assert len(stored) == 1  # Discord has the message; the bot never marked its delivery sent

        async def delivery() -> tuple[object, ...]:
            sql = f"SELECT state, external_id, attempts FROM delivery WHERE id = {int(held.removeprefix('dw-'))}"
            return (await ledger_rows(cfg.database_url, sql))[0]

        async def settled() -> bool:
            return (await delivery())[0] == "sent"

        assert (await delivery())[0] == "pending"
        async with await BotProcess.start(cfg.path, "run", env=bot_env(**ENV)) as again:
            await until(settled, "the restarted bot to settle the unmarked alert", detail=again.tail)
            assert await again.stop() == 0, again.tail()
        assert await delivery() == ("sent", stored[0]["id"], 2)  # the existing message, found by its reference or nonce
        assert [m["nonce"] for m in discord_fake.messages[ALERTS]].count(held) == 1
        assert discord_fake.titles(ALERTS).count("New donation: 1 ETH") == 1
        assert "Traceback" not in again.stderr, again.tail()
