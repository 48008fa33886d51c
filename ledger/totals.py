"""Running totals per (wallet, asset, status), moved by deltas inside the write transaction."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Numeric, select, type_coerce
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import WalletTotal

TotalsKey = tuple[int, str, str]


@dataclass
class TotalsDelta:
    """Changes to apply to the running totals: key -> [decimals, count, amount]."""

    changes: dict[TotalsKey, list[int]] = field(default_factory=dict)

    def add(self, wallet_id: int, asset: str, decimals: int, status: str, count: int, amount: int) -> None:
        entry = self.changes.setdefault((wallet_id, asset, status), [decimals, 0, 0])
        entry[1] += count
        entry[2] += amount


async def apply_deltas(session: AsyncSession, delta: TotalsDelta) -> None:
    """Add the deltas to the stored totals.

    PostgreSQL adds in SQL (safe with several writers); SQLite reads and writes back under the
    BEGIN IMMEDIATE lock every ledger transaction holds there.
    """
    changes = {k: v for k, v in delta.changes.items() if v[1] or v[2]}
    if not changes:
        return
    if session.get_bind().dialect.name == "postgresql":
        stmt = pg_insert(WalletTotal.__table__)
        stmt = stmt.on_conflict_do_update(
            index_elements=["wallet_id", "asset", "status"],
            set_={
                "count": WalletTotal.__table__.c.count + stmt.excluded.count,
                "amount": _num(WalletTotal.__table__.c.amount) + _num(stmt.excluded.amount),
            },
        )
        # Sorted by key: concurrent writers then lock rows in one order and cannot deadlock.
        rows = [
            {"wallet_id": w, "asset": a, "status": s, "decimals": d, "count": c, "amount": m}
            for (w, a, s), (d, c, m) in sorted(changes.items())
        ]
        await (await session.connection()).execute(stmt, rows)
        return
    # SQLite: read the current sums, add in Python, write the absolute values back in one
    # executemany upsert (safe: every SQLite ledger transaction holds the write lock).
    table = WalletTotal.__table__
    conn = await session.connection()
    current = {
        (w, a, st): (c, m)
        for w, a, st, c, m in await conn.execute(
            select(table.c.wallet_id, table.c.asset, table.c.status, table.c.count, table.c.amount).where(
                table.c.wallet_id.in_({k[0] for k in changes})
            )
        )
    }
    rows = []
    for (w, a, st), (decimals, count, amount) in changes.items():
        old_count, old_amount = current.get((w, a, st), (0, 0))
        rows.append({"wallet_id": w, "asset": a, "status": st, "decimals": decimals,
                     "count": old_count + count, "amount": old_amount + amount})
    stmt = sqlite_insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["wallet_id", "asset", "status"],
        set_={"count": stmt.excluded.count, "amount": stmt.excluded.amount},
    )
    await conn.execute(stmt, rows)


def _num(column):  # type: ignore[no-untyped-def]
    """Treat a BigSum column as the NUMERIC it is on PostgreSQL, so + adds instead of concatenating."""
    return type_coerce(column, Numeric(80, 0))
