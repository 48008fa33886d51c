"""Migrations: one head, and after upgrading, the schema matches the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import ledger.models  # noqa: F401
from ledger.database import Database
from ledger.migrate import alembic_config, current_revision


class TestMigrations:
    def test_single_head(self) -> None:
        """The migration scripts form one line: exactly one head revision."""
        heads = ScriptDirectory.from_config(alembic_config()).get_heads()
        assert len(heads) == 1, heads

    async def test_upgraded_schema_matches_models(self, db: Database) -> None:
        """After `db upgrade`, autogenerate finds nothing to add, drop or alter."""

        def diff(sync_conn):  # type: ignore[no-untyped-def]
            ctx = MigrationContext.configure(sync_conn, opts={"compare_type": False})
            return compare_metadata(ctx, SQLModel.metadata)

        async with db.engine.connect() as conn:
            changes = await conn.run_sync(diff)
        assert changes == []

    async def test_database_is_at_head(self, db: Database) -> None:
        """The fixture's database is at the newest revision."""
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert await current_revision(db.engine) == head
