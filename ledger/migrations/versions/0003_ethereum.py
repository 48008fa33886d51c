"""backfill progress of block-scanning watchers

Revision ID: 0003_ethereum
Revises: 0002_screening
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ledger.types

revision = "0003_ethereum"
down_revision = "0002_screening"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "backfill_cursor",
        sa.Column("chain", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("from_height", sa.BigInteger(), nullable=False),
        sa.Column("to_height", sa.BigInteger(), nullable=False),
        sa.Column("height", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", ledger.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chain", "from_height"),
    )


def downgrade() -> None:
    op.drop_table("backfill_cursor")
