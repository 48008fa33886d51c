"""A wallet's EVM history through an Etherscan-compatible explorer, every lead checked on the anvil node."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from ledger.database import Database
from ledger.history_import import get_import, plan_import
from ledger.models import Event, Wallet
from tests.fakes.explorer import ExplorerFake
from tests.watchers.ethereum.conftest import ANVIL_CHAIN_ID, CHAIN, FAST_RETRY, add_wallet, stored
from tests.watchers.ethereum.devchain import ETH, DevChain, fresh_address
from watchers.errors import SourceUnavailable
from watchers.evm_history import EvmHistory, ImportProgress
from watchers.evm_mapping import TokenSpec
from watchers.evm_rpc import RpcClient
from watchers.evm_source import EvmChainConfig, EvmSource
from watchers.explorer_client import ExplorerClient, ExplorerConfig, ExplorerError


@pytest.fixture
async def explorer(dev: DevChain) -> AsyncIterator[ExplorerFake]:
    fake = ExplorerFake(dev.url)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def make_history(db: Database, dev: DevChain) -> AsyncIterator[Any]:
    made: list[tuple[EvmHistory, RpcClient]] = []

    def _make(explorer: ExplorerFake | None, tokens: tuple[TokenSpec, ...] = (), *, page_size: int = 2, key: str = "TESTKEY") -> EvmHistory:
        config = EvmChainConfig(name=CHAIN, chain_id=ANVIL_CHAIN_ID, rpc_urls=(dev.url,), tokens=tokens, confirmations=0,
                                timeout_seconds=5.0, retry=FAST_RETRY)
        rpc = RpcClient(config.rpc_urls, timeout_seconds=5.0, retry=FAST_RETRY)
        client = None
        if explorer is not None:
            chain_id = ANVIL_CHAIN_ID if explorer.flavour == "etherscan" else None
            client = ExplorerClient(ExplorerConfig(explorer.api_url, chain_id=chain_id, api_key=key, requests_per_second=100,
                                                   page_size=page_size), retry=FAST_RETRY)
        history = EvmHistory(db, EvmSource(config, rpc), client)
        made.append((history, rpc))
        return history

    yield _make
    for history, rpc in made:
        await history.close()
        await rpc.close()


async def _plan(db: Database, wallet_id: int, since: int = 1) -> None:
    async with db.session() as s:
        wallet = await s.get(Wallet, wallet_id)
        assert wallet is not None
        await plan_import(s, wallet, since_height=since)


def _history(dev: DevChain, wallet: str) -> tuple[list[str], str, str]:
    """Three native payments, two token payments and one internal payment to ``wallet``, plus other traffic."""
    usdt = dev.deploy_token("USDT", 6)
    donor = dev.accounts[3]
    dev.mint(usdt, donor, 10**12)
    forwarder = dev.deploy_forwarder()
    real = [dev.send(dev.accounts[1], wallet, (i + 1) * ETH) for i in range(3)]
    real += [dev.transfer_token(usdt, donor, wallet, 5_000_000 * (i + 1)) for i in range(2)]
    real.append(dev.forward(forwarder, dev.accounts[2], wallet, ETH // 2))
    other_native = dev.send(dev.accounts[1], fresh_address(999), 7 * ETH)
    other_token = dev.transfer_token(usdt, donor, fresh_address(998), 1_000_000)
    return real, usdt, other_native + "|" + other_token


class TestExplorerImport:
    async def test_history_is_the_nodes_truth_and_lies_are_rejected(
        self, db: Database, dev: DevChain, explorer: ExplorerFake, make_history: Any
    ) -> None:
        """Every real payment is stored once with the node's amounts; made-up, misdirected and inflated records are not."""
        wallet = fresh_address(300)
        real, usdt, others = _history(dev, wallet)
        other_native, other_token = others.split("|")
        w = wallet.lower()
        explorer.lie("txlist", {"blockNumber": "3", "hash": "0x" + "ab" * 32, "from": dev.accounts[1].lower(), "to": w, "value": str(100 * ETH)})
        explorer.lie("txlist", {"blockNumber": "3", "hash": other_native, "from": dev.accounts[1].lower(), "to": w, "value": str(7 * ETH)})
        explorer.lie("tokentx", {"blockNumber": "3", "hash": other_token, "from": dev.accounts[3].lower(), "to": w,
                                 "value": "1000000", "contractAddress": usdt.lower()})
        explorer.lie("txlist", {"blockNumber": "3", "hash": real[0], "from": dev.accounts[1].lower(), "to": w, "value": str(10**30)})
        wid = await add_wallet(db, wallet)
        await _plan(db, wid)
        history = make_history(explorer, (TokenSpec("USDT", usdt, 6),))
        outcome = await history.run(wid)
        rows = await stored(db)
        assert sorted(t.txid for t in rows) == sorted(real)
        assert sorted(t.amount for t in rows if t.asset == "ETH") == [ETH // 2, ETH, 2 * ETH, 3 * ETH]
        assert sorted(t.amount for t in rows if t.asset == "USDT") == [5_000_000, 10_000_000]
        assert outcome.stored == 6 and outcome.rejected == 3

    async def test_history_is_recorded_as_history(self, db: Database, dev: DevChain, explorer: ExplorerFake, make_history: Any) -> None:
        """The imported transfers' transfer.new events say history, so no channel announces them one by one."""
        wallet = fresh_address(301)
        dev.send(dev.accounts[1], wallet, ETH)
        wid = await add_wallet(db, wallet)
        await _plan(db, wid)
        await make_history(explorer).run(wid)
        async with db.session() as s:
            events = (await s.execute(select(Event).where(Event.kind == "transfer.new"))).scalars().all()
        assert [e.detail.get("history") for e in events] == [True]

    async def test_rate_limit_answers_are_waited_out(self, db: Database, dev: DevChain, explorer: ExplorerFake, make_history: Any) -> None:
        """Etherscan's HTTP-200 "Max rate limit reached" answers are retried, and the import completes."""
        wallet = fresh_address(302)
        txid = dev.send(dev.accounts[1], wallet, ETH)
        wid = await add_wallet(db, wallet)
        await _plan(db, wid)
        explorer.rate_limit_next(2)
        await make_history(explorer).run(wid)
        assert [t.txid for t in await stored(db)] == [txid]

    async def test_blockscout_429_is_waited_out(self, db: Database, dev: DevChain, make_history: Any) -> None:
        """A keyless Blockscout instance answering 429 is retried, and the import completes."""
        fake = ExplorerFake(dev.url, flavour="blockscout")
        await fake.start()
        try:
            wallet = fresh_address(303)
            txid = dev.send(dev.accounts[1], wallet, ETH)
            wid = await add_wallet(db, wallet)
            await _plan(db, wid)
            fake.rate_limit_next(1)
            await make_history(fake, key="").run(wid)
        finally:
            await fake.stop()
        assert [t.txid for t in await stored(db)] == [txid]

    async def test_no_transactions_found_completes_empty(self, db: Database, dev: DevChain, explorer: ExplorerFake, make_history: Any) -> None:
        """An address the explorer has nothing for ("No transactions found") imports nothing, without error."""
        dev.mine(3)
        wid = await add_wallet(db, fresh_address(304))
        await _plan(db, wid)
        outcome = await make_history(explorer).run(wid)
        assert outcome.stored == 0 and await stored(db) == []

    async def test_invalid_key_is_one_clear_error(self, db: Database, dev: DevChain, explorer: ExplorerFake, make_history: Any) -> None:
        """A wrong Etherscan key stops the import with the explorer's own reason."""
        dev.mine(1)
        wid = await add_wallet(db, fresh_address(305))
        await _plan(db, wid)
        with pytest.raises(ExplorerError, match="Invalid API Key"):
            await make_history(explorer, key="WRONG").run(wid)

    async def test_import_stopped_midway_continues_where_it_stopped(
        self, db: Database, dev: DevChain, explorer: ExplorerFake, make_history: Any
    ) -> None:
        """An explorer outage mid-import keeps the pages already stored; the next run stores the rest, nothing twice."""
        wallet = fresh_address(306)
        real = [dev.send(dev.accounts[1], wallet, (i + 1) * ETH) for i in range(5)]
        wid = await add_wallet(db, wallet)
        await _plan(db, wid)
        seen: list[ImportProgress] = []
        history = make_history(explorer, page_size=2)

        def _progress(p: ImportProgress) -> None:
            seen.append(p)
            if len(seen) == 2:
                explorer.fail_next(FAST_RETRY.attempts)

        with pytest.raises(SourceUnavailable):
            await history.run(wid, progress=_progress)
        partial = await stored(db)
        assert 0 < len(partial) < 5
        async with db.session() as s:
            imp = await get_import(s, wid)
            assert imp is not None and imp.resume is not None
        first_block = int(real and dev.receipt(real[0])["blockNumber"], 16)
        asked_before = len(explorer.queries)
        await history.run(wid)
        assert sorted(t.txid for t in await stored(db)) == sorted(real)
        resumed = explorer.queries[asked_before]
        assert (resumed["action"], int(resumed["startblock"])) == ("txlist", first_block + 1)  # not from the start again
