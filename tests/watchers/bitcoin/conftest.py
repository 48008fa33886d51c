"""Fixtures for the Bitcoin watcher: a running fake Esplora server, and watchers pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import select

from ledger.database import Database
from ledger.models import Transfer, TransferSender
from ledger.wallets import upsert_wallet
from tests.fakes.esplora import EsploraFake
from watchers.bitcoin import BitcoinChainConfig, BitcoinWatcher
from watchers.retry import RetryPolicy

CHAIN = "bitcoin"
FAST_RETRY = RetryPolicy(attempts=3, base_seconds=0.01, max_seconds=0.05)


@pytest.fixture
async def fake() -> AsyncIterator[EsploraFake]:
    """A fake Esplora server on a free local port, with one block mined."""
    server = EsploraFake()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def watcher_factory(db: Database, fake: EsploraFake) -> AsyncIterator[Callable[..., BitcoinWatcher]]:
    """Make Bitcoin watchers on the test database talking to the fake (closed at the end)."""
    made: list[BitcoinWatcher] = []

    def make(**overrides: Any) -> BitcoinWatcher:
        options: dict[str, Any] = dict(
            name=CHAIN, esplora_urls=(fake.url,), requests_per_second=1000.0, timeout_seconds=2.0,
            concurrency=4, retry=FAST_RETRY,
        )
        options.update(overrides)
        w = BitcoinWatcher(BitcoinChainConfig(**options), db)
        made.append(w)
        return w

    yield make
    for w in made:
        await w.close()


@pytest.fixture
def watcher(watcher_factory: Callable[..., BitcoinWatcher]) -> BitcoinWatcher:
    """The default watcher: 6 confirmations, no rate limit to speak of."""
    return watcher_factory()


async def watch(db: Database, address: str, *, start_height: int | None = None) -> int:
    """Add a watched Bitcoin wallet; returns its id."""
    async with db.session() as s:
        wallet, _ = await upsert_wallet(s, CHAIN, address, label="test", start_height=start_height)
        assert wallet.id is not None
        return wallet.id


async def transfers(db: Database, wallet_id: int | None = None) -> list[Transfer]:
    """Stored transfers (of one wallet if given), by id."""
    async with db.session() as s:
        stmt = select(Transfer).order_by(Transfer.id)
        if wallet_id is not None:
            stmt = stmt.where(Transfer.wallet_id == wallet_id)
        return list((await s.execute(stmt)).scalars())


async def senders(db: Database, transfer_id: int) -> set[str]:
    """The stored senders of one transfer."""
    async with db.session() as s:
        rows = await s.execute(select(TransferSender.address).where(TransferSender.transfer_id == transfer_id))
        return set(rows.scalars())
