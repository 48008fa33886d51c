"""The whole bot, as an operator runs it, against a real local Ethereum node (anvil): ETH and an
allowlisted token from a real OFAC-listed address are stored, announced and flagged; a spam
token is not counted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.botproc import ROOT, run_bot
from tests.fakes.anvil import Anvil, anvil_binary
from tests.fakes.prices import PriceFake, valuation_toml
from tests.watchers.ethereum.devchain import DevChain

OFAC_ETH = ROOT / "tests" / "data" / "sanctions" / "ofac_sdn_2025-11-19" / "sanctioned_addresses_ETH.txt"
WATCHED = "0x165CD37b4C644C2921454429E7F9358d18A45e14"


@pytest.fixture
def dev() -> Iterator[DevChain]:
    if anvil_binary() is None:
        pytest.fail("anvil is not installed: run `make test` (npm installs it into node_modules/)", pytrace=False)
    node = Anvil()
    try:
        yield DevChain(node)
    finally:
        node.stop()


def write_config(tmp_path: Path, rpc_url: str, token: str, prices_url: str = "http://127.0.0.1:9") -> Path:
    path = tmp_path / "bot.toml"
    path.write_text(f"""
data_dir = "{tmp_path / 'data'}"

[database]
url = "sqlite+aiosqlite:///{tmp_path / 'data' / 'ledger.db'}"

[chains.ethereum]
kind = "evm"
chain_id = 31337
rpc_urls = ["{rpc_url}"]
confirmations = 2
timeout_seconds = 5

[[chains.ethereum.tokens]]
symbol = "USDT"
address = "{token}"
decimals = 6

[[wallets]]
chain = "ethereum"
address = "{WATCHED}"
label = "Relief fund (ETH)"
start_height = 1

[screening]
ofac_url = "http://127.0.0.1:9/unreachable"
""" + valuation_toml(prices_url))
    return path


class TestEthereumEndToEnd:
    async def test_listed_donor_is_stored_announced_and_flagged(self, tmp_path: Path, dev: DevChain, prices: PriceFake) -> None:
        """poll --once stores ETH and allowlisted-token donations from a listed sender, flags them, skips spam, values them."""
        listed = next(line.strip() for line in OFAC_ETH.read_text().splitlines() if line.strip())
        usdt = dev.deploy_token("USDT", 6)
        spam = dev.deploy_token("SPAM", 18)
        dev.impersonate(listed)
        dev.mint(usdt, listed, 5_000_000_000)
        dev.mint(spam, listed, 10**24)
        config = write_config(tmp_path, dev.url, usdt, prices.url)
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
