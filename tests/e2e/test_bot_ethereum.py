"""The whole bot, as an operator runs it, against a real local Ethereum node (anvil): ETH and an
allowlisted token from a real OFAC-listed address are stored, announced and flagged; a spam
token is not counted."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.support import OFAC_ETH, WATCHED_ETH as WATCHED, BotConfig, first_listed, run_bot
from tests.fakes.prices import PriceFake
from tests.watchers.ethereum.devchain import DevChain


class TestEthereumEndToEnd:
    async def test_listed_donor_is_stored_announced_and_flagged(self, tmp_path: Path, dev: DevChain, prices: PriceFake) -> None:
        """poll --once stores ETH and allowlisted-token donations from a listed sender, flags them, skips spam, values them."""
        listed = first_listed(OFAC_ETH)
        usdt = dev.deploy_token("USDT", 6)
        spam = dev.deploy_token("SPAM", 18)
        dev.impersonate(listed)
        dev.mint(usdt, listed, 5_000_000_000)
        dev.mint(spam, listed, 10**24)
        config = (BotConfig(tmp_path).ethereum(dev.url, tokens={"USDT": (usdt, 6)})
                  .wallet("ethereum", WATCHED, label="Relief fund (ETH)", start_height=1).prices(prices.url).write())
        status, out, err = await run_bot(config, "poll", "--once")  # the first poll: the blocks so far are the past
        assert status == 0 and "ethereum: 0 new" in out, err + out

        dev.send(listed, WATCHED, 25 * 10**17)
        dev.transfer_token(usdt, listed, WATCHED, 1_250_000_000)
        dev.transfer_token(spam, listed, WATCHED, 10**24)
        dev.mine(3)
        status, out, err = await run_bot(config, "poll", "--once")
        assert status == 0, err + out
        assert "ethereum: 2 new" in out
        assert "New donation: 2.5 ETH\n    2.5 ETH to Relief fund (ETH) on ethereum" in out
        assert "New donation: 1,250 USDT\n    1,250 USDT to Relief fund (ETH) on ethereum" in out
        assert out.count("ALERT Sanctions hit: ") == 2 and "SPAM" not in out

        status, out, _ = await run_bot(config, "totals")
        assert status == 0 and "2.5" in out and "1,250" in out and "SPAM" not in out
        assert "confirmed at arrival" in out and "not valued yet" not in out and prices.requests["candles"] >= 2
