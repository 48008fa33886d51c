"""chain poll: each chain's last good poll, whichever instance made it (for every instance's /healthz)

Revision ID: 0015_chain_poll
Revises: 0014_event_stream
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ledger.types

revision = "0015_chain_poll"
down_revision = "0014_event_stream"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chain_poll",
        sa.Column("chain", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("last_ok_at", ledger.types.UTCDateTime(), nullable=False),
        sa.Column("height", sa.BigInteger(), nullable=True),
        sa.Column("instance", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.PrimaryKeyConstraint("chain"),
    )


def downgrade() -> None:
    op.drop_table("chain_poll")
