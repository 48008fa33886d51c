"""A small, known ledger for the page's tests: two official wallets, six donations, one from a listed sender."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from bot.settings import Settings
from ledger.database import Database
from ledger.models import TransferStatus
from ledger.screening_tables import ScreeningHit, ScreeningListVersion, ScreeningSource
from ledger.valuation_tables import TransferValue
from ledger.wallets import upsert_wallet
from valuation.money import value_of
from ledger.writes import TransferIn, record_transfers

# Real addresses: Ukraine's published donation addresses (config/example.toml).
BTC_ADDRESS = "357a3So9CbsNfBBgFYACGvxxS6tMaDoa1P"
ETH_ADDRESS = "0x165CD37b4C644C2921454429E7F9358d18A45e14"
# A real OFAC-listed Ethereum address (Tornado Cash router, SDN list 2022-08-08).
LISTED_SENDER = "0xd90e2f925DA726b50C4Ed8D0Fb90Ad053324F31b"
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)

# (chain, asset, decimals, amount, status, senders, days after T0)
DONATIONS = [
    ("bitcoin", "BTC", 8, 150_000_000, "confirmed", ("bc1qdonor1",), 0),
    ("bitcoin", "BTC", 8, 25_000_000, "confirmed", ("bc1qdonor2", "bc1qdonor3"), 3),
    ("bitcoin", "BTC", 8, 1_000_000, "pending", ("bc1qdonor1",), 10),
    ("ethereum", "ETH", 18, 2 * 10**18, "confirmed", ("0x1111111111111111111111111111111111111111",), 1),
    ("ethereum", "USDT", 6, 250_000_000, "confirmed", (LISTED_SENDER,), 5),
    ("ethereum", "ETH", 18, 5 * 10**17, "pending", ("0x2222222222222222222222222222222222222222",), 12),
]
# What the page must show for them.
EXPECTED = {
    "BTC": ("1.75", "0.01", 3),
    "ETH": ("2", "0.5", 2),
    "USDT": ("250", "0", 1),
}
UNIQUE_DONORS = 6
# Values at arrival in USD (transfer id -> price); donations 3 and 6 (the pending ones) are not valued yet.
PRICES = {1: Decimal("60000"), 2: Decimal("64000"), 4: Decimal("3000"), 5: Decimal("1.0001")}
FIAT_CONFIRMED = Decimal("112250.025")  # 90,000 + 16,000 + 6,000 + 250.025
UNVALUED = 2


def settings(**page: Any) -> Settings:
    """Settings with both chains, both wallets, the page on, and a goal of 2 BTC."""
    goal = page.pop("goal", {"amount": Decimal(2), "currency": "BTC", "end": date(2099, 12, 31)})
    return Settings(
        chains={
            "bitcoin": {"kind": "bitcoin", "esplora_urls": ["http://127.0.0.1:9/"]},
            "ethereum": {"kind": "evm", "chain_id": 1, "rpc_urls": ["http://127.0.0.1:9/"]},
        },
        wallets=[
            {"chain": "bitcoin", "address": BTC_ADDRESS, "label": "Fund <b>BTC</b>"},
            {"chain": "ethereum", "address": ETH_ADDRESS, "label": "Fund ETH & tokens"},
        ],
        page={"enabled": True, "title": "Relief fund", "description": "Where the money goes.",
              "published_at": ["https://example.org/donate"], "cache_seconds": 0, **page},
        goal=goal,
    )


async def seed(db: Database, cfg: Settings) -> dict[str, int]:
    """Store the wallets, DONATIONS and a listed sender's hit; returns wallet ids by chain."""
    ids: dict[str, int] = {}
    async with db.session() as s:
        for w in cfg.wallets:
            wallet, _ = await upsert_wallet(s, w.chain, w.address, label=w.label)
            ids[w.chain] = wallet.id  # type: ignore[assignment]
    for i, (chain, asset, decimals, amount, status, senders, days) in enumerate(DONATIONS):
        at = T0 + timedelta(days=days)
        confirmed = status == "confirmed"
        item = TransferIn(
            chain=chain, txid=f"{i + 1:02x}" * 32, position=0 if chain == "bitcoin" else -1, wallet_id=ids[chain],
            asset=asset, decimals=decimals, amount=amount, senders=senders,
            token="0xdAC17F958D2ee523a2206206994597C13D831ec7" if asset == "USDT" else None,
            block_height=800_000 + days if confirmed else None, block_hash=f"{days:064x}" if confirmed else None,
            block_time=at if confirmed else None, status=TransferStatus(status),
        )
        async with db.session() as s:
            await record_transfers(s, [item], now=at)
    async with db.session() as s:
        version = ScreeningListVersion(source="ofac-sdn", origin="tests/data/sanctions/ofac_sdn_2025-11-19",
                                       published=date(2025, 11, 19), sha256="0" * 64, count=1, loaded_at=T0)
        s.add(version)
        await s.flush()
        s.add(ScreeningSource(source="ofac-sdn", current_version_id=version.id, checked_at=T0))
        s.add(ScreeningHit(transfer_id=5, address=LISTED_SENDER, key=LISTED_SENDER.lower(), source="ofac-sdn",
                           version_id=version.id, party="TORNADO CASH", party_ref="42", found_at=T0))
        for tid, price in PRICES.items():
            _, _, decimals, amount, *_rest = DONATIONS[tid - 1]
            s.add(TransferValue(transfer_id=tid, currency="USD", value=value_of(amount, decimals, price), price=price,
                                source="coinbase", granularity=3600, candle_time=T0, priced_at=T0))
    return ids
