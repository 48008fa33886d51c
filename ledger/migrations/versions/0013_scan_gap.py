"""scan_gap: block ranges stored without optional data the config asks for (traces), until filled

Revision ID: 0013_scan_gap
Revises: 0012_pending_index
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ledger.types import UTCDateTime

revision = "0013_scan_gap"
down_revision = "0012_pending_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scan_gap",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("chain", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("from_height", sa.BigInteger, nullable=False),
        sa.Column("to_height", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.String(300), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_scan_gap_chain", "scan_gap", ["chain"])


def downgrade() -> None:
    op.drop_index("ix_scan_gap_chain", table_name="scan_gap")
    op.drop_table("scan_gap")
