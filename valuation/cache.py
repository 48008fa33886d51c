"""The price cache in the ledger: finished buckets by (asset, currency, granularity, bucket start)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.types import utcnow
from ledger.valuation_tables import PriceCandle
from valuation.candles import Quote, unix, utc

# A cached bucket: its quote and the source that gave it.
Cached = tuple[Quote, str]


async def cached_prices(session: AsyncSession, asset: str, currency: str, granularity: int, first: int, last: int) -> dict[int, Cached]:
    """Cached quotes of ``asset`` for buckets from ``first`` to ``last`` (unix starts, inclusive)."""
    t = PriceCandle.__table__
    stmt = select(t.c.bucket_start, t.c.price, t.c.candle_time, t.c.source).where(
        t.c.asset == asset, t.c.currency == currency, t.c.granularity == granularity,
        t.c.bucket_start >= utc(first), t.c.bucket_start <= utc(last),
    )
    return {unix(b): (Quote(p, unix(ct)), src) for b, p, ct, src in (await session.execute(stmt)).all()}


async def store_prices(session: AsyncSession, asset: str, currency: str, granularity: int, source: str,
                       quotes: Mapping[int, Quote], *, now: datetime | None = None) -> None:
    """Cache quotes (only finished buckets should be given); a bucket already cached is kept."""
    if not quotes:
        return
    at = now or utcnow()
    rows = [
        {"asset": asset, "currency": currency, "granularity": granularity, "bucket_start": utc(b), "price": q.price,
         "source": source, "candle_time": utc(q.candle_time), "fetched_at": at}
        for b, q in sorted(quotes.items())
    ]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(PriceCandle.__table__).on_conflict_do_nothing()
    for start in range(0, len(rows), 1000):
        await session.execute(stmt, rows[start : start + 1000])


async def latest_price(session: AsyncSession, asset: str, currency: str) -> tuple[Quote, datetime] | None:
    """The newest cached price of ``asset`` (any granularity) and its bucket's start, or None."""
    t = PriceCandle.__table__
    stmt = (
        select(t.c.bucket_start, t.c.price, t.c.candle_time)
        .where(t.c.asset == asset, t.c.currency == currency)
        .order_by(t.c.bucket_start.desc())
        .limit(1)
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        return None
    return Quote(row.price, unix(row.candle_time)), row.bucket_start
