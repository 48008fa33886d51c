"""The screening room's tables: list versions and their entries, sources, hits, and the ingest cursor.

Everything lives in the ledger database so several bot instances share one current list and
one history of hits.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import Boolean, Column, Date, ForeignKey, Index, Integer, Text, false, text
from sqlmodel import Field, SQLModel

from ledger.types import UTCDateTime, utcnow


class ScreeningListVersion(SQLModel, table=True):
    """One loaded version of a sanctions list: where it came from, its date, hash and size."""

    __tablename__ = "screening_list_version"
    __table_args__ = (Index("ix_screening_list_version_source", "source", "id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    source: str = Field(max_length=64)
    origin: str = Field(max_length=300)
    published: Optional[date] = Field(default=None, sa_column=Column(Date, nullable=True))
    sha256: str = Field(max_length=64)
    count: int
    skipped: int = 0
    loaded_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # Set when an operator put this version in force with --force although a newer one was in force.
    forced_by: Optional[str] = Field(default=None, max_length=64)
    forced_at: Optional[datetime] = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class ScreeningListEntry(SQLModel, table=True):
    """One address on one list version, with party, programmes and listing date where known."""

    __tablename__ = "screening_list_entry"

    id: Optional[int] = Field(default=None, primary_key=True)
    version_id: int = Field(
        sa_column=Column(Integer, ForeignKey("screening_list_version.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    key: str = Field(max_length=200, index=True)
    address: str = Field(max_length=200)
    format: str = Field(max_length=16)
    asset: str = Field(default="", max_length=16)
    party: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    party_ref: str = Field(default="", max_length=64)
    programmes: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    listed_on: Optional[date] = Field(default=None, sa_column=Column(Date, nullable=True))


class ScreeningSource(SQLModel, table=True):
    """A list source's state: the version in force, the last check, the last failure, HTTP validators."""

    __tablename__ = "screening_source"

    source: str = Field(max_length=64, primary_key=True)
    current_version_id: Optional[int] = Field(
        default=None, sa_column=Column(Integer, ForeignKey("screening_list_version.id"), nullable=True)
    )
    checked_at: Optional[datetime] = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    failed_at: Optional[datetime] = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_error: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    etag: Optional[str] = Field(default=None, max_length=300)
    last_modified: Optional[str] = Field(default=None, max_length=100)
    # Which bad conditions people were told about (once per streak, until sanctions.list_ok).
    failure_announced: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    stale_announced: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))


class ScreeningHit(SQLModel, table=True):
    """A sender of a stored transfer found on a list; kept as history when the address is delisted."""

    __tablename__ = "screening_hit"
    __table_args__ = (
        Index("ix_screening_hit_source_key", "source", "key"),
        # One active (not delisted) hit per transfer, address, list and party.
        Index(
            "uq_screening_hit_active",
            "transfer_id",
            "key",
            "source",
            "party_ref",
            unique=True,
            sqlite_where=text("delisted_at IS NULL"),
            postgresql_where=text("delisted_at IS NULL"),
        ),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    transfer_id: int = Field(
        sa_column=Column(Integer, ForeignKey("transfer.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    address: str = Field(max_length=200)
    key: str = Field(max_length=200)
    verdict: str = Field(default="listed", max_length=16)
    source: str = Field(max_length=64)
    version_id: int = Field(sa_column=Column(Integer, ForeignKey("screening_list_version.id"), nullable=False))
    asset: str = Field(default="", max_length=16)
    party: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    party_ref: str = Field(default="", max_length=64)
    programmes: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    listed_on: Optional[date] = Field(default=None, sa_column=Column(Date, nullable=True))
    cause: str = Field(default="ingest", max_length=16)
    found_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    delisted_at: Optional[datetime] = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    delisted_version_id: Optional[int] = Field(
        default=None, sa_column=Column(Integer, ForeignKey("screening_list_version.id"), nullable=True)
    )


class ScreeningCursor(SQLModel, table=True):
    """How far screening on ingest has read the event log (the last ``transfer.new`` event screened)."""

    __tablename__ = "screening_cursor"

    name: str = Field(max_length=32, primary_key=True)
    event_id: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
