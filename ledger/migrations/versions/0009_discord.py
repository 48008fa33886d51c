"""the chat layer's audit of wallet changes and the daily summaries made due

Revision ID: 0009_discord
Revises: 0008_sanctions_guard
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ledger.types

revision = "0009_discord"
down_revision = "0008_sanctions_guard"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wallet_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", ledger.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("chain", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_wallet_audit_at", "wallet_audit", ["at"])
    op.create_table(
        "summary_run",
        sa.Column("day", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", ledger.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )


def downgrade() -> None:
    op.drop_table("summary_run")
    op.drop_index("ix_wallet_audit_at", table_name="wallet_audit")
    op.drop_table("wallet_audit")
