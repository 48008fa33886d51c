"""a transfer's identity that survives a reorg: token transfers by ordinal, log_index kept beside it

Revision ID: 0010_reorg_identity
Revises: 0009_discord

Token transfers were keyed by their log index in the block, which changes when a reorg
re-includes the transaction elsewhere. They are now keyed by their ordinal among the
transaction's Transfer logs of that token to that wallet; the log index moves to ``log_index``.
The natural key gains wallet_id and asset so that ordinals of two tokens or two wallets in one
transaction cannot meet. Existing token rows keep their log index in ``log_index`` and get their
ordinal (rows still counted first, so a stale copy a reorg left orphaned never takes the live
row's identity).
"""
from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0010_reorg_identity"
down_revision = "0009_discord"
branch_labels = None
depends_on = None

_transfer = sa.table(
    "transfer",
    sa.column("id", sa.Integer),
    sa.column("chain", sa.String),
    sa.column("txid", sa.String),
    sa.column("wallet_id", sa.Integer),
    sa.column("asset", sa.String),
    sa.column("token", sa.String),
    sa.column("position", sa.Integer),
    sa.column("log_index", sa.Integer),
    sa.column("status", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("transfer") as batch:
        batch.add_column(sa.Column("log_index", sa.Integer(), nullable=True))
        batch.drop_constraint("uq_transfer_natural_key", type_="unique")
    conn = op.get_bind()
    t = _transfer.c
    rows = conn.execute(
        sa.select(t.id, t.chain, t.txid, t.wallet_id, t.token, t.position, t.status).where(t.token.is_not(None))
    ).all()
    groups: dict[tuple[str, str, int, str], list[tuple[bool, int, int]]] = defaultdict(list)
    for row in rows:
        groups[(row.chain, row.txid, row.wallet_id, row.token)].append((row.status == "orphaned", row.position, row.id))
    updates = []
    for members in groups.values():
        for ordinal, (_, log_index, tid) in enumerate(sorted(members)):
            updates.append({"tid": tid, "ordinal": ordinal, "log_index": log_index})
    if updates:
        conn.execute(
            _transfer.update().where(t.id == sa.bindparam("tid")).values(position=sa.bindparam("ordinal"), log_index=sa.bindparam("log_index")),
            updates,
        )
    with op.batch_alter_table("transfer") as batch:
        batch.create_unique_constraint("uq_transfer_natural_key", ["chain", "txid", "wallet_id", "asset", "position"])


def downgrade() -> None:
    conn = op.get_bind()
    t = _transfer.c
    conn.execute(_transfer.update().where(t.log_index.is_not(None)).values(position=t.log_index))
    with op.batch_alter_table("transfer") as batch:
        batch.drop_constraint("uq_transfer_natural_key", type_="unique")
        batch.create_unique_constraint("uq_transfer_natural_key", ["chain", "txid", "position"])
        batch.drop_column("log_index")
