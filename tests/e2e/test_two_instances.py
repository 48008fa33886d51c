"""Two `run` processes on one PostgreSQL ledger against one anvil node, as a fund that outgrew one
process runs them: every donation stored once (no duplicate transfer or event), and when one
process is SIGKILLed mid-work the other goes on polling the chain."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.support import WATCHED_ETH as WATCHED, BotConfig, BotProcess, ledger_rows, until
from tests.fakes.prices import PriceFake
from tests.watchers.ethereum.devchain import ETH, DevChain


def instance(tmp_path: Path, name: str, ledger: str, dev: DevChain, prices: PriceFake) -> BotConfig:
    """One instance's settings: the shared ledger and chain, a data directory and HTTP port of its own."""
    return (BotConfig(tmp_path, name, database_url=ledger).ethereum(dev.url, poll_seconds=0.5)
            .wallet("ethereum", WATCHED, start_height=1).prices(prices.url)
            .set("screening", ofac_url="http://127.0.0.1:9/offline", max_list_age_days=3650))


async def counts(url: str) -> tuple[int, int, int]:
    """(transfers, distinct txids, transfer.new events) in the ledger."""
    rows = await ledger_rows(url, "SELECT (SELECT count(*) FROM transfer), (SELECT count(DISTINCT txid) FROM transfer), "
                                  "(SELECT count(*) FROM event WHERE kind = 'transfer.new')")
    return tuple(int(n) for n in rows[0]) if rows else (0, 0, 0)  # type: ignore[return-value]


async def stored(url: str, transfers: int) -> tuple[int, int, int]:
    """The counts once at least `transfers` are stored."""

    async def enough() -> bool:
        return (await counts(url))[0] >= transfers

    await until(enough, f"{transfers} transfers to be stored", 30)
    return await counts(url)


@pytest.mark.postgres
@pytest.mark.slow
class TestTwoInstances:
    async def test_no_duplicates_and_the_survivor_polls_on(self, tmp_path: Path, dev: DevChain, prices: PriceFake,
                                                           pg_ledger: str) -> None:
        """Both processes poll one chain: each donation is stored once; after SIGKILL of one, the other stores the next."""
        async with await BotProcess.start(instance(tmp_path, "a", pg_ledger, dev, prices).write(), "run", name="a") as a:
            await a.said("watching ")
            async with await BotProcess.start(instance(tmp_path, "b", pg_ledger, dev, prices).write(), "run", name="b") as b:
                await b.said("watching ")
                for account in dev.accounts[1:4]:
                    dev.send(account, WATCHED, ETH)
                dev.mine(3)
                assert await stored(pg_ledger, 3) == (3, 3, 3)
                await a.kill()  # SIGKILL: its connections (and any poll lock it held) drop with it
                dev.send(dev.accounts[4], WATCHED, 2 * ETH)
                dev.mine(3)
                assert await stored(pg_ledger, 4) == (4, 4, 4)
                assert await b.stop() == 0, b.tail()
                assert "Traceback" not in b.stderr
