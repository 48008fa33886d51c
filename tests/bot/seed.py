"""A small seeded ledger for the chat tests: two wallets, BTC and ETH donations, one sanctions hit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from bot.settings import Settings
from ledger.database import Database
from ledger.models import Event, TransferStatus
from ledger.wallets import upsert_wallet
from ledger.writes import TransferIn, record_transfers, set_status

BTC_WALLET = "bc1qm34lsc65zpw79lxes69zkqmk6ee3ewf0j77s3h"
ETH_WALLET = "0x165CD37b4C644C2921454429E7F9358d18A45e14"
DONOR = "0x8589427373D6D84E98730D7795D8f6f8731FDA16"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


def chat_settings(**alerts: object) -> Settings:
    """Settings with a mainnet Bitcoin and Ethereum chain (for explorer links) and the given alerts keys."""
    return Settings(
        chains={
            "bitcoin": {"kind": "bitcoin", "esplora_urls": ["http://127.0.0.1:9/api"]},
            "ethereum": {"kind": "evm", "chain_id": 1, "rpc_urls": ["http://127.0.0.1:9"]},
        },
        alerts=alerts,
    )


@dataclass
class Seeded:
    btc_wallet: int
    eth_wallet: int
    transfers: list[int]


async def seed(db: Database, now: datetime = NOW) -> Seeded:
    """Donations over 40 days: BTC 0.5 (40 d ago, confirmed), 0.25 (2 d), 0.1 (1 h, pending); ETH 1.5 (5 d), 3 (2 h); one orphaned."""
    async with db.session() as s:
        bw, _ = await upsert_wallet(s, "bitcoin", BTC_WALLET, label="Relief (BTC)")
        ew, _ = await upsert_wallet(s, "ethereum", ETH_WALLET, label="Relief (ETH)")
    plan = [
        ("bitcoin", bw.id, "BTC", 8, 50_000_000, timedelta(days=40), TransferStatus.CONFIRMED, 100),
        ("bitcoin", bw.id, "BTC", 8, 25_000_000, timedelta(days=2), TransferStatus.CONFIRMED, 200),
        ("bitcoin", bw.id, "BTC", 8, 10_000_000, timedelta(hours=1), TransferStatus.PENDING, None),
        ("ethereum", ew.id, "ETH", 18, 15 * 10**17, timedelta(days=5), TransferStatus.CONFIRMED, 10),
        ("ethereum", ew.id, "ETH", 18, 3 * 10**18, timedelta(hours=2), TransferStatus.PENDING, 20),
        ("ethereum", ew.id, "ETH", 18, 7 * 10**18, timedelta(hours=3), TransferStatus.PENDING, 19),
    ]
    ids = []
    for n, (chain, wid, asset, dec, amt, ago, status, height) in enumerate(plan):
        txid = f"{n + 1:064x}" if chain == "bitcoin" else f"0x{n + 1:064x}"
        async with db.session() as s:
            res = await record_transfers(s, [TransferIn(
                chain=chain, txid=txid, position=0 if chain == "bitcoin" else -1, wallet_id=wid, asset=asset,
                decimals=dec, amount=amt, senders=(DONOR if chain == "ethereum" else "1BoatSLRHtKNngkdXEeobR76b53LETtpyT",),
                block_height=height, block_hash=f"0x{height or 0:02x}" if height else None, status=status)], now=now - ago)
            ids.append(res.inserted[0])
    async with db.session() as s:
        await set_status(s, [ids[-1]], TransferStatus.ORPHANED, now=now - timedelta(hours=1))
    return Seeded(bw.id, ew.id, ids)  # type: ignore[arg-type]


async def events(db: Database) -> list[Event]:
    async with db.session() as s:
        return list((await s.execute(select(Event).order_by(Event.id))).scalars())
