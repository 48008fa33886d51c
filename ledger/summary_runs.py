"""Making a daily summary due exactly once per local date, across restarts and instances."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.chat_tables import SummaryRun
from ledger.models import Event
from ledger.types import utcnow
from ledger.writes import record_event

SUMMARY_DUE = "summary.due"


async def any_summary_run(session: AsyncSession) -> bool:
    """Whether a summary was ever made due (false on a brand-new ledger)."""
    return bool(await session.scalar(select(func.count()).select_from(SummaryRun)))


async def make_summary_due(session: AsyncSession, day: str) -> bool:
    """Record the ``summary.due`` event of local date ``day`` unless it exists; True when it was new."""
    insert_ = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert_(SummaryRun).values(day=day, created_at=utcnow()).on_conflict_do_nothing(index_elements=["day"]).returning(SummaryRun.day)
    if (await session.execute(stmt)).first() is None:
        return False
    await record_event(session, SUMMARY_DUE, day=day)  # type: ignore[arg-type]
    event_id = await session.scalar(select(func.max(Event.id)).where(Event.kind == SUMMARY_DUE))
    await session.execute(SummaryRun.__table__.update().where(SummaryRun.day == day).values(event_id=event_id))
    return True
