"""`donation-watch import` as an operator runs it: a wallet's history from a (fake) Etherscan V2 API
in front of anvil, every lead checked on the node, stored as history and screened; `wallets list`
shows the import; the live poll that follows announces none of it again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.support import OFAC_ETH, WATCHED_ETH as WATCHED, BotConfig, first_listed, run_bot
from tests.fakes.explorer import ExplorerFake
from tests.fakes.serve import running
from tests.watchers.ethereum.devchain import DevChain

KEY = "E2E-KEY"


@pytest.fixture
async def explorer(dev: DevChain) -> AsyncIterator[ExplorerFake]:
    async with running(ExplorerFake(dev.url, api_key=KEY)) as fake:
        yield fake


def write_config(tmp_path: Path, rpc_url: str, api_url: str, token: str) -> Path:
    return (BotConfig(tmp_path).ethereum(rpc_url, tokens={"USDT": (token, 6)})
            .set("chains.ethereum.explorer", kind="etherscan", url=api_url, requests_per_second=50, page_size=2).write())


class TestImportEndToEnd:
    async def test_import_stores_checked_history_screens_it_and_lists_progress(
        self, tmp_path: Path, dev: DevChain, explorer: ExplorerFake, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """import stores the node-confirmed history (a lie rejected), flags the listed donor, and poll --once announces none of it."""
        listed = first_listed(OFAC_ETH)
        usdt = dev.deploy_token("USDT", 6)
        dev.impersonate(listed)
        dev.mint(usdt, listed, 5_000_000_000)
        for i in range(3):
            dev.send(listed, WATCHED, (i + 1) * 10**17)
        dev.transfer_token(usdt, listed, WATCHED, 1_250_000_000)
        explorer.lie("txlist", {"blockNumber": "2", "hash": "0x" + "cd" * 32, "from": listed.lower(), "to": WATCHED.lower(),
                                "value": str(10**24)})
        dev.mine(3)
        monkeypatch.setenv("DONATION_WATCH_ETHERSCAN_API_KEY", KEY)
        config = write_config(tmp_path, dev.url, explorer.api_url, usdt)

        status, out, err = await run_bot(config, "import", "ethereum", WATCHED, "--label", "Relief fund (ETH)")
        assert status == 0, err + out
        assert "4 transfers stored as history, 1 explorer leads rejected by the node" in out
        assert KEY not in out + err

        status, out, _ = await run_bot(config, "totals")
        assert status == 0 and "0.6" in out and "1,250" in out

        status, out, _ = await run_bot(config, "sanctions", "status")
        assert status == 0 and "4 active" in out, out

        status, out, _ = await run_bot(config, "wallets", "list")
        assert status == 0 and "Relief fund (ETH)" in out and "4 stored, 1 rejected" in out

        status, out, err = await run_bot(config, "poll", "--once")
        assert status == 0, err
        assert "ethereum: 0 new" in out and "new donation" not in out

    async def test_missing_key_is_one_line(self, tmp_path: Path, dev: DevChain, explorer: ExplorerFake, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without DONATION_WATCH_ETHERSCAN_API_KEY the import stops with Etherscan's reason in one line, no traceback."""
        monkeypatch.delenv("DONATION_WATCH_ETHERSCAN_API_KEY", raising=False)
        usdt = dev.deploy_token("USDT", 6)
        config = write_config(tmp_path, dev.url, explorer.api_url, usdt)
        status, out, err = await run_bot(config, "import", "ethereum", WATCHED)
        assert status == 2
        assert "Invalid API Key" in err and "Traceback" not in err
