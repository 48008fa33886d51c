"""Read-only views of the donations for the public page and exports: keyset pages, spans, daily sums, rows.

Every function here is cheap at a million transfers, or says when it is not: pages walk the
primary key (keyset, never OFFSET), exports read in id-ordered batches (constant memory), and
the daily sums and unique donors are meant to be computed in the background and cached.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Context, Decimal, Inexact

from sqlalchemy import and_, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.database import Database
from ledger.models import Transfer, TransferSender, TransferStatus, Wallet
from ledger.screening_tables import ScreeningHit, ScreeningListVersion
from ledger.types import UTCDateTime
from ledger.valuation_tables import TransferValue

COUNTED = [str(TransferStatus.PENDING), str(TransferStatus.CONFIRMED)]
EXPORT_BATCH = 2_000


@dataclass(frozen=True, slots=True)
class Donation:
    """One counted transfer as the public sees it, with the wallet it reached."""

    id: int
    chain: str
    txid: str
    position: int
    wallet_address: str
    wallet_label: str
    asset: str
    token: str | None
    decimals: int
    amount: int
    status: str
    block_height: int | None
    block_time: datetime | None
    first_seen: datetime

    @property
    def at(self) -> datetime:
        """When it happened: the block's time, or when the bot first saw it while unconfirmed."""
        return self.block_time or self.first_seen


@dataclass(frozen=True, slots=True)
class DonationPage:
    """One page of donations, newest stored first, and the cursor of the next page (None at the end)."""

    items: list[Donation]
    next_before: int | None


def _donation_columns():  # type: ignore[no-untyped-def]
    t, w = Transfer.__table__, Wallet.__table__
    return (
        t.c.id, t.c.chain, t.c.txid, t.c.position, w.c.address, w.c.label, t.c.asset, t.c.token, t.c.decimals,
        t.c.amount, t.c.status, t.c.block_height, t.c.block_time, t.c.first_seen,
    )


