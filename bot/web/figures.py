"""The figures the page and the JSON API show, read from the ledger: live ones and cached ones.

Live on every request (cheap at any size): the running totals per asset, the goal (without a
date window), the recent donations. Cached and refreshed in the background at most every
``REFRESH_SECONDS`` (each a full scan at a million transfers): unique donors, first and latest
donation, the daily sums behind the chart, the fiat totals and a fiat goal, the screening counts.
A refresh waits at least ten times as long as the last one took, so the scans never take more
than a tenth of the database's time however large the ledger grows.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from bot.settings import Settings
from bot import fiat
from bot.web.goal import GoalProgress, progress
from ledger import donations, queries
from ledger.database import Database
from ledger.derived_addresses import next_unused_receive_addresses
from ledger.donations import DailySum, ListedDonation
from ledger.models import TransferStatus
from ledger.types import utcnow
from ledger.wallets import list_wallets
from screening.status import SourceStatus, list_status

log = logging.getLogger(__name__)
REFRESH_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class AssetTotal:
    """One asset's confirmed and pending sums over every wallet, in base units."""

    asset: str
    decimals: int
    confirmed: int
    pending: int
    confirmed_count: int
    pending_count: int


@dataclass(frozen=True, slots=True)
class WalletFigures:
    """An official address with what it received per asset."""

    id: int
    chain: str
    address: str
    label: str
    assets: list[AssetTotal]
    next_address: str | None = None  # an extended-key wallet's next unused receive address


@dataclass(frozen=True, slots=True)
class Slow:
    """Figures that need a full scan, computed in the background and kept for a while."""

    computed_at: datetime
    unique_donors: int
    first: datetime | None
    latest: datetime | None
    daily: list[DailySum]
    lists: list[SourceStatus]
    listed_count: int
    listed: list[ListedDonation]
    fiat: fiat.FiatFigures | None  # in valuation.currency
    goal_fiat: fiat.FiatFigures | None  # a fiat goal's raised value (its window, its currency)


@dataclass(frozen=True, slots=True)
class Figures:
    """Everything the page's top half shows, as of ``as_of``."""

    as_of: datetime
    assets: list[AssetTotal]
    wallets: list[WalletFigures]
    fiat: fiat.FiatFigures | None
    confirmed_count: int
    pending_count: int
    goal: GoalProgress | None
    slow: Slow

    @property
    def count(self) -> int:
        return self.confirmed_count + self.pending_count


