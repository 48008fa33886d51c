"""Shared fixtures of the valuation tests: the fake price server, sources pointed at it, and a
helper that stores transfers in the ledger at chosen times."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta, timezone

import pytest

from ledger.database import Database
from ledger.models import TransferStatus
from ledger.wallets import upsert_wallet
from ledger.writes import TransferIn, record_transfers
from tests.fakes.prices import PriceFake
from valuation.coinbase import CoinbaseSource
from valuation.kraken import KrakenSource
from watchers.retry import RetryPolicy

NOW = datetime(2025, 6, 1, 12, 30, tzinfo=timezone.utc)
FAST_RETRY = RetryPolicy(attempts=3, base_seconds=0.01, max_seconds=0.05)
WALLET = "0x165CD37b4C644C2921454429E7F9358d18A45e14"

Store = Callable[..., Awaitable[int]]


@pytest.fixture
async def prices() -> AsyncIterator[PriceFake]:
    fake = PriceFake(NOW)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def sources(prices: PriceFake) -> AsyncIterator[list]:
    """Coinbase then Kraken, both on the fake, with a high rate limit and quick retries."""
    made = [
        CoinbaseSource(prices.url, requests_per_second=1000, retry=FAST_RETRY),
        KrakenSource(prices.url + "/0", requests_per_second=1000, retry=FAST_RETRY),
    ]
    try:
        yield made
    finally:
        for s in made:
            await s.close()


_serial = iter(range(1, 10**9))


@pytest.fixture
def store(db: Database) -> Store:
    """Store one transfer of ``amount`` base units at ``at`` (block time, or first seen when mempool=True)."""

    async def _store(asset: str, decimals: int, amount: int, at: datetime, *, mempool: bool = False,
                     status: TransferStatus = TransferStatus.CONFIRMED) -> int:
        n = next(_serial)
        async with db.session() as s:
            wallet, _ = await upsert_wallet(s, "ethereum", WALLET)
            item = TransferIn(
                chain="ethereum", txid=f"0x{n:064x}", position=-1, wallet_id=wallet.id, asset=asset, decimals=decimals,
                amount=amount, senders=("0x" + "ab" * 20,), block_height=None if mempool else n,
                block_hash=None if mempool else f"0x{n:064x}", block_time=None if mempool else at,
                status=TransferStatus.PENDING if mempool else status,
            )
            result = await record_transfers(s, [item], now=at if mempool else NOW)
        return result.inserted[0]

    return _store


def hours_ago(n: float) -> datetime:
    return NOW - timedelta(hours=n)
