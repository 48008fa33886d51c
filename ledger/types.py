"""Column types that keep money exact and time zone-aware on every database."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

UINT256_MAX = 2**256 - 1
# 2**256 - 1 has 78 decimal digits.
UINT256_DIGITS = 78


class BigUInt(TypeDecorator[int]):
    """An unsigned integer up to 2**256 - 1, stored exactly.

    PostgreSQL keeps it as NUMERIC(78, 0). SQLite has no exact wide integer, so it is kept as
    78 zero-padded decimal digits: text order is then numeric order, and ORDER BY works.
    """

    impl = String(UINT256_DIGITS)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(UINT256_DIGITS, 0))
        return dialect.type_descriptor(String(UINT256_DIGITS))

    def process_bind_param(self, value: int | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return uint256_param(value, dialect.name)

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return int(value)


def uint256_param(value: int, dialect_name: str) -> Any:
    """The driver value of an amount: NUMERIC on PostgreSQL, 78 zero-padded digits on SQLite."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"amount must be an int in base units, got {type(value).__name__}")
    if not 0 <= value <= UINT256_MAX:
        raise ValueError(f"amount {value} is outside 0 .. 2**256-1")
    if dialect_name == "postgresql":
        return Decimal(value)
    return f"{value:0{UINT256_DIGITS}d}"


def time_param(value: datetime | None, dialect_name: str) -> Any:
    """The driver value of a tz-aware time: itself on PostgreSQL, UTC text on SQLite."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: pass a tz-aware UTC time")
    return sqlite_text(value) if dialect_name == "sqlite" else value


class UTCDateTime(TypeDecorator[datetime]):
    """A tz-aware UTC datetime; naive values are refused rather than guessed.

    On SQLite it is stored as the text SQLAlchemy's DATETIME uses ("YYYY-MM-DD HH:MM:SS.ffffff",
    UTC), written and parsed here directly: that halves the per-value cost of bulk writes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(32))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a tz-aware UTC time")
        if value.tzinfo is not timezone.utc:
            value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return sqlite_text(value)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


@lru_cache(maxsize=4_096)
def sqlite_text(value: datetime) -> str:
    """A tz-aware time as the UTC text stored in SQLite columns.

    Remembered: a write stamps every row with the same time, and a block's transfers share its time.
    """
    if value.tzinfo is not timezone.utc:
        value = value.astimezone(timezone.utc)
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d} {value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}"


def utcnow() -> datetime:
    """The current time, tz-aware UTC."""
    return datetime.now(timezone.utc)


class BigSum(TypeDecorator[int]):
    """An exact signed integer of up to 80 digits, for sums and the deltas applied to them."""

    impl = String(82)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(80, 0))
        return dialect.type_descriptor(String(82))

    def process_bind_param(self, value: int | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return Decimal(int(value))
        return str(int(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else int(value)


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal kept digit for digit: NUMERIC (no fixed scale) on PostgreSQL, its text on SQLite.

    Prices and fiat values are exact Decimals (base units x price); SQLite's NUMERIC affinity
    would turn them into doubles, so there they are stored as the Decimal's own text.
    """

    impl = String(80)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric())
        return dialect.type_descriptor(String(80))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal) or not value.is_finite():
            raise TypeError(f"expected a finite Decimal, got {value!r}")
        return value if dialect.name == "postgresql" else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(str(value))
