"""The fund's totals in its currency, from the valuation room when it has valued the donations."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True, slots=True)
class FiatFigures:
    """Value at arrival of the counted donations in one currency; unvalued ones are counted, never as 0."""

    currency: str
    confirmed: Decimal
    pending: Decimal
    unvalued_count: int
    value_now: Decimal | None = None


async def fund_totals(session: AsyncSession, currency: str | None) -> FiatFigures | None:
    """The fiat totals, or None while no valuation is available."""
    return None


@dataclass(frozen=True, slots=True)
class TransferValue:
    """One donation's value at arrival: amount in the currency, and where the price came from."""

    value: Decimal
    currency: str
    source: str


async def values_of(session: AsyncSession, transfer_ids: list[int], currency: str | None) -> dict[int, TransferValue]:
    """The stored values at arrival of these transfers (those not yet valued are left out)."""
    return {}
