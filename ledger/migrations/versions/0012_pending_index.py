"""a partial index on pending transfers, so confirming by depth never reads the whole history

Revision ID: 0012_pending_index
Revises: 0011_history_import

`confirm_up_to` asks for the chain's pending transfers at or below a height: on the
(chain, block_height) index that is every stored transfer below it, read and filtered on each
poll. This index holds only the pending ones.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_pending_index"
down_revision = "0011_history_import"
branch_labels = None
depends_on = None

_PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_index(
        "ix_transfer_pending", "transfer", ["chain", "block_height"],
        sqlite_where=_PENDING, postgresql_where=_PENDING,
    )


def downgrade() -> None:
    op.drop_index("ix_transfer_pending", table_name="transfer")
