"""Alembic environment: runs on a connection handed in by ledger.migrate, or on a URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

import ledger.models  # noqa: F401  (registers the tables)
from sqlmodel import SQLModel

target_metadata = SQLModel.metadata
config = context.config


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url").replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)
