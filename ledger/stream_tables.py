"""Tables of the event stream's consumers: where each one has read to, and the delivery outbox.

A consumer (screening, each chat channel) keeps its ``ConsumerPosition`` in the database and
moves it in the same transaction as its own effects. A channel that talks to the outside world
first copies the events it accepts into ``Delivery`` rows (the outbox), then claims, sends and
marks each row; so a restart neither loses nor repeats a message.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Optional

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, Text
from sqlmodel import Field, SQLModel

from ledger.types import UTCDateTime, utcnow


class ConsumerPosition(SQLModel, table=True):
    """How far one consumer has read the event stream: the (xact, id) of the last event it handled."""

    __tablename__ = "consumer_position"

    consumer: str = Field(max_length=64, primary_key=True)
    xact: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    event_id: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class DeliveryState(StrEnum):
    """Where a delivery stands: waiting to be sent (or retried), sent, or given up on."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Delivery(SQLModel, table=True):
    """One event to be delivered on one channel, sent at most once per idempotency key."""

    __tablename__ = "delivery"
    __table_args__ = (
        Index("ix_delivery_due", "channel", "state", "id"),
        Index("ix_delivery_subject", "channel", "subject"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    channel: str = Field(max_length=64)
    event_id: int = Field(sa_column=Column(Integer, ForeignKey("event.id"), nullable=False, index=True))
    idempotency_key: str = Field(max_length=200, unique=True)
    # What the message is about (e.g. "transfer:42"), to find the message to edit later.
    subject: Optional[str] = Field(default=None, max_length=200)
    state: str = Field(default=DeliveryState.PENDING, max_length=16)
    attempts: int = Field(default=0)
    next_try_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    lease_until: Optional[datetime] = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # The outside world's id of what was sent (e.g. a Discord message id).
    external_id: Optional[str] = Field(default=None, max_length=200)
    last_error: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    sent_at: Optional[datetime] = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
