"""Migrations: one head, and after upgrading, the schema matches the models exactly."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlmodel import SQLModel

import ledger.models  # noqa: F401
from ledger.database import Database
from ledger.migrate import alembic_config, current_revision
from tests.conftest import run_in_thread


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


class TestEventStreamMigration:
    @pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
    async def old_db(self, request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[Database]:  # type: ignore[no-untyped-def]
        """An empty database migrated only up to 0003, before the event stream existed."""
        if request.param == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        else:
            from tests.conftest import PG_ADMIN_URL, _pg_admin

            request.getfixturevalue("pg_url")  # skips when there is no server
            name = f"dw_old_{uuid.uuid4().hex[:8]}"
            await _pg_admin(f'CREATE DATABASE "{name}"')
            request.addfinalizer(lambda: run_in_thread(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')))
            url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
        database = await Database.open(url, upgrade=False)
        await database.upgrade("0003_ethereum")
        try:
            yield database
        finally:
            await database.close()

    async def test_screening_cursor_becomes_the_screening_position(self, old_db: Database) -> None:
        """Upgrading keeps screening where it was: its cursor becomes consumer "screening", old events read in id order."""
        from ledger.events import consumer_position, read_events

        async with old_db.engine.begin() as conn:
            for n in range(3):
                await conn.execute(text(
                    "INSERT INTO event (kind, detail, created_at) VALUES ('transfer.new', '{}', CURRENT_TIMESTAMP)"))
            await conn.execute(text(
                "INSERT INTO screening_cursor (name, event_id, updated_at) VALUES ('ingest', 2, CURRENT_TIMESTAMP)"))
        await old_db.upgrade()
        async with old_db.session() as s:
            position = await consumer_position(s, "screening")
            assert [e.id for e in await read_events(s, position)] == [3]
            assert [e.xact for e in await read_events(s, position)] == [0]
