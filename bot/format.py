"""Turning base-unit integers into the decimal text people read (never through floats)."""

from __future__ import annotations


def amount(value: int, decimals: int, *, places: int | None = None) -> str:
    """``value`` base units as a decimal string: amount(150000000, 8) == "1.5"."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    whole, frac = divmod(value, 10**decimals) if decimals else (value, 0)
    text = f"{whole:,}"
    if decimals:
        digits = f"{frac:0{decimals}d}"
        if places is not None:
            digits = digits[:places]
        digits = digits.rstrip("0")
        if digits:
            text += "." + digits
    return sign + text
