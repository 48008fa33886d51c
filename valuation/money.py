"""Exact fiat arithmetic: base units times a price, and rounding only for display."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, Inexact

# Wide enough for 78-digit amounts times any price; Inexact traps, so a result is exact or an error.
_EXACT = Context(prec=200, traps=[Inexact])

# ISO 4217 minor units of the currencies that do not have two.
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0, "BHD": 3, "KWD": 3, "JOD": 3, "OMR": 3, "TND": 3}


def value_of(amount: int, decimals: int, price: Decimal) -> Decimal:
    """The exact fiat value of ``amount`` base units of an asset with ``decimals`` at ``price``."""
    return _EXACT.multiply(Decimal(amount).scaleb(-decimals, _EXACT), price)


def exact_sum(values: list[Decimal]) -> Decimal:
    """The exact sum of Decimals."""
    total = Decimal(0)
    for v in values:
        total = _EXACT.add(total, v)
    return total


def minor_unit(currency: str) -> int:
    """The number of decimal places a currency is shown with (ISO 4217 minor unit; 2 by default)."""
    return _MINOR_UNITS.get(currency.upper(), 2)


def rounded(value: Decimal, currency: str) -> Decimal:
    """``value`` rounded half-up to the currency's minor unit (for display only)."""
    return value.quantize(Decimal(1).scaleb(-minor_unit(currency)), rounding=ROUND_HALF_UP)


def display(value: Decimal, currency: str) -> str:
    """``value`` as people read it: "1,234.57 USD" (rounded to the currency's minor unit)."""
    places = minor_unit(currency)
    return f"{rounded(value, currency):,.{places}f} {currency.upper()}"
