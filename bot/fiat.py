"""The fund's figures in its currency, from the valuation room: totals at arrival and each donation's value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.donations import value_sums
from ledger.id_lists import id_chunks
from ledger.valuation_tables import TransferValue as TransferValueRow


@dataclass(frozen=True, slots=True)
class FiatFigures:
    """Value at arrival of the counted donations in one currency; unvalued ones are counted, never as 0."""

    currency: str
    confirmed: Decimal
    pending: Decimal
    unvalued_count: int


@dataclass(frozen=True, slots=True)
class TransferValue:
    """One donation's value at arrival: amount in the currency, and where the price came from."""

    value: Decimal
    currency: str
    source: str


async def fund_totals(
    session: AsyncSession, currency: str, start: date | None = None, end: date | None = None
) -> FiatFigures:
    """The value at arrival of the donations (of the UTC days [start, end] when given); a scan: cache it.

    The same figures as `valuation.totals.fiat_totals` (confirmed, pending, not yet valued), summed
    by the database where it can (PostgreSQL), so a million donations do not pass through Python.
    """
    confirmed, pending, unvalued = await value_sums(session, currency, start, end)
    return FiatFigures(currency, confirmed, pending, unvalued)


async def values_of(session: AsyncSession, transfer_ids: list[int], currency: str) -> dict[int, TransferValue]:
    """The stored values at arrival of these transfers in ``currency`` (those not yet valued are left out)."""
    v = TransferValueRow.__table__
    found: dict[int, TransferValue] = {}
    for ids in id_chunks(transfer_ids):
        rows = await session.execute(select(v.c.transfer_id, v.c.value, v.c.source).where(
            v.c.transfer_id.in_(ids), v.c.currency == currency))
        found.update((tid, TransferValue(value, currency, source)) for tid, value, source in rows.all())
    return found
