"""The table of per-wallet history imports: what is asked for, how far it got, what it stored."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Optional

from sqlalchemy import BigInteger, Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from ledger.types import UTCDateTime, utcnow


class ImportState(StrEnum):
    """Where a wallet's history import stands."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class WalletImport(SQLModel, table=True):
    """The history import of one wallet: since when, how far, and with what result.

    Block-range imports (EVM) cover ``since_height .. live_from``: ``live_from`` is the height
    the live watcher's first poll with this wallet started above (set by the watcher), so the two
    together miss no block. ``done_height`` is how far the import has stored. Address-history
    imports (Bitcoin) page newest first and keep their place in ``resume`` (the last txid seen).
    ``done``/``total`` are the progress in ``unit`` (blocks or transactions).
    """

    __tablename__ = "wallet_import"

    wallet_id: int = Field(sa_column=Column(Integer, ForeignKey("wallet.id"), primary_key=True))
    chain: str = Field(max_length=32, index=True)
    state: str = Field(default=ImportState.PENDING, max_length=16)
    since_height: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    since_time: Optional[datetime] = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    live_from: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    done_height: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    resume: Optional[str] = Field(default=None, max_length=200)
    unit: str = Field(default="blocks", max_length=16)
    done: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    total: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    stored: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    rejected: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    last_error: Optional[str] = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    finished_at: Optional[datetime] = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
