"""fiat valuation: the price cache and each transfer's value at arrival

Revision ID: 0007_valuation
Revises: 0003_ethereum
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ledger.types

revision = "0007_valuation"
down_revision = "0003_ethereum"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "price_candle",
        sa.Column("asset", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("granularity", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("bucket_start", ledger.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("price", ledger.types.ExactDecimal(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("candle_time", ledger.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("fetched_at", ledger.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("asset", "currency", "granularity", "bucket_start"),
    )
    op.create_table(
        "transfer_value",
        sa.Column("transfer_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("value", ledger.types.ExactDecimal(), nullable=False),
        sa.Column("price", ledger.types.ExactDecimal(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("granularity", sa.Integer(), nullable=False),
        sa.Column("candle_time", ledger.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("priced_at", ledger.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valued_at", ledger.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["transfer_id"], ["transfer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("transfer_id", "currency"),
    )


def downgrade() -> None:
    op.drop_table("transfer_value")
    op.drop_table("price_candle")
