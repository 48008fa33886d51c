"""Two `run` processes with one Discord token on one PostgreSQL ledger, against one anvil node and the
fake Discord, as a fund that outgrew one process runs them: every donation is stored and told once
(no duplicate transfer, event or message), the gateway is open in exactly one of them (a leader
elected with a PostgreSQL advisory lock, bot/leader.py), and when the process holding it is
SIGKILLed the other connects and tells the next donation within about one lease period
(LEASE_SECONDS = 5 s; asserted with a generous deadline, the measured time printed)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.leader import LEASE_SECONDS
from tests.e2e.support import ALERTS, WATCHED_ETH as WATCHED, BotConfig, BotProcess, bot_env, ledger_rows, ready, until
from tests.fakes.discord import FakeDiscord
from tests.fakes.ofac import FakeOfac
from tests.fakes.prices import PriceFake
from tests.watchers.ethereum.devchain import ETH, DevChain

LEADS, STANDS_BY = "leader for discord:", "standby for discord:"  # bot/leader.py's log lines
TAKEOVER_DEADLINE = 30.0  # generous: one lease period, a login and an alert flush fit well inside


def instance(tmp_path: Path, name: str, ledger: str, dev: DevChain, prices: PriceFake, discord: FakeDiscord,
             ofac: FakeOfac) -> Path:
    """One instance's settings: the shared ledger, chain, Discord and token; a data directory and HTTP port of its own."""
    return (BotConfig(tmp_path, name, database_url=ledger).ethereum(dev.url, poll_seconds=0.5)
            .wallet("ethereum", WATCHED, start_height=1).discord(discord).prices(prices.url)
            .set("screening", ofac_url=ofac.url).write())


async def counts(url: str) -> tuple[int, int, int]:
    """(transfers, distinct txids, transfer.new events) in the ledger."""
    rows = await ledger_rows(url, "SELECT (SELECT count(*) FROM transfer), (SELECT count(DISTINCT txid) FROM transfer), "
                                  "(SELECT count(*) FROM event WHERE kind = 'transfer.new')")
    return tuple(int(n) for n in rows[0]) if rows else (0, 0, 0)  # type: ignore[return-value]


def told(discord: FakeDiscord, *amounts: int) -> bool:
    """Whether Discord has a message about each donation of these whole-ETH amounts (new, or already confirmed)."""
    return all(any(t.endswith(f": {n} ETH") for t in discord.titles(ALERTS)) for n in amounts)


async def repeated_events(url: str) -> list[tuple[object, ...]]:
    """Events recorded more than once for the same transfer."""
    return await ledger_rows(url, "SELECT kind, transfer_id, count(*) FROM event WHERE transfer_id IS NOT NULL "
                                  "GROUP BY kind, transfer_id HAVING count(*) > 1")


@pytest.mark.postgres
@pytest.mark.slow
class TestTwoInstances:
    async def test_one_gateway_each_message_once_and_the_standby_takes_over(
        self, tmp_path: Path, dev: DevChain, prices: PriceFake, discord_fake: FakeDiscord, ofac: FakeOfac, pg_ledger: str,
    ) -> None:
        """Both poll one chain with one token: one gateway, each donation stored and told once; SIGKILL the leader, the other tells the next."""
        env = bot_env(DONATION_WATCH_DISCORD__TOKEN="fake-token")
        dev.mine(1)  # the tip at or above the wallet's start height, as on a real chain: what comes later is news
        configs = [instance(tmp_path, name, pg_ledger, dev, prices, discord_fake, ofac) for name in ("a", "b")]
        async with await BotProcess.start(configs[0], "run", name="a", env=env) as a:
            # b starts once a has set up the shared ledger: two first starts at the same moment race on
            # the configured wallets' rows (uq_wallet_chain_address; see the notes of this work)
            await a.said("watching ")
            async with await BotProcess.start(configs[1], "run", name="b", env=env) as b:
                await asyncio.gather(ready(a, discord_fake), ready(b, discord_fake))
                both = lambda: a.tail() + b.tail()  # noqa: E731
                await until(lambda: [LEADS in p.stderr for p in (a, b)].count(True) == 1
                            and [STANDS_BY in p.stderr for p in (a, b)].count(True) == 1,
                            "one instance to lead the gateway and the other to stand by", 30, detail=both)
                leader, survivor = (a, b) if LEADS in a.stderr else (b, a)

                for n, account in enumerate(dev.accounts[1:4], start=1):
                    dev.send(account, WATCHED, n * ETH)
                await until(lambda: told(discord_fake, 1, 2, 3), "the three donations told", 60,
                            detail=lambda: f"Discord has: {discord_fake.titles(ALERTS)}\n{both()}")
                assert (discord_fake.identifies, discord_fake.gateways_open) == (1, 1)

                await leader.kill()  # SIGKILL: its database connections, and with them its advisory lock, drop
                killed_at = time.monotonic()
                dev.send(dev.accounts[4], WATCHED, 4 * ETH)
                await until(lambda: discord_fake.identifies == 2, f"{survivor.name} to take over the gateway",
                            TAKEOVER_DEADLINE, every=0.1, detail=survivor.tail)
                connected = time.monotonic() - killed_at
                await until(lambda: told(discord_fake, 4), f"{survivor.name} to tell the next donation",
                            TAKEOVER_DEADLINE - connected, every=0.1, detail=survivor.tail)
                told_after = time.monotonic() - killed_at
                print(f"\ntakeover after SIGKILL of the gateway's instance: gateway again in {connected:.1f} s, the next "
                      f"donation told in {told_after:.1f} s (lease {LEASE_SECONDS:g} s; alerts flushed every 5 s)")
                assert LEADS in survivor.stderr and discord_fake.gateways_open == 1
                assert await survivor.stop() == 0, survivor.tail()

        assert await counts(pg_ledger) == (4, 4, 4)  # no duplicate transfer or "new" event
        assert await repeated_events(pg_ledger) == []
        assert len(discord_fake.titles(ALERTS)) == 4 and told(discord_fake, 1, 2, 3, 4)  # each donation told once
        assert discord_fake.most_gateways_open == 1  # never two clients on the one token
        assert "Traceback" not in a.stderr + b.stderr, both()
