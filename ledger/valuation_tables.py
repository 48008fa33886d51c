"""The valuation room's tables: a cache of prices by time bucket, and each transfer's value at arrival.

Prices and values are exact Decimals (``ExactDecimal``); times are tz-aware UTC.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from ledger.types import ExactDecimal, UTCDateTime, utcnow


class PriceCandle(SQLModel, table=True):
    """The price of an asset in a currency for one time bucket (e.g. one hour), as a source gave it.

    ``candle_time`` is the start of the candle the price was taken from: the bucket itself, or the
    nearest candle with trades when the market had none in the bucket (exchanges omit empty
    candles). Only finished buckets are cached, so a row never changes once written.
    """

    __tablename__ = "price_candle"

    asset: str = Field(max_length=16, primary_key=True)
    currency: str = Field(max_length=8, primary_key=True)
    granularity: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    bucket_start: datetime = Field(sa_column=Column(UTCDateTime(), primary_key=True))
    price: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    source: str = Field(max_length=32)
    candle_time: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    fetched_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class TransferValue(SQLModel, table=True):
    """A transfer's value in a currency at its arrival: block time, or first seen while in the mempool."""

    __tablename__ = "transfer_value"

    transfer_id: int = Field(
        sa_column=Column(Integer, ForeignKey("transfer.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    )
    currency: str = Field(max_length=8, primary_key=True)
    # amount / 10**decimals * price, exact; rounded only when shown.
    value: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    price: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    source: str = Field(max_length=32)
    granularity: int
    candle_time: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    priced_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    valued_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
