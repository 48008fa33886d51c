"""The fund's figures in its currency, from the valuation room: totals at arrival and each donation's value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.donations import windowed_values
from ledger.valuation_tables import TransferValue as TransferValueRow
from valuation.totals import fiat_totals


@dataclass(frozen=True, slots=True)
class FiatFigures:
    """Value at arrival of the counted donations in one currency; unvalued ones are counted, never as 0."""

    currency: str
    confirmed: Decimal
    pending: Decimal
    unvalued_count: int
    value_now: Decimal | None = None


@dataclass(frozen=True, slots=True)
class TransferValue:
    """One donation's value at arrival: amount in the currency, and where the price came from."""

    value: Decimal
    currency: str
    source: str


async def fund_totals(session: AsyncSession, currency: str) -> FiatFigures:
    """The fiat totals at arrival (a full scan of the transfers: cache it)."""
    t = await fiat_totals(session, currency)
    return FiatFigures(t.currency, t.confirmed, t.pending, t.unvalued_count,
                       t.value_now if not t.assets_without_price_now else None)


async def window_totals(session: AsyncSession, currency: str, start: date | None, end: date | None) -> FiatFigures:
    """The fiat totals at arrival of the donations whose UTC day is in [start, end] (a scan: cache it)."""
    confirmed, pending, unvalued = await windowed_values(session, currency, start, end)
    return FiatFigures(currency, confirmed, pending, unvalued)


async def values_of(session: AsyncSession, transfer_ids: list[int], currency: str) -> dict[int, TransferValue]:
    """The stored values at arrival of these transfers in ``currency`` (those not yet valued are left out)."""
    if not transfer_ids:
        return {}
    v = TransferValueRow.__table__
    rows = await session.execute(
        select(v.c.transfer_id, v.c.value, v.c.source).where(v.c.transfer_id.in_(transfer_ids), v.c.currency == currency)
    )
    return {tid: TransferValue(value, currency, source) for tid, value, source in rows.all()}
