"""Cumulative donations as small inline SVG charts, drawn on the server (no script, no image request).

One chart per asset (amounts of different assets share no axis); its labels are HTML beside the
SVG, so they stay readable when the drawing scales down to a phone's width.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

WIDTH = 600
HEIGHT = 120
PAD = 4


@dataclass(frozen=True, slots=True)
class AssetChart:
    """One asset's cumulative line as SVG path data, with its span for the caption."""

    asset: str
    decimals: int
    first_day: date
    last_day: date
    total: int
    line: str  # the path's "d" attribute: the cumulative step line
    area: str  # the same line closed to the baseline, for the fill
    days: int


def asset_chart(asset: str, decimals: int, points: list[tuple[date, int]]) -> AssetChart:
    """A step line of the running total per day, scaled into a WIDTH x HEIGHT box."""
    first, last = points[0][0], points[-1][0]
    span = max((last - first).days, 1)
    top = max(points[-1][1], 1)
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD

    def x(day: date) -> float:
        return PAD + inner_w * (day - first).days / span

    def y(value: int) -> float:
        # Integer ratio first, then one division to a pixel: exact money, approximate only on screen.
        return PAD + inner_h - inner_h * (value * 10_000 // top) / 10_000

    base = PAD + inner_h
    parts = [f"M{PAD:.1f},{base:.1f}"]
    previous = 0
    for day, value in points:
        px = x(day)
        parts.append(f"L{px:.1f},{y(previous):.1f}")
        parts.append(f"L{px:.1f},{y(value):.1f}")
        previous = value
    parts.append(f"L{WIDTH - PAD:.1f},{y(previous):.1f}")
    line = " ".join(parts)
    area = f"{line} L{WIDTH - PAD:.1f},{base:.1f} Z"
    return AssetChart(asset, decimals, first, last, points[-1][1], line, area, len(points))
