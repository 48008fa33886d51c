"""Each chain's last good poll, whichever instance made it.

Several instances may share one ledger and only the holder of a chain's poll lock polls it; the
others skip. So that every instance's `/healthz` — a standby watcher, a `bot`-role instance —
can say whether a chain is being followed, the poller writes its good polls here (one row per
chain, overwritten), and health takes the newer of its own and the ledger's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import BigInteger, Column, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from ledger.types import UTCDateTime


class ChainPoll(SQLModel, table=True):
    """A chain's last good poll: when, the height it reached, and which instance made it."""

    __tablename__ = "chain_poll"

    chain: str = Field(max_length=32, primary_key=True)
    last_ok_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    height: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    instance: str = Field(default="", max_length=120)


async def record_good_poll(session: AsyncSession, chain: str, at: datetime, height: int | None, instance: str) -> None:
    """Note a good poll of `chain` (call after the poll's own transaction; it is a report, not a state change)."""
    insert_ = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    values: dict[str, object] = {"last_ok_at": at, "instance": instance[:120]}
    if height is not None:  # a poll that learnt no height keeps the last one known
        values["height"] = height
    stmt = insert_(ChainPoll).values(chain=chain, **values)
    await session.execute(stmt.on_conflict_do_update(index_elements=[ChainPoll.chain], set_=values))


async def last_good_polls(session: AsyncSession) -> dict[str, ChainPoll]:
    """Every chain's last good poll, by chain name."""
    return {row.chain: row for row in (await session.execute(select(ChainPoll))).scalars()}
