"""Turning figures into what people read (HTML filters) and what programs read (the v1 JSON shapes)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bot.fiat import FiatFigures, TransferValue
from bot.format import amount as amount_text
from bot.web.explorers import Explorers
from bot.web.figures import AssetTotal, Figures
from bot.web.goal import GoalProgress
from ledger.donations import Donation
from valuation.money import display, minor_unit

SCHEMA_VERSION = 2


def minor_units(currency: str) -> int:
    """How many decimals a currency's amounts are shown with (ISO 4217)."""
    return minor_unit(currency)


def to_units(value: Decimal, decimals: int) -> int:
    """An exact Decimal as an integer of 10**-decimals units, rounded half up (for display only)."""
    return int((value * (Decimal(10) ** decimals)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def money(value: Decimal, currency: str) -> str:
    """E.g. "12,345.68 USD" (rounded to the currency's minor unit)."""
    return display(value, currency)


def when(value: datetime | date | None) -> str:
    """A UTC time as "2026-11-29 21:03 UTC" (a date as itself); "—" when unknown."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


def iso(value: datetime | date | None) -> str | None:
    """ISO 8601 text (UTC times end in Z), or None."""
    if value is None:
        return None
    text = value.isoformat()
    return text.replace("+00:00", "Z") if isinstance(value, datetime) else text


def short(txid: str) -> str:
    """A transaction id cut to its ends: "3b1f…9c2a"."""
    return txid if len(txid) <= 16 else f"{txid[:8]}…{txid[-6:]}"


def _asset_json(a: AssetTotal) -> dict[str, Any]:
    return {
        "asset": a.asset, "decimals": a.decimals, "confirmed": str(a.confirmed), "pending": str(a.pending),
        "confirmed_count": a.confirmed_count, "pending_count": a.pending_count,
    }


def _fiat_json(f: FiatFigures | None) -> dict[str, Any] | None:
    if f is None:
        return None
    decimals = minor_units(f.currency)
    return {
        "currency": f.currency, "decimals": decimals, "confirmed": str(to_units(f.confirmed, decimals)),
        "pending": str(to_units(f.pending, decimals)), "unvalued_count": f.unvalued_count,
    }


def goal_decimals(goal: GoalProgress, figures: Figures) -> int:
    """The goal's amounts are in an asset's base units when its currency is an asset, else minor units."""
    for a in figures.assets:
        if a.asset == goal.currency:
            return a.decimals
    for d in figures.slow.daily:
        if d.asset == goal.currency:
            return d.decimals
    return minor_units(goal.currency)


def _goal_json(goal: GoalProgress | None, figures: Figures) -> dict[str, Any] | None:
    if goal is None:
        return None
    decimals = goal_decimals(goal, figures)
    return {
        "currency": goal.currency, "decimals": decimals, "amount": str(to_units(goal.target, decimals)),
        "confirmed": str(to_units(goal.confirmed, decimals)), "pending": str(to_units(goal.pending, decimals)),
        "percent": str(goal.percent), "pending_percent": str(goal.pending_percent), "start": iso(goal.start),
        "end": iso(goal.end), "days_left": goal.days_left, "phase": goal.phase, "unvalued_count": goal.unvalued_count,
    }


def totals_json(figures: Figures) -> dict[str, Any]:
    """GET /api/v1/totals."""
    slow = figures.slow
    return {
        "schema_version": SCHEMA_VERSION,
        "as_of": iso(figures.as_of),
        "scanned_at": iso(slow.computed_at),
        "donations": figures.count,
        "confirmed_count": figures.confirmed_count,
        "pending_count": figures.pending_count,
        "unique_donors": slow.unique_donors,
        "first_donation": iso(slow.first),
        "latest_donation": iso(slow.latest),
        "assets": [_asset_json(a) for a in figures.assets],
        "fiat": _fiat_json(figures.fiat),
        "goal": _goal_json(figures.goal, figures),
        "screening": {
            "lists": [
                {
                    "source": st.source,
                    "published": iso(st.in_force.published) if st.in_force else None,
                    "loaded_at": iso(st.in_force.loaded_at) if st.in_force else None,
                    "entries": st.in_force.count if st.in_force else 0,
                }
                for st in slow.lists
            ],
            "listed_donations": slow.listed_count,
        },
    }


def donation_json(d: Donation, explorers: Explorers, value: TransferValue | None) -> dict[str, Any]:
    """One item of GET /api/v1/donations."""
    return {
        "id": d.id, "time": iso(d.at), "chain": d.chain, "txid": d.txid, "position": d.position,
        "wallet": d.wallet_address, "asset": d.asset, "decimals": d.decimals, "amount": str(d.amount),
        "status": d.status, "block_height": d.block_height, "explorer_url": explorers.tx(d.chain, d.txid),
        "fiat": None if value is None else {
            "currency": value.currency, "decimals": minor_units(value.currency),
            "value": str(to_units(value.value, minor_units(value.currency))), "source": value.source,
        },
    }


def wallets_json(figures: Figures, explorers: Explorers) -> dict[str, Any]:
    """GET /api/v1/wallets."""
    return {
        "schema_version": SCHEMA_VERSION,
        "wallets": [
            {
                "chain": w.chain, "address": w.address, "label": w.label,
                "explorer_url": explorers.address(w.chain, w.address),
                "next_address": w.next_address,
                "assets": [_asset_json(a) for a in w.assets],
            }
            for w in figures.wallets
        ],
    }
