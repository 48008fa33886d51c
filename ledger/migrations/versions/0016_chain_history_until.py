"""chain cursor: history_until, the tip when a chain was first polled (its blocks up to there are the wallets' past)

Revision ID: 0016_chain_history_until
Revises: 0015_chain_poll
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_chain_history_until"
down_revision = "0015_chain_poll"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chain_cursor") as batch:
        batch.add_column(sa.Column("history_until", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chain_cursor") as batch:
        batch.drop_column("history_until")
