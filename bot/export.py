"""Accounting exports: every counted donation as CSV or JSON, streamed batch by batch (constant memory).

Used by `donation-watch export` and by `GET /api/v1/export.csv`. Amounts are the exact integer
in base units with the asset's decimals beside it (and the same as decimal text); never floats.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from bot import fiat
from ledger.database import Database
from ledger.donations import ExportRow, export_rows

FIELDS = (
    "date", "chain", "txid", "position", "wallet", "wallet_label", "asset", "token", "amount", "decimals",
    "amount_decimal", "fiat_value", "fiat_currency", "fiat_source", "senders", "status", "screening",
    "list_versions",
)
# Several senders or list versions in one CSV cell.
JOINER = ";"


def decimal_text(value: int, decimals: int) -> str:
    """Base units as plain decimal text for spreadsheets: 150000000, 8 -> "1.5" (no separators)."""
    whole, frac = divmod(value, 10**decimals) if decimals else (value, 0)
    digits = f"{frac:0{decimals}d}".rstrip("0") if decimals else ""
    return f"{whole}.{digits}" if digits else str(whole)


def record(row: ExportRow, value: fiat.TransferValue | None) -> dict[str, Any]:
    """One export row as a flat mapping of FIELDS (lists as lists; CSV joins them)."""
    d = row.donation
    return {
        "date": d.at.isoformat().replace("+00:00", "Z"),
        "chain": d.chain,
        "txid": d.txid,
        "position": d.position,
        "wallet": d.wallet_address,
        "wallet_label": d.wallet_label,
        "asset": d.asset,
        "token": d.token or "",
        "amount": str(d.amount),
        "decimals": d.decimals,
        "amount_decimal": decimal_text(d.amount, d.decimals),
        "fiat_value": str(value.value) if value else "",
        "fiat_currency": value.currency if value else "",
        "fiat_source": value.source if value else "",
        "senders": list(row.senders),
        "status": d.status,
        "screening": row.screening,
        "list_versions": list(row.list_versions),
    }


async def stream(
    db: Database, fmt: str, *, since: datetime | None = None, until: datetime | None = None, currency: str = "USD"
) -> AsyncIterator[str]:
    """The export as text chunks, one per batch of rows: CSV with a header, or one JSON array."""
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(FIELDS)
        yield buf.getvalue()
    else:
        yield "[\n"
    first = True
    async for batch in export_rows(db, since=since, until=until):
        async with db.session() as s:
            values = await fiat.values_of(s, [r.donation.id for r in batch], currency)
        buf = io.StringIO()
        if fmt == "csv":
            writer = csv.writer(buf, lineterminator="\n")
            for row in batch:
                rec = record(row, values.get(row.donation.id))
                writer.writerow([JOINER.join(v) if isinstance(v, list) else v for v in (rec[f] for f in FIELDS)])
        else:
            for row in batch:
                buf.write(("" if first else ",\n") + json.dumps(record(row, values.get(row.donation.id)), separators=(",", ":")))
                first = False
        yield buf.getvalue()
    if fmt != "csv":
        yield "\n]\n"
