"""Tables the chat layer needs kept in the ledger: the audit of wallet changes and the summaries posted."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, Column
from sqlmodel import Field, SQLModel

from ledger.types import UTCDateTime, utcnow


class WalletAudit(SQLModel, table=True):
    """One change to the watched addresses: who made it, when, from where, and what changed."""

    __tablename__ = "wallet_audit"

    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True))
    action: str = Field(max_length=16)  # added | removed | relabelled
    chain: str = Field(max_length=32)
    address: str = Field(max_length=128)
    label: str = Field(default="", max_length=200)
    actor: str = Field(max_length=200)  # e.g. "alice (discord user 1234)"
    actor_id: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    guild_id: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class SummaryRun(SQLModel, table=True):
    """A daily summary that is due (one row per local date), so a summary is never posted twice."""

    __tablename__ = "summary_run"

    day: str = Field(max_length=10, primary_key=True)  # the local date, YYYY-MM-DD
    event_id: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
