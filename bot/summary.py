"""The daily summary: figures from the ledger, a chart, and one neutral message a person reads in ten seconds."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.chart import Series, render_png_async
from bot.format import amount
from bot.messages import Image, Message, MessageField, Severity
from ledger.models import Transfer
from ledger.queries import donation_count, totals, unique_senders
from ledger.report_queries import WatcherState, arrivals_between, hit_counts, largest_between, watcher_states
from ledger.types import utcnow
from screening.status import SourceStatus, list_status

if TYPE_CHECKING:
    from bot.settings import Settings

CHART_DAYS = 30
STALE_LIST_DAYS = 7


@dataclass(frozen=True, slots=True)
class AssetFigures:
    """One asset's figures: the last day, and all time (confirmed and pending apart)."""

    asset: str
    decimals: int
    day_count: int = 0
    day_amount: int = 0
    confirmed: int = 0
    pending: int = 0
    count: int = 0


@dataclass
class Summary:
    """Everything the daily summary says, as exact numbers."""

    at: datetime
    assets: list[AssetFigures]
    count: int
    unique_donors: int
    largest: list[Transfer]
    active_hits: int
    new_hits: int
    watchers: dict[str, WatcherState]
    lists: list[SourceStatus]
    series: list[Series] = field(default_factory=list)


async def build_summary(session: AsyncSession, *, now: datetime | None = None) -> Summary:
    """Read the summary's figures from the ledger as of ``now``."""
    now = now or utcnow()
    day_start = now - timedelta(days=1)
    per_asset: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for t in await totals(session):
        a = per_asset[t.asset]
        a["decimals"] = t.decimals
        a["confirmed"] += t.confirmed
        a["pending"] += t.pending
        a["count"] += t.count
    for at, asset, decimals, value in await arrivals_between(session, day_start, now):
        a = per_asset[asset]
        a["decimals"] = decimals
        a["day_count"] += 1
        a["day_amount"] += value
    assets = sorted(
        (AssetFigures(asset, v["decimals"], v["day_count"], v["day_amount"], v["confirmed"], v["pending"], v["count"])
         for asset, v in per_asset.items()),
        key=lambda f: (-f.count, f.asset),
    )
    active, new = await hit_counts(session, day_start)
    return Summary(
        at=now, assets=assets, count=await donation_count(session), unique_donors=await unique_senders(session),
        largest=list(await largest_between(session, day_start, now)), active_hits=active, new_hits=new,
        watchers=await watcher_states(session), lists=await list_status(session),
        series=await cumulative_series(session, now, [a.asset for a in assets]),
    )


async def cumulative_series(session: AsyncSession, now: datetime, order: list[str], days: int = CHART_DAYS) -> list[Series]:
    """Per asset, the all-time running total at the end of each of the last ``days`` days (UTC)."""
    start_day = now.date() - timedelta(days=days - 1)
    start = datetime.combine(start_day, datetime.min.time(), tzinfo=now.tzinfo)
    base: dict[str, int] = defaultdict(int)
    decimals: dict[str, int] = {}
    per_day: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for at, asset, dec, value in await arrivals_between(session, None, now):
        decimals[asset] = dec
        if at < start:
            base[asset] += value
        else:
            per_day[asset][at.date()] += value
    day_list = [start_day + timedelta(days=i) for i in range(days)]
    out = []
    for asset in order:
        running, points = base[asset], []
        for d in day_list:
            running += per_day[asset].get(d, 0)
            points.append(running)
        out.append(Series(asset, decimals.get(asset, 0), day_list, points))
    return out


def summary_message(summary: Summary, settings: Settings, chart: bytes | None) -> Message:
    """The summary as a neutral message: totals first, then what needs a human."""
    now = summary.at
    lines = [f"{summary.count:,} donations from {summary.unique_donors:,} unique donors."]
    fields = []
    for a in summary.assets:
        day = f"{amount(a.day_amount, a.decimals)} in {a.day_count} donation{'s' if a.day_count != 1 else ''}"
        total = f"{amount(a.confirmed, a.decimals)} confirmed"
        if a.pending:
            total += f", {amount(a.pending, a.decimals)} pending"
        fields.append(MessageField(a.asset, f"last 24 h: {day}\nall time: {total}"))
    if summary.largest:
        best: dict[str, Transfer] = {}
        for t in summary.largest:
            best.setdefault(t.asset, t)
        fields.append(MessageField("Largest in 24 h", "\n".join(f"{amount(t.amount, t.decimals)} {t.asset}" for t in best.values())))
    attention: list[str] = []
    if summary.active_hits:
        attention.append(f"{summary.active_hits} open sanctions hit{'s' if summary.active_hits != 1 else ''}"
                         f" ({summary.new_hits} new in 24 h): see /screen hits")
    for chain in settings.chains:
        state = summary.watchers.get(chain)
        if state is not None and not state.healthy:
            attention.append(f"the {chain} watcher is failing since {state.since:%Y-%m-%d %H:%M} UTC: {state.error}")
    for status in summary.lists:
        age = status.age_days(now)
        if status.in_force is None:
            attention.append(f"no {status.source} list is in force")
        elif age is not None and age > STALE_LIST_DAYS:
            attention.append(f"the {status.source} list is {age} days old")
        if status.failed_at is not None and (status.checked_at is None or status.failed_at >= status.checked_at):
            attention.append(f"updating {status.source} failed: {status.last_error}")
    watching = ", ".join(settings.chains) or "no chains"
    fields.append(MessageField("Needs a human", "\n".join(attention) if attention else "nothing", inline=False))
    lines.append(f"Watching {watching}; the chart shows the running total of the last {CHART_DAYS} days.")
    return Message(
        title=f"Daily summary, {now:%Y-%m-%d}",
        lines=lines, fields=fields,
        image=Image(chart, f"donations-{now:%Y%m%d}.png") if chart else None,
        severity=Severity.WARNING if attention else Severity.INFO,
        subject=f"summary:{now:%Y-%m-%d}", timestamp=now,
    )


async def render_summary(session: AsyncSession, settings: Settings, *, now: datetime | None = None) -> Message:
    """Build the figures, draw the chart off the event loop, and render the summary message."""
    summary = await build_summary(session, now=now)
    chart = await render_png_async(summary.series, f"Cumulative donations, last {CHART_DAYS} days (UTC)")
    return summary_message(summary, settings, chart)
