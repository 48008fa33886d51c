"""Tables of the block-scanning watchers beyond the live cursor: the progress of each backfill."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from ledger.types import UTCDateTime, utcnow


class BackfillCursor(SQLModel, table=True):
    """How far a backfill of blocks ``from_height .. to_height`` of a chain has stored (``height``).

    A backfill run again with the same start continues after ``height``; it never moves the live
    cursor (``ChainCursor``), so history can be filled in while the watcher follows the tip.
    """

    __tablename__ = "backfill_cursor"

    chain: str = Field(max_length=32, primary_key=True)
    from_height: int = Field(sa_column=Column(BigInteger, primary_key=True))
    to_height: int = Field(sa_column=Column(BigInteger, nullable=False))
    height: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
