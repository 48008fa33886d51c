"""screening: list versions and entries, sources, hits, ingest cursor

Revision ID: 0002_screening
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ledger.types

revision = "0002_screening"
down_revision = "0001"
branch_labels = None
depends_on = None


def _str(n: int) -> sa.types.TypeEngine:
    return sqlmodel.sql.sqltypes.AutoString(length=n)


def _utc() -> sa.types.TypeEngine:
    return ledger.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "screening_list_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", _str(64), nullable=False),
        sa.Column("origin", _str(300), nullable=False),
        sa.Column("published", sa.Date(), nullable=True),
        sa.Column("sha256", _str(64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("loaded_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_screening_list_version_source", "screening_list_version", ["source", "id"])
    op.create_table(
        "screening_list_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("key", _str(200), nullable=False),
        sa.Column("address", _str(200), nullable=False),
        sa.Column("format", _str(16), nullable=False),
        sa.Column("asset", _str(16), nullable=False),
        sa.Column("party", sa.Text(), nullable=False),
        sa.Column("party_ref", _str(64), nullable=False),
        sa.Column("programmes", sa.Text(), nullable=False),
        sa.Column("listed_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["version_id"], ["screening_list_version.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_screening_list_entry_version_id", "screening_list_entry", ["version_id"])
    op.create_index("ix_screening_list_entry_key", "screening_list_entry", ["key"])
    op.create_table(
        "screening_source",
        sa.Column("source", _str(64), nullable=False),
        sa.Column("current_version_id", sa.Integer(), nullable=True),
        sa.Column("checked_at", _utc(), nullable=True),
        sa.Column("failed_at", _utc(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("etag", _str(300), nullable=True),
        sa.Column("last_modified", _str(100), nullable=True),
        sa.ForeignKeyConstraint(["current_version_id"], ["screening_list_version.id"]),
        sa.PrimaryKeyConstraint("source"),
    )
    op.create_table(
        "screening_hit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transfer_id", sa.Integer(), nullable=False),
        sa.Column("address", _str(200), nullable=False),
        sa.Column("key", _str(200), nullable=False),
        sa.Column("verdict", _str(16), nullable=False),
        sa.Column("source", _str(64), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("asset", _str(16), nullable=False),
        sa.Column("party", sa.Text(), nullable=False),
        sa.Column("party_ref", _str(64), nullable=False),
        sa.Column("programmes", sa.Text(), nullable=False),
        sa.Column("listed_on", sa.Date(), nullable=True),
        sa.Column("cause", _str(16), nullable=False),
        sa.Column("found_at", _utc(), nullable=False),
        sa.Column("delisted_at", _utc(), nullable=True),
        sa.Column("delisted_version_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["transfer_id"], ["transfer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["version_id"], ["screening_list_version.id"]),
        sa.ForeignKeyConstraint(["delisted_version_id"], ["screening_list_version.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_screening_hit_transfer_id", "screening_hit", ["transfer_id"])
    op.create_index("ix_screening_hit_source_key", "screening_hit", ["source", "key"])
    op.create_index(
        "uq_screening_hit_active",
        "screening_hit",
        ["transfer_id", "key", "source", "party_ref"],
        unique=True,
        sqlite_where=sa.text("delisted_at IS NULL"),
        postgresql_where=sa.text("delisted_at IS NULL"),
    )
    op.create_table(
        "screening_cursor",
        sa.Column("name", _str(32), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("screening_cursor")
    op.drop_index("uq_screening_hit_active", table_name="screening_hit")
    op.drop_index("ix_screening_hit_source_key", table_name="screening_hit")
    op.drop_index("ix_screening_hit_transfer_id", table_name="screening_hit")
    op.drop_table("screening_hit")
    op.drop_table("screening_source")
    op.drop_index("ix_screening_list_entry_key", table_name="screening_list_entry")
    op.drop_index("ix_screening_list_entry_version_id", table_name="screening_list_entry")
    op.drop_table("screening_list_entry")
    op.drop_index("ix_screening_list_version_source", table_name="screening_list_version")
    op.drop_table("screening_list_version")