@dataclass
class FigureSource:
    """Reads figures from one database; keeps the slow ones and refreshes them in the background."""

    db: Database
    settings: Settings
    refresh_seconds: float = REFRESH_SECONDS
    cost_factor: float = 10.0  # wait at least this many times the last refresh's duration
    _slow: Slow | None = None
    _slow_at: float = 0.0
    _slow_cost: float = 0.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _task: asyncio.Task[None] | None = None

    async def figures(self) -> Figures:
        """The live totals with the newest cached slow figures."""
        slow = await self.slow()
        async with self.db.session() as s:
            rows = await queries.totals(s)
            wallets = await list_wallets(s)
            nexts = await next_unused_receive_addresses(s, [w.id for w in wallets if w.id is not None])
        per_wallet: dict[int, list[AssetTotal]] = {}
        merged: dict[str, list[int]] = {}
        for t in rows:
            per_wallet.setdefault(t.wallet_id, []).append(
                AssetTotal(t.asset, t.decimals, t.confirmed, t.pending, t.confirmed_count, t.pending_count)
            )
            m = merged.setdefault(t.asset, [t.decimals, 0, 0, 0, 0])
            m[1] += t.confirmed
            m[2] += t.pending
            m[3] += t.confirmed_count
            m[4] += t.pending_count
        assets = [AssetTotal(a, *v) for a, v in sorted(merged.items())]
        wallet_figures = [WalletFigures(w.id, w.chain, w.address, w.label, per_wallet.get(w.id, []), nexts.get(w.id)) for w in wallets]
        return Figures(
            as_of=utcnow(), assets=assets, wallets=wallet_figures, fiat=slow.fiat,
            confirmed_count=sum(a.confirmed_count for a in assets), pending_count=sum(a.pending_count for a in assets),
            goal=self._goal(assets, slow), slow=slow,
        )

    def _goal(self, assets: list[AssetTotal], slow: Slow) -> GoalProgress | None:
        goal = self.settings.goal
        if goal.amount is None:
            return None
        today = utcnow().date()
        windowed = goal.start is not None or goal.end is not None
        by_asset = {a.asset: a for a in assets}
        if goal.currency in by_asset or goal.currency in {d.asset for d in slow.daily}:
            # A goal in one of the assets (e.g. 10 BTC): exact sums from the ledger.
            if windowed:
                confirmed, pending, decimals = _window_sums(slow.daily, goal.currency, goal.start, goal.end)
            else:
                a = by_asset[goal.currency]
                confirmed, pending, decimals = a.confirmed, a.pending, a.decimals
            scale = Decimal(10) ** decimals
            return progress(goal.amount, goal.currency, Decimal(confirmed) / scale, Decimal(pending) / scale,
                            today=today, start=goal.start, end=goal.end)
        raised = slow.goal_fiat
        if raised is None:
            return progress(goal.amount, goal.currency, Decimal(0), Decimal(0), today=today, start=goal.start,
                            end=goal.end, unvalued_count=sum(a.confirmed_count + a.pending_count for a in assets))
        return progress(goal.amount, goal.currency, raised.confirmed, raised.pending, today=today,
                        start=goal.start, end=goal.end, unvalued_count=raised.unvalued_count)

    async def slow(self) -> Slow:
        """The cached slow figures: computed now the first time, then refreshed in the background."""
        if self._slow is None:
            async with self._lock:
                if self._slow is None:
                    await self._refresh(raise_errors=True)
        elif time.monotonic() - self._slow_at > max(self.refresh_seconds, self.cost_factor * self._slow_cost) and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._refresh())
        return self._slow

    def warm(self) -> None:
        """Start computing the slow figures in the background (a request arriving meanwhile waits for them)."""
        if self._slow is None and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._warm())

    async def _warm(self) -> None:
        try:
            await self.slow()
        except Exception:  # noqa: BLE001 - the first request will retry and report it
            log.exception("page figures could not be computed at start; the first request retries")
        finally:
            self._task = None

    async def _refresh(self, *, raise_errors: bool = False) -> None:
        start = time.monotonic()
        try:
            self._slow = await self._compute()
        except Exception:  # noqa: BLE001 - a failed refresh keeps the last figures; a later request retries
            if raise_errors:
                raise
            log.exception("page figures refresh failed; serving the previous ones")
        finally:
            self._slow_at = time.monotonic()
            self._slow_cost = self._slow_at - start
            self._task = None

    async def _compute(self) -> Slow:
        settings = self.settings
        async with self.db.session() as s:
            span = await donations.donation_span(s)
            daily = await donations.daily_sums(s)
            fund = await fiat.fund_totals(s, settings.valuation.currency)
            goal_fiat = None
            goal = settings.goal
            if goal.amount is not None and goal.currency not in {d.asset for d in daily}:
                if goal.start is not None or goal.end is not None:
                    goal_fiat = await fiat.fund_totals(s, goal.currency, goal.start, goal.end)
                elif goal.currency == fund.currency:
                    goal_fiat = fund
                else:
                    goal_fiat = await fiat.fund_totals(s, goal.currency)
            return Slow(
                computed_at=utcnow(),
                unique_donors=await donations.unique_donors(s),
                first=span.first,
                latest=span.latest,
                daily=daily,
                lists=await list_status(s),
                listed_count=await donations.listed_donation_count(s),
                listed=await donations.listed_donations(s) if settings.page.show_hits else [],
                fiat=fund,
                goal_fiat=goal_fiat,
            )

    async def close(self) -> None:
        """Stop a refresh in flight."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass


def _window_sums(daily: list[DailySum], asset: str, start: date | None, end: date | None) -> tuple[int, int, int]:
    confirmed = pending = decimals = 0
    for d in daily:
        if d.asset != asset or (start is not None and d.day < start) or (end is not None and d.day > end):
            continue
        decimals = d.decimals
        if d.status == TransferStatus.CONFIRMED:
            confirmed += d.amount
        else:
            pending += d.amount
    return confirmed, pending, decimals


def cumulative(daily: list[DailySum]) -> dict[str, tuple[int, list[tuple[date, int]]]]:
    """Per asset: its decimals and the running total (confirmed and pending) at the end of each day."""
    out: dict[str, tuple[int, list[tuple[date, int]]]] = {}
    for d in daily:
        decimals, points = out.setdefault(d.asset, (d.decimals, []))
        running = points[-1][1] if points else 0
        if points and points[-1][0] == d.day:
            points[-1] = (d.day, running + d.amount)
        else:
            points.append((d.day, running + d.amount))
    return out

