"""Fixtures of the screening tests: the real OFAC excerpts, a fake OFAC server, ledger helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ledger.database import Database
from ledger.wallets import upsert_wallet
from ledger.writes import TransferIn, record_transfers
from tests.fakes.ofac import FakeOfac

DATA = Path(__file__).resolve().parents[1] / "data" / "sanctions"
EXCERPT_1119 = DATA / "ofac_sdn_2025-11-19" / "sdn_advanced_excerpt.xml"
EXCERPT_0304 = DATA / "ofac_sdn_2025-03-04" / "sdn_advanced_excerpt.xml"
EXCERPT_0321 = DATA / "ofac_sdn_2025-03-21" / "sdn_advanced_excerpt.xml"
TORNADO = DATA / "ofac_delisted_ETH_2025-03-21_tornado_cash.txt"
ETH_WALLET = "0x165CD37b4C644C2921454429E7F9358d18A45e14"
BTC_WALLET = "357a3So9CbsNfBBgFYACGvxxS6tMaDoa1P"
# Lazarus Group (FixedRef 27307), listed under ETH; in every excerpt.
LAZARUS_ETH = "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"
# Khorashadizadeh (FixedRef 26137), listed under XBT.
KHORASHADIZADEH_XBT = "149w62rY42aZBox8fGcmqNsXUzSStKeq8C"
CLEAN_ETH = "0x00000000219ab540356cBB839Cbe05303d7705Fa"  # the beacon deposit contract
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def tornado_addresses() -> list[str]:
    return [line.strip() for line in TORNADO.read_text().splitlines() if line.strip()]


@pytest.fixture
async def fake_ofac() -> AsyncIterator[FakeOfac]:
    """A running fake OFAC server serving the 2025-03-04 excerpt."""
    server = FakeOfac(body=EXCERPT_0304.read_bytes())
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def store_transfer(db: Database, senders: tuple[str, ...], *, txid: str, chain: str = "ethereum") -> int:
    """Store one incoming transfer with the given senders; returns its id."""
    wallet_address = ETH_WALLET if chain == "ethereum" else BTC_WALLET
    async with db.session() as s:
        wallet, _ = await upsert_wallet(s, chain, wallet_address, label="test")
        assert wallet.id is not None
        asset, decimals, position = ("ETH", 18, -1) if chain == "ethereum" else ("BTC", 8, 0)
        result = await record_transfers(
            s,
            [
                TransferIn(
                    chain=chain, txid=txid, position=position, wallet_id=wallet.id, asset=asset, decimals=decimals,
                    amount=10**decimals, senders=senders, block_height=100, block_hash="0x" + "01" * 32, block_time=T0,
                )
            ],
        )
    return result.inserted[0]
