"""The whole bot with a Discord token, as an operator runs it: `run` against a fake Discord (REST and
gateway over a socket) and a real local Ethereum node (anvil). A donation from an OFAC-listed
sender gives one donation alert, later edited to confirmed, and one sanctions alert mentioning the
operator role; `/donations total` then answers the right figure."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.botproc import polled, start_bot
from tests.e2e.test_bot_ethereum import OFAC_ETH, WATCHED
from tests.fakes.anvil import Anvil, anvil_binary
from tests.fakes.discord import FakeDiscord
from tests.fakes.prices import PriceFake, valuation_toml
from tests.watchers.ethereum.devchain import DevChain

ALERTS, ROLE = 5550001, 5550002


@pytest.fixture
def dev() -> Iterator[DevChain]:
    if anvil_binary() is None:
        pytest.fail("anvil is not installed: run `make test` (npm installs it into node_modules/)", pytrace=False)
    node = Anvil()
    try:
        yield DevChain(node)
    finally:
        node.stop()


@pytest.fixture
async def discord_fake() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


async def until(check: Callable[[], object], what: str, timeout: float = 60) -> None:
    async def wait() -> None:
        while not check():
            await asyncio.sleep(0.2)

    try:
        await asyncio.wait_for(wait(), timeout)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


def write_config(tmp_path: Path, dev: DevChain, prices: PriceFake, discord_fake: FakeDiscord) -> Path:
    config = tmp_path / "bot.toml"
    config.write_text(f"""
