"""Running totals per (wallet, asset, status), moved by deltas inside the write transaction."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Numeric, select, type_coerce
from sqlalchemy.dialects.postgresql import insert as pg_insert
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
        stmt = pg_insert(WalletTotal)
        stmt = stmt.on_conflict_do_update(
            index_elements=["wallet_id", "asset", "status"],
            set_={"count": WalletTotal.count + stmt.excluded.count, "amount": _num(WalletTotal.amount) + _num(stmt.excluded.amount)},
        )
        rows = [
            {"wallet_id": w, "asset": a, "status": s, "decimals": d, "count": c, "amount": m}
            for (w, a, s), (d, c, m) in changes.items()
        ]
        await session.execute(stmt, rows)
        return
    keys = list(changes)
    stored = {
        (t.wallet_id, t.asset, t.status): t
        for t in (
            await session.execute(select(WalletTotal).where(WalletTotal.wallet_id.in_({k[0] for k in changes})))
        ).scalars()
        if (t.wallet_id, t.asset, t.status) in changes
    }
    for key in keys:
        decimals, count, amount = changes[key]
        row = stored.get(key)
        if row is None:
            session.add(WalletTotal(wallet_id=key[0], asset=key[1], status=key[2], decimals=decimals, count=count, amount=amount))
        else:
            row.count += count
            row.amount += amount
    await session.flush()


def _num(column):  # type: ignore[no-untyped-def]
    """Treat a BigSum column as the NUMERIC it is on PostgreSQL, so + adds instead of concatenating."""
    return type_coerce(column, Numeric(80, 0))
