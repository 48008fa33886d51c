"""event stream: each event's writing transaction, consumer positions, the delivery outbox

Existing events are all committed, so they take xact 0 and keep their id order; new events on
PostgreSQL take their transaction's id. Screening's ingest cursor becomes the position of the
consumer "screening", so nothing is screened twice or skipped.

Revision ID: 0014_event_stream
Revises: 0013_scan_gap
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ledger.types

revision = "0014_event_stream"
down_revision = "0013_scan_gap"
branch_labels = None
depends_on = None

PG_XACT = "(pg_current_xact_id()::text::bigint)"


def _str(n: int) -> sa.types.TypeEngine:
    return sqlmodel.sql.sqltypes.AutoString(length=n)


def _utc() -> sa.types.TypeEngine:
    return ledger.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.add_column("event", sa.Column("xact", sa.BigInteger(), nullable=False, server_default=sa.text("0")))
    if postgres:
        op.alter_column("event", "xact", server_default=sa.text(PG_XACT))
    op.create_index("ix_event_xact_id", "event", ["xact", "id"])

    op.create_table(
        "consumer_position",
        sa.Column("consumer", _str(64), nullable=False),
        sa.Column("xact", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("consumer"),
    )
    op.execute(
        "INSERT INTO consumer_position (consumer, xact, event_id, updated_at) "
        "SELECT 'screening', 0, event_id, updated_at FROM screening_cursor WHERE name = 'ingest'"
    )
    op.drop_table("screening_cursor")

    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", _str(64), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", _str(200), nullable=False),
        sa.Column("subject", _str(200), nullable=True),
        sa.Column("state", _str(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", _utc(), nullable=False),
        sa.Column("lease_until", _utc(), nullable=True),
        sa.Column("external_id", _str(200), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("sent_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["event.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    op.create_index("ix_delivery_due", "delivery", ["channel", "state", "id"])
    op.create_index("ix_delivery_subject", "delivery", ["channel", "subject"])
    op.create_index(op.f("ix_delivery_event_id"), "delivery", ["event_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_delivery_event_id"), table_name="delivery")
    op.drop_index("ix_delivery_subject", table_name="delivery")
    op.drop_index("ix_delivery_due", table_name="delivery")
    op.drop_table("delivery")
    op.create_table(
        "screening_cursor",
        sa.Column("name", _str(32), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.execute(
        "INSERT INTO screening_cursor (name, event_id, updated_at) "
        "SELECT 'ingest', event_id, updated_at FROM consumer_position WHERE consumer = 'screening'"
    )
    op.drop_table("consumer_position")
    op.drop_index("ix_event_xact_id", table_name="event")
    with op.batch_alter_table("event") as batch:
        batch.drop_column("xact")
