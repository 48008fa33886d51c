"""per-wallet history imports; addresses derived from extended-key wallets

Revision ID: 0011_history_import
Revises: 0010_reorg_identity

Existing wallets get no import row: they were scanned from their start height by the live
watcher's first poll (the only way before this revision).
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ledger.types

revision = "0011_history_import"
down_revision = "0010_reorg_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wallet_import",
        sa.Column("wallet_id", sa.Integer(), nullable=False),
        sa.Column("chain", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("since_height", sa.BigInteger(), nullable=True),
        sa.Column("since_time", ledger.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("live_from", sa.BigInteger(), nullable=True),
        sa.Column("done_height", sa.BigInteger(), nullable=True),
        sa.Column("resume", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("done", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("stored", sa.BigInteger(), nullable=False),
        sa.Column("rejected", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", ledger.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ledger.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", ledger.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["wallet_id"], ["wallet.id"]),
        sa.PrimaryKeyConstraint("wallet_id"),
    )
    op.create_index(op.f("ix_wallet_import_chain"), "wallet_import", ["chain"], unique=False)
    op.create_table(
        "wallet_address",
        sa.Column("wallet_id", sa.Integer(), nullable=False),
        sa.Column("branch", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.Column("chain_tx_count", sa.BigInteger(), nullable=False),
        sa.Column("mempool_tx_count", sa.BigInteger(), nullable=False),
        sa.Column("newest_txid", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("updated_at", ledger.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["wallet_id"], ["wallet.id"]),
        sa.PrimaryKeyConstraint("wallet_id", "branch", "index"),
    )
    op.create_index("ix_wallet_address_address", "wallet_address", ["address"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_wallet_address_address", table_name="wallet_address")
    op.drop_table("wallet_address")
    op.drop_index(op.f("ix_wallet_import_chain"), table_name="wallet_import")
    op.drop_table("wallet_import")
