"""Fixtures for the Ethereum watcher: wallets and a watcher factory over the fresh anvil per test
(`anvil` and `dev` in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from ledger.database import Database
from ledger.wallets import upsert_wallet
from tests.watchers.ethereum.devchain import DevChain
from watchers.ethereum import EvmWatcher
from watchers.evm_mapping import TokenSpec
from watchers.evm_source import EvmChainConfig
from watchers.retry import RetryPolicy

CHAIN = "ethereum"
ANVIL_CHAIN_ID = 31337
FAST_RETRY = RetryPolicy(attempts=3, base_seconds=0.01, max_seconds=0.05)


async def add_wallet(db: Database, address: str, *, start_height: int | None = None, chain: str = CHAIN) -> int:
    """Watch ``address``; returns the wallet id."""
    async with db.session() as s:
        wallet, _ = await upsert_wallet(s, chain, address, start_height=start_height)
        assert wallet.id is not None
        return wallet.id


WatcherFactory = Callable[..., EvmWatcher]


@pytest.fixture
async def make_watcher(db: Database, dev: DevChain) -> AsyncIterator[WatcherFactory]:
    """Build watchers on the test node (closed at the end); keyword arguments override the config."""
    made: list[EvmWatcher] = []

    def _make(tokens: tuple[TokenSpec, ...] = (), **overrides: Any) -> EvmWatcher:
        values: dict[str, Any] = dict(
            name=CHAIN,
            chain_id=ANVIL_CHAIN_ID,
            rpc_urls=(dev.url,),
            tokens=tokens,
            confirmations=0,
            timeout_seconds=5.0,
            retry=FAST_RETRY,
        )
        values.update(overrides)
        watcher = EvmWatcher(EvmChainConfig(**values), db)
        made.append(watcher)
        return watcher

    yield _make
    for watcher in made:
        await watcher.close()


async def stored(db: Database, chain: str = CHAIN) -> list[Any]:
    """Every transfer of the chain, oldest first."""
    from sqlalchemy import select

    from ledger.models import Transfer

    async with db.session() as s:
        return list((await s.execute(select(Transfer).where(Transfer.chain == chain).order_by(Transfer.id))).scalars())


async def senders(db: Database, transfer_id: int) -> list[str]:
    from ledger.queries import senders_of

    async with db.session() as s:
        return await senders_of(s, transfer_id)


async def totals(db: Database, wallet_id: int) -> dict[str, tuple[int, int]]:
    """(confirmed, pending) amounts per asset of one wallet."""
    from ledger.queries import totals as ledger_totals

    async with db.session() as s:
        return {t.asset: (t.confirmed, t.pending) for t in await ledger_totals(s, wallet_id=wallet_id)}


async def cursor(db: Database, chain: str = CHAIN) -> tuple[int, str | None] | None:
    from ledger.models import ChainCursor

    async with db.session() as s:
        row = await s.get(ChainCursor, chain)
        return (row.height, row.block_hash) if row else None


@pytest.fixture
async def proxy(dev: DevChain) -> AsyncIterator[Any]:
    """A fault-injecting JSON-RPC proxy in front of the anvil node."""
    from tests.fakes.rpc_proxy import RpcProxy

    server = RpcProxy(dev.url)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
