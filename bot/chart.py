"""The summary's chart: cumulative donations per asset over the last days, as a PNG.

matplotlib's object API with the Agg canvas only (never pyplot: no global figure state, safe in a
worker thread). Amounts arrive as exact base-unit integers and become floats only to be drawn.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from datetime import date

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import DateFormatter
from matplotlib.figure import Figure

WIDTH_PX, HEIGHT_PX, DPI = 1000, 500, 100
MAX_ASSETS = 4  # small multiples beyond four stop being readable in a chat window


@dataclass(frozen=True, slots=True)
class Series:
    """One asset's running total at the end of each day, in base units."""

    asset: str
    decimals: int
    days: list[date]
    cumulative: list[int]


def render_png(series: list[Series], title: str) -> bytes:
    """Draw one panel per asset (the largest counts first) and return the PNG bytes."""
    shown = series[:MAX_ASSETS]
    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    fig.suptitle(title)
    if not shown:
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "no donations yet", ha="center", va="center", fontsize=16)
        ax.set_axis_off()
    for i, s in enumerate(shown):
        ax = fig.add_subplot(1, len(shown), i + 1)
        values = [v / 10**s.decimals for v in s.cumulative]
        ax.step(s.days, values, where="post", color=f"C{i}", linewidth=2)
        ax.fill_between(s.days, values, step="post", alpha=0.2, color=f"C{i}")
        ax.set_title(s.asset)
        ax.set_ylim(bottom=0)
        ax.xaxis.set_major_formatter(DateFormatter("%d %b"))
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


async def render_png_async(series: list[Series], title: str) -> bytes:
    """render_png in a worker thread, so drawing never blocks the event loop."""
    return await asyncio.to_thread(render_png, series, title)