async def donation_page(session: AsyncSession, *, limit: int = 20, before: int | None = None) -> DonationPage:
    """Counted donations with id below ``before`` (all when None), newest stored first.

    Keyset on the primary key: any page costs the same at a million rows, and a page boundary
    never moves when new donations arrive (they get higher ids).
    """
    t, w = Transfer.__table__, Wallet.__table__
    stmt = (
        select(*_donation_columns())
        .join(w, w.c.id == t.c.wallet_id)
        .where(t.c.status.in_(COUNTED))
        .order_by(t.c.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        stmt = stmt.where(t.c.id < before)
    rows = (await session.execute(stmt)).all()
    items = [Donation(*row) for row in rows[:limit]]
    return DonationPage(items, items[-1].id if len(rows) > limit and items else None)


@dataclass(frozen=True, slots=True)
class Span:
    """When the first and the latest counted donation happened (None when there are none)."""

    first: datetime | None
    latest: datetime | None


async def donation_span(session: AsyncSession) -> Span:
    """The earliest and latest time (block time, else first seen) of a counted donation; a full scan."""
    t = Transfer.__table__
    at = func.coalesce(t.c.block_time, t.c.first_seen)
    first, latest = (await session.execute(select(func.min(at), func.max(at)).where(t.c.status.in_(COUNTED)))).one()
    return Span(first, latest)


async def unique_donors(session: AsyncSession) -> int:
    """How many distinct sending addresses gave a counted donation; a full scan, cache it."""
    t, s = Transfer.__table__, TransferSender.__table__
    stmt = select(func.count(func.distinct(s.c.address))).select_from(s.join(t, t.c.id == s.c.transfer_id)).where(
        t.c.status.in_(COUNTED)
    )
    return int(await session.scalar(stmt) or 0)


@dataclass(frozen=True, slots=True)
class DailySum:
    """The count and exact sum of one asset's donations of one status on one UTC day."""

    day: date
    asset: str
    status: str
    decimals: int
    count: int
    amount: int


async def daily_sums(session: AsyncSession) -> list[DailySum]:
    """Per UTC day (of block time, else first seen), asset and status: count and exact sum, oldest first.

    PostgreSQL sums NUMERIC in SQL; SQLite (no exact wide sum) streams the rows and adds in
    Python. A full scan either way: compute it in the background and cache it.
    """
    t = Transfer.__table__
    at = func.coalesce(t.c.block_time, t.c.first_seen)
    if session.get_bind().dialect.name == "postgresql":
        day = func.date(func.timezone("UTC", at))
        stmt = (
            select(day, t.c.asset, t.c.status, func.max(t.c.decimals), func.count(), func.sum(t.c.amount))
            .where(t.c.status.in_(COUNTED))
            .group_by(day, t.c.asset, t.c.status)
            .order_by(day, t.c.asset, t.c.status)
        )
        return [DailySum(d, a, st, int(dec), int(n), int(s)) for d, a, st, dec, n, s in (await session.execute(stmt)).all()]
    # SQLite stores times as "YYYY-MM-DD HH:MM:SS.ffffff" UTC text and amounts as 78 zero-padded digits.
    day = func.substr(at, 1, 10)
    stmt = select(day, t.c.asset, t.c.status, t.c.decimals, t.c.amount).where(t.c.status.in_(COUNTED))
    acc: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    result = await session.stream(stmt.execution_options(yield_per=EXPORT_BATCH))
    async for d, asset, status, decimals, amount in result:
        entry = acc[(d, asset, status)]
        entry[0] = decimals
        entry[1] += 1
        entry[2] += amount
    return [DailySum(date.fromisoformat(d), a, st, v[0], v[1], v[2]) for (d, a, st), v in sorted(acc.items())]


@dataclass(frozen=True, slots=True)
class ListedDonation:
    """A counted donation whose sender is on a list in force (an active, not delisted, hit)."""

    transfer_id: int
    chain: str
    txid: str
    asset: str
    decimals: int
    amount: int
    sender: str
    source: str
    party: str
    listed_on: date | None


async def listed_donation_count(session: AsyncSession) -> int:
    """How many counted donations have a sender on a list in force."""
    h, t = ScreeningHit.__table__, Transfer.__table__
    stmt = (
        select(func.count(func.distinct(h.c.transfer_id)))
        .select_from(h.join(t, t.c.id == h.c.transfer_id))
        .where(h.c.delisted_at.is_(None), t.c.status.in_(COUNTED))
    )
    return int(await session.scalar(stmt) or 0)


async def listed_donations(session: AsyncSession, *, limit: int = 50) -> list[ListedDonation]:
    """The active hits on counted donations, newest first, one row per hit."""
    h, t = ScreeningHit.__table__, Transfer.__table__
    stmt = (
        select(t.c.id, t.c.chain, t.c.txid, t.c.asset, t.c.decimals, t.c.amount, h.c.address, h.c.source, h.c.party,
               h.c.listed_on)
        .select_from(h.join(t, t.c.id == h.c.transfer_id))
        .where(h.c.delisted_at.is_(None), t.c.status.in_(COUNTED))
        .order_by(h.c.id.desc())
        .limit(limit)
    )
    return [ListedDonation(*row) for row in (await session.execute(stmt)).all()]


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One transfer for accounting: the donation, its senders and its screening result."""

    donation: Donation
    senders: tuple[str, ...]
    # "clear", or "listed" with the lists (source and version) that hold a sender.
    screening: str
    list_versions: tuple[str, ...]


async def export_rows(
    db: Database, *, since: datetime | None = None, until: datetime | None = None, batch: int = EXPORT_BATCH
) -> AsyncIterator[list[ExportRow]]:
    """Counted donations with time in [since, until), oldest stored first, in batches of ``batch``.

    Keyset batches on the primary key with their senders and hits fetched per batch, each in its
    own short transaction (an export never holds SQLite's write lock for long): memory stays
    constant however many rows there are, and the order is stable.
    """
    after = 0
    while True:
        async with db.session() as session:
            rows = await _export_batch(session, after, since, until, batch)
        if not rows:
            return
        yield rows
        after = rows[-1].donation.id


async def _export_batch(
    session: AsyncSession, after: int, since: datetime | None, until: datetime | None, batch: int
) -> list[ExportRow]:
    t, w = Transfer.__table__, Wallet.__table__
    at = func.coalesce(t.c.block_time, t.c.first_seen)
    cond = [t.c.id > after, t.c.status.in_(COUNTED)]
    if since is not None:
        cond.append(at >= literal(since, UTCDateTime()))
    if until is not None:
        cond.append(at < literal(until, UTCDateTime()))
    stmt = select(*_donation_columns()).join(w, w.c.id == t.c.wallet_id).where(and_(*cond)).order_by(t.c.id).limit(batch)
    donations = [Donation(*row) for row in (await session.execute(stmt)).all()]
    if not donations:
        return []
    ids = [d.id for d in donations]
    senders: dict[int, list[str]] = defaultdict(list)
    s = TransferSender.__table__
    for tid, address in await session.execute(
        select(s.c.transfer_id, s.c.address).where(s.c.transfer_id.in_(ids)).order_by(s.c.transfer_id, s.c.address)
    ):
        senders[tid].append(address)
    hits: dict[int, set[str]] = defaultdict(set)
    h, v = ScreeningHit.__table__, ScreeningListVersion.__table__
    for tid, source, version_id, published in await session.execute(
        select(h.c.transfer_id, h.c.source, h.c.version_id, v.c.published)
        .join(v, v.c.id == h.c.version_id)
        .where(h.c.transfer_id.in_(ids), h.c.delisted_at.is_(None))
    ):
        hits[tid].add(f"{source}#{version_id}" + (f" ({published.isoformat()})" if published else ""))
    return [
        ExportRow(d, tuple(senders.get(d.id, ())), "listed" if d.id in hits else "clear", tuple(sorted(hits.get(d.id, ()))))
        for d in donations
    ]



async def value_sums(
    session: AsyncSession, currency: str, start: date | None = None, end: date | None = None
) -> tuple[Decimal, Decimal, int]:
    """Exact value at arrival of the counted donations (those whose UTC day is in [start, end] when
    given): confirmed, pending, and how many have no value yet (never counted as 0).

    PostgreSQL sums the NUMERIC values in SQL; SQLite (no exact decimal sum) adds in Python.
    A scan of the donations: cache it.
    """
    t, v = Transfer.__table__, TransferValue.__table__
    at = func.coalesce(t.c.block_time, t.c.first_seen)
    cond = [t.c.status.in_(COUNTED)]
    if start is not None:
        cond.append(at >= literal(datetime.combine(start, time.min, timezone.utc), UTCDateTime()))
    if end is not None:
        cond.append(at < literal(datetime.combine(end + timedelta(days=1), time.min, timezone.utc), UTCDateTime()))
    joined = t.outerjoin(v, and_(v.c.transfer_id == t.c.id, v.c.currency == currency))
    confirmed, pending, unvalued = Decimal(0), Decimal(0), 0
    if session.get_bind().dialect.name == "postgresql":
        stmt = (select(t.c.status, func.count(), func.count(v.c.value), func.sum(v.c.value))
                .select_from(joined).where(*cond).group_by(t.c.status))
        for status, n, valued, total in (await session.execute(stmt)).all():
            unvalued += n - valued
            if status == TransferStatus.CONFIRMED:
                confirmed = total or Decimal(0)
            else:
                pending = total or Decimal(0)
        return confirmed, pending, unvalued
    exact = Context(prec=200, traps=[Inexact])
    result = await session.stream(select(t.c.status, v.c.value).select_from(joined).where(*cond)
                                  .execution_options(yield_per=EXPORT_BATCH))
    async for status, value in result:
        if value is None:
            unvalued += 1
        elif status == TransferStatus.CONFIRMED:
            confirmed = exact.add(confirmed, value)
        else:
            pending = exact.add(pending, value)
    return confirmed, pending, unvalued
