"""sanctions guard: who forced an older list in force, and which list alerts were announced

Revision ID: 0008_sanctions_guard
Revises: 0007_valuation
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ledger.types

revision = "0008_sanctions_guard"
down_revision = "0007_valuation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("screening_list_version") as batch:
        batch.add_column(sa.Column("forced_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch.add_column(sa.Column("forced_at", ledger.types.UTCDateTime(timezone=True), nullable=True))
    # Existing sources start with nothing announced: a failing or stale list is told once after the upgrade.
    with op.batch_alter_table("screening_source") as batch:
        batch.add_column(sa.Column("failure_announced", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("stale_announced", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("screening_source") as batch:
        batch.drop_column("stale_announced")
        batch.drop_column("failure_announced")
    with op.batch_alter_table("screening_list_version") as batch:
        batch.drop_column("forced_at")
        batch.drop_column("forced_by")