data_dir = "{tmp_path / 'data'}"
[database]
url = "sqlite+aiosqlite:///{tmp_path / 'data' / 'ledger.db'}"
[http]
port = 0
[discord]
alerts_channel_id = {ALERTS}
operator_role_id = {ROLE}
api_base = "{discord_fake.api_base}"
gateway_url = "{discord_fake.gateway_url}"
[chains.ethereum]
kind = "evm"
chain_id = 31337
rpc_urls = ["{dev.url}"]
confirmations = 3
poll_seconds = 1
timeout_seconds = 5
[[wallets]]
chain = "ethereum"
address = "{WATCHED}"
label = "Relief fund (ETH)"
start_height = 1
[screening]
ofac_url = "http://127.0.0.1:9/unreachable"
""" + valuation_toml(prices.url))
    return config


class TestDiscordEndToEnd:
    @pytest.mark.slow
    async def test_listed_donation_alerts_edit_and_total(self, tmp_path: Path, dev: DevChain, prices: PriceFake,
                                                         discord_fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> None:
        """One donation alert edited to confirmed, one sanctions alert mentioning the role, then /donations total answers 2.5 ETH."""
        config = write_config(tmp_path, dev, prices, discord_fake)
        monkeypatch.setenv("DONATION_WATCH_DISCORD__TOKEN", "fake-token")
        proc = await start_bot(config, "run")
        try:
            await until(discord_fake.identified.is_set, "the bot to connect to the gateway")
            await until(lambda: discord_fake.commands, "the slash commands to be synced")
            await until(lambda: polled(tmp_path / "data" / "ledger.db", "ethereum"), "the first poll (what came before is history)")
            await asyncio.sleep(6)  # the alerts channel has made its stream position (first flush)
            listed = next(line.strip() for line in OFAC_ETH.read_text().splitlines() if line.strip())
            dev.impersonate(listed)
            dev.send(listed, WATCHED, 25 * 10**17)  # one block: pending until 3 confirmations
            posted = lambda: discord_fake.messages.get(ALERTS, [])  # noqa: E731

            def titles() -> list[str]:
                return [m["embeds"][0]["title"] for m in posted() if m["embeds"]]

            await until(lambda: any(t.startswith("Sanctions hit") for t in titles()) and "New donation: 2.5 ETH" in titles(),
                        "the donation and sanctions alerts")
            dev.mine(3)
            try:
                await until(lambda: "Donation confirmed: 2.5 ETH" in titles(), "the donation alert edited to confirmed")
            except AssertionError:
                proc.send_signal(signal.SIGTERM)
                _, err = await asyncio.wait_for(proc.communicate(), 30)
                import sqlite3

                db = sqlite3.connect(tmp_path / "data" / "ledger.db")
                rows = db.execute("select id, status, block_height from transfer").fetchall()
                evs = db.execute("select id, kind from event").fetchall()
                dels = db.execute("select id, channel, event_id, state, attempts, next_try_at, lease_until, last_error, subject, external_id from delivery").fetchall()
                raise AssertionError(f"{rows} {evs} {dels} {dev.height()} {err.decode()[-2500:]}") from None
            donation = [t for t in titles() if "2.5 ETH" in t]
            assert donation == ["Donation confirmed: 2.5 ETH"]  # one message, edited in place
            hit = next(m for m in posted() if m["embeds"][0]["title"].startswith("Sanctions hit"))
            assert hit["content"].startswith(f"<@&{ROLE}>") and hit["allowed_mentions"]["roles"] == [ROLE]
            assert len([m for m in posted() if m["embeds"][0]["title"].startswith("Sanctions hit")]) == 1

            token = await discord_fake.interact("donations", "total")
            await until(lambda: any(r["token"] == token and r.get("embeds") for r in discord_fake.replies), "the /donations total reply")
            reply = next(r for r in discord_fake.replies if r["token"] == token and r.get("embeds"))
            fields = {f["name"]: f["value"] for f in reply["embeds"][0]["fields"]}
            assert fields["ETH"].startswith("**2.5** confirmed")
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, err.decode()[-3000:]
        assert "Traceback" not in err.decode(), err.decode()[-3000:]

    @pytest.mark.slow
    async def test_sigkill_after_posting_before_marking_posts_once(self, tmp_path: Path, dev: DevChain, prices: PriceFake,
                                                                  discord_fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> None:
        """Killed (SIGKILL) after Discord stored the alert but before the bot marked it: the restarted bot posts it once."""
        config = write_config(tmp_path, dev, prices, discord_fake)
        monkeypatch.setenv("DONATION_WATCH_DISCORD__TOKEN", "fake-token")
        discord_fake.hold_seconds = 30
        proc = await start_bot(config, "run")
        try:
            await until(discord_fake.identified.is_set, "the bot to connect to the gateway")
            await until(lambda: polled(tmp_path / "data" / "ledger.db", "ethereum"), "the first poll (what came before is history)")
            await asyncio.sleep(6)  # the alerts channel has made its stream position (first flush)
            dev.send(dev.rpc("eth_accounts")[0], WATCHED, 10**18)
            await until(discord_fake.created.is_set, "the first alert to reach Discord")
            held = next(r for r in discord_fake.requests if r.method == "POST" and "/messages" in r.path).payload["nonce"]
            proc.kill()  # SIGKILL: no chance to mark the delivery sent
            await proc.wait()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        discord_fake.hold_seconds = 0
        stored = [m for m in discord_fake.messages[ALERTS] if m["nonce"] == held]
        assert len(stored) == 1  # Discord has the message; the bot never marked its delivery sent
        ledger = sqlite3.connect(tmp_path / "data" / "ledger.db")
        delivery = lambda: ledger.execute(  # noqa: E731
            "select state, external_id, attempts from delivery where id = ?", (int(held.removeprefix("dw-")),)).fetchone()
        assert delivery()[0] == "pending"
        again = await start_bot(config, "run")
        try:
            await until(lambda: delivery()[0] == "sent", "the restarted bot to settle the unmarked alert", timeout=60)
        finally:
            again.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(again.communicate(), 30)
        assert delivery() == ("sent", stored[0]["id"], 2)  # the existing message, found by its reference or nonce
        assert [m["nonce"] for m in discord_fake.messages[ALERTS]].count(held) == 1
        assert [m["embeds"][0]["title"] for m in discord_fake.messages[ALERTS]].count("New donation: 1 ETH") == 1
        assert "Traceback" not in err.decode(), err.decode()[-3000:]
