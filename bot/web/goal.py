"""The fundraising goal's progress: exact percentages, bar widths and the time left (BTCPay Crowdfund's way).

As in BTCPay's Crowdfund app, confirmed and pending are shown apart (two segments of one bar,
two percentages), the raised share may pass 100 %, and the campaign reads "starts in N days",
"N days left" or "ended" from its optional start and end dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal

HUNDRED = Decimal(100)
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class GoalProgress:
    """Where a goal stands; amounts in the goal's currency as exact Decimals."""

    currency: str
    target: Decimal
    confirmed: Decimal
    pending: Decimal
    percent: Decimal  # confirmed share of the target, two places, may exceed 100
    pending_percent: Decimal
    bar_confirmed: Decimal  # bar segment widths in percent of the bar, together at most 100
    bar_pending: Decimal
    start: date | None
    end: date | None
    days_left: int | None  # days until the end date, counting today (None without an end)
    phase: str  # "upcoming", "active" or "ended"
    unvalued_count: int = 0

    @property
    def time_text(self) -> str:
        """The campaign's time in words, e.g. "12 days left"."""
        if self.phase == "upcoming" and self.start is not None:
            return f"starts on {self.start.isoformat()}"
        if self.phase == "ended" and self.end is not None:
            return f"ended on {self.end.isoformat()}"
        if self.days_left is None:
            return "no end date"
        return "last day" if self.days_left == 1 else f"{self.days_left} days left"


def progress(
    target: Decimal, currency: str, confirmed: Decimal, pending: Decimal, *, today: date,
    start: date | None = None, end: date | None = None, unvalued_count: int = 0,
) -> GoalProgress:
    """The goal's percentages (rounded down to 0.01) and bar segments for these raised amounts."""
    percent = (confirmed * HUNDRED / target).quantize(CENT, rounding=ROUND_DOWN)
    pending_percent = (pending * HUNDRED / target).quantize(CENT, rounding=ROUND_DOWN)
    bar_confirmed = min(percent, HUNDRED)
    bar_pending = min(pending_percent, HUNDRED - bar_confirmed)
    if start is not None and today < start:
        phase = "upcoming"
    elif end is not None and today > end:
        phase = "ended"
    else:
        phase = "active"
    days_left = None if end is None else max((end - today).days + 1, 0)
    return GoalProgress(
        currency=currency, target=target, confirmed=confirmed, pending=pending, percent=percent,
        pending_percent=pending_percent, bar_confirmed=bar_confirmed, bar_pending=bar_pending,
        start=start, end=end, days_left=days_left, phase=phase, unvalued_count=unvalued_count,
    )
