"""Fiat totals: what has been raised, valued at arrival, and what it is worth now.

Unvalued transfers are counted as such, never as zero; orphaned transfers count for nothing.
Sums are exact Decimals (done here: SQLite has no exact decimal sum); round only to display.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import Transfer, TransferStatus
from ledger.valuation_tables import TransferValue
from valuation.cache import latest_price
from valuation.money import exact_sum, value_of

COUNTED = [str(TransferStatus.PENDING), str(TransferStatus.CONFIRMED)]


@dataclass(frozen=True, slots=True)
class AssetFiat:
    """One asset's totals: amounts in base units, values at arrival, the unvalued, and value now."""

    asset: str
    decimals: int
    confirmed_amount: int
    pending_amount: int
    confirmed_value: Decimal  # value at arrival of the valued confirmed transfers
    pending_value: Decimal  # same for pending ones
    valued_count: int
    unvalued_count: int
    unvalued_amount: int  # base units of the transfers not valued yet
    price_now: Decimal | None  # newest cached price
    price_now_at: datetime | None  # start of the bucket that price is for
    value_now: Decimal | None  # (confirmed + pending) amount x price_now; None without a price


@dataclass(frozen=True, slots=True)
class FiatTotals:
    """Totals in one currency over every counted transfer, per asset and overall."""

    currency: str
    assets: tuple[AssetFiat, ...]
    confirmed: Decimal  # value at arrival, confirmed transfers that have a value
    pending: Decimal  # value at arrival, pending transfers that have a value
    unvalued_count: int  # counted transfers with no value yet: NOT included above
    value_now: Decimal  # sum of value_now of the assets that have a current price
    assets_without_price_now: tuple[str, ...]  # their holdings are missing from value_now

    @property
    def valued_count(self) -> int:
        return sum(a.valued_count for a in self.assets)

    @property
    def complete(self) -> bool:
        """Every counted transfer is valued and every asset has a current price."""
        return not self.unvalued_count and not self.assets_without_price_now


async def fiat_totals(session: AsyncSession, currency: str) -> FiatTotals:
    """Confirmed and pending value at arrival, the unvalued count, and value now, per asset and overall."""
    t = Transfer.__table__
    v = TransferValue.__table__
    stmt = (
        select(t.c.asset, t.c.decimals, t.c.status, t.c.amount, v.c.value)
        .select_from(t.outerjoin(v, and_(v.c.transfer_id == t.c.id, v.c.currency == currency)))
        .where(t.c.status.in_(COUNTED))
    )
    acc: dict[str, dict[str, object]] = defaultdict(lambda: {
        "decimals": 0, "confirmed_amount": 0, "pending_amount": 0, "confirmed_value": [], "pending_value": [],
        "valued_count": 0, "unvalued_count": 0, "unvalued_amount": 0,
    })
    for asset, decimals, status, amount, value in (await session.execute(stmt)).all():
        a = acc[asset]
        a["decimals"] = decimals
        kind = "confirmed" if status == TransferStatus.CONFIRMED else "pending"
        a[f"{kind}_amount"] += amount  # type: ignore[operator]
        if value is None:
            a["unvalued_count"] += 1  # type: ignore[operator]
            a["unvalued_amount"] += amount  # type: ignore[operator]
        else:
            a["valued_count"] += 1  # type: ignore[operator]
            a[f"{kind}_value"].append(value)  # type: ignore[union-attr]
    assets: list[AssetFiat] = []
    for asset in sorted(acc):
        a = acc[asset]
        latest = await latest_price(session, asset, currency)
        held = a["confirmed_amount"] + a["pending_amount"]  # type: ignore[operator]
        price_now = latest[0].price if latest else None
        assets.append(AssetFiat(
            asset=asset, decimals=a["decimals"],  # type: ignore[arg-type]
            confirmed_amount=a["confirmed_amount"], pending_amount=a["pending_amount"],  # type: ignore[arg-type]
            confirmed_value=exact_sum(a["confirmed_value"]), pending_value=exact_sum(a["pending_value"]),  # type: ignore[arg-type]
            valued_count=a["valued_count"], unvalued_count=a["unvalued_count"],  # type: ignore[arg-type]
            unvalued_amount=a["unvalued_amount"],  # type: ignore[arg-type]
            price_now=price_now, price_now_at=latest[1] if latest else None,
            value_now=value_of(held, a["decimals"], price_now) if price_now is not None else None,  # type: ignore[arg-type]
        ))
    return FiatTotals(
        currency=currency,
        assets=tuple(assets),
        confirmed=exact_sum([a.confirmed_value for a in assets]),
        pending=exact_sum([a.pending_value for a in assets]),
        unvalued_count=sum(a.unvalued_count for a in assets),
        value_now=exact_sum([a.value_now for a in assets if a.value_now is not None]),
        assets_without_price_now=tuple(a.asset for a in assets if a.value_now is None),
    )
