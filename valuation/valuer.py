"""Valuing transfers: each counted transfer without a value gets one from its bucket's price.

The run reads what is unvalued, works out per asset which buckets are not cached yet, asks the
sources in order for only those (a page of 300 candles covers 12.5 days of hours), caches every
finished bucket it is given, and writes the values. HTTP happens outside any database
transaction. A transfer whose price cannot be had stays unvalued, for the next run.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.database import Database
from ledger.id_lists import id_chunks
from ledger.models import Transfer, TransferStatus
from ledger.types import utcnow
from ledger.valuation_tables import TransferValue
from valuation.cache import Cached, cached_prices, store_prices
from valuation.candles import PriceSource, bucket_of, unix, utc
from valuation.errors import NoMarket, PriceUnavailable
from valuation.markets import ValuationConfig
from valuation.money import value_of

log = logging.getLogger(__name__)

COUNTED = [str(TransferStatus.PENDING), str(TransferStatus.CONFIRMED)]


@dataclass
class ValuationReport:
    """What a run did: transfers valued and left unvalued, requests made, and why some were left."""

    valued: int = 0
    unvalued: int = 0
    requests: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unvalued


@dataclass(frozen=True, slots=True)
class _Unvalued:
    id: int
    asset: str
    decimals: int
    amount: int
    moment: datetime


async def value_pending(
    db: Database,
    sources: Sequence[PriceSource],
    config: ValuationConfig | None = None,
    *,
    since: datetime | None = None,
    now: datetime | None = None,
    transfer_ids: Collection[int] | None = None,
) -> ValuationReport:
    """Value every counted transfer that has no value in ``config.currency`` yet (arrived at or after
    ``since``; only those of ``transfer_ids`` when given, e.g. what an import just stored)."""
    config = config or ValuationConfig()
    now = now or utcnow()
    report = ValuationReport()
    before = sum(s.requests for s in sources)
    async with db.session() as session:
        if transfer_ids is None:
            todo = await _unvalued(session, config.currency, since, now)
        else:
            todo = [item for ids in id_chunks(transfer_ids) for item in await _unvalued(session, config.currency, since, now, ids)]
    by_asset: dict[str, list[_Unvalued]] = defaultdict(list)
    for item in todo:
        by_asset[item.asset].append(item)
    for asset, items in sorted(by_asset.items()):
        g = config.granularity
        buckets = sorted({bucket_of(unix(i.moment), g) for i in items})
        prices = await price_buckets(db, sources, config, asset, buckets, now=now, report=report)
        rows = []
        for item in items:
            hit = prices.get(bucket_of(unix(item.moment), g))
            if hit is None:
                continue
            quote, source = hit
            rows.append({
                "transfer_id": item.id, "currency": config.currency, "price": quote.price,
                "value": value_of(item.amount, item.decimals, quote.price), "source": source, "granularity": g,
                "candle_time": utc(quote.candle_time), "priced_at": item.moment, "valued_at": now,
            })
        if rows:
            async with db.session() as session:
                insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
                stmt = insert(TransferValue.__table__).on_conflict_do_nothing()
                for start in range(0, len(rows), 1000):
                    await session.execute(stmt, rows[start : start + 1000])
        report.valued += len(rows)
        report.unvalued += len(items) - len(rows)
    report.requests = sum(s.requests for s in sources) - before
    if todo:
        log.info("valuation currency=%s valued=%d unvalued=%d requests=%d", config.currency, report.valued,
                 report.unvalued, report.requests)
    return report


async def price_buckets(
    db: Database,
    sources: Sequence[PriceSource],
    config: ValuationConfig,
    asset: str,
    buckets: Sequence[int],
    *,
    now: datetime,
    report: ValuationReport | None = None,
) -> dict[int, Cached]:
    """Quotes for ``buckets`` of ``asset``: from the cache, else from the sources in order.

    Finished buckets a source gives are cached page by page (so an interrupted backfill keeps
    its progress); the bucket still forming is used but not cached.
    """
    report = report if report is not None else ValuationReport()
    g, currency = config.granularity, config.currency
    if not buckets:
        return {}
    async with db.session() as session:
        known = await cached_prices(session, asset, currency, g, buckets[0], buckets[-1])
    missing = [b for b in buckets if b not in known]
    now_ts = unix(now)
    for source in sources:
        if not missing:
            break
        base = config.base(asset, source.name)
        if base is None:
            continue
        try:
            async for page in source.pages(base, currency, missing, g, now_ts):
                finished = {b: q for b, q in page.items() if b + g <= now_ts}
                if finished:
                    async with db.session() as session:
                        await store_prices(session, asset, currency, g, source.name, finished, now=now)
                for b, q in page.items():
                    known.setdefault(b, (q, source.name))
                missing = [b for b in missing if b not in known]
        except NoMarket as exc:
            log.info("%s", exc)
            report.errors.append(str(exc))
        except PriceUnavailable as exc:
            log.warning("price source failed asset=%s source=%s error=%s", asset, source.name, exc)
            report.errors.append(str(exc))
    if missing and not any(config.base(asset, s.name) for s in sources):
        report.errors.append(f"no price source is mapped for asset {asset} (add it to valuation.markets)")
    return {b: known[b] for b in buckets if b in known}


async def refresh_prices(
    db: Database, sources: Sequence[PriceSource], config: ValuationConfig | None = None, *, now: datetime | None = None
) -> ValuationReport:
    """Cache the last finished bucket of every asset the ledger holds, for "value now"."""
    config = config or ValuationConfig()
    now = now or utcnow()
    report = ValuationReport()
    before = sum(s.requests for s in sources)
    async with db.session() as session:
        assets = (await session.execute(select(Transfer.asset).where(Transfer.status.in_(COUNTED)).distinct())).scalars().all()
    last = bucket_of(unix(now), config.granularity) - config.granularity
    for asset in sorted(assets):
        await price_buckets(db, sources, config, asset, [last], now=now, report=report)
    report.requests = sum(s.requests for s in sources) - before
    return report


async def _unvalued(
    session: AsyncSession, currency: str, since: datetime | None, now: datetime, ids: Sequence[int] | None = None
) -> list[_Unvalued]:
    """Counted transfers without a value, each with its arrival moment (a block time ahead of our
    clock, which miners may set up to two hours ahead, counts as now)."""
    t = Transfer.__table__
    v = TransferValue.__table__
    stmt = select(t.c.id, t.c.asset, t.c.decimals, t.c.amount, t.c.block_time, t.c.first_seen).where(
        t.c.status.in_(COUNTED),
        ~exists().where(v.c.transfer_id == t.c.id, v.c.currency == currency),
    )
    if ids is not None:
        stmt = stmt.where(t.c.id.in_(ids))
    if since is not None:
        stmt = stmt.where(or_(t.c.block_time >= since, and_(t.c.block_time.is_(None), t.c.first_seen >= since)))
    rows = (await session.execute(stmt.order_by(t.c.id))).all()
    return [_Unvalued(r.id, r.asset, r.decimals, r.amount, min(r.block_time or r.first_seen, now)) for r in rows]
