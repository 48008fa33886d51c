"""Migrations: one head, and after upgrading, the schema matches the models exactly."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlmodel import SQLModel

import ledger.models  # noqa: F401
from ledger.database import Database
from ledger.migrate import alembic_config, current_revision, newest_revision
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

    def test_headers_name_the_same_head_as_alembic(self) -> None:
        """The quick read of the scripts' headers finds the head Alembic finds."""
        assert newest_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


class TestQuickOpen:
    async def test_a_ledger_at_the_newest_revision_opens_without_alembic(
        self, db: Database, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Opening a ledger already at head runs no Alembic command (the start-up cost of every command)."""
        import alembic.command

        def refuse(*args: object, **kwargs: object) -> None:
            raise AssertionError("alembic ran on a ledger already at head")

        monkeypatch.setattr(alembic.command, "upgrade", refuse)
        again = await Database.open(db.url.render_as_string(hide_password=False))
        await again.close()

    async def test_a_ledger_below_the_newest_revision_is_still_upgraded(self, tmp_path: Path) -> None:
        """A ledger at an older revision is brought to head on open, as before."""
        url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        old = await Database.open(url, upgrade=False)
        await old.upgrade("0003_ethereum")
        await old.close()
        reopened = await Database.open(url)
        try:
            assert await current_revision(reopened.engine) == newest_revision()
        finally:
            await reopened.close()

    def test_scripts_that_do_not_form_one_line_leave_it_to_alembic(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Two heads, or a script without a plain revision line, give no quick answer (Alembic decides)."""
        import ledger.migrate as migrate

        versions = tmp_path / "versions"
        versions.mkdir()
        (versions / "a.py").write_text('revision = "a"\ndown_revision = None\n')
        (versions / "b.py").write_text('revision = "b"\ndown_revision = "a"\n')
        monkeypatch.setattr(migrate, "MIGRATIONS", tmp_path)
        migrate.newest_revision.cache_clear()
        try:
            assert migrate.newest_revision() == "b"
            (versions / "c.py").write_text('revision = "c"\ndown_revision = "a"\n')
            migrate.newest_revision.cache_clear()
            assert migrate.newest_revision() is None
            (versions / "c.py").write_text('revision = make_revision()\ndown_revision = "b"\n')
            migrate.newest_revision.cache_clear()
            assert migrate.newest_revision() is None
        finally:
            migrate.newest_revision.cache_clear()


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


class TestReorgIdentityMigration:
    @pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
    async def fresh_url(self, request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
        """An empty database (not migrated) on SQLite and on PostgreSQL."""
        if request.param == "sqlite":
            yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
            return
        from tests.conftest import _pg_admin

        name = f"dw_m4_{uuid.uuid4().hex[:8]}"
        base = request.getfixturevalue("pg_url").rsplit("/", 1)[0]
        await _pg_admin(f'CREATE DATABASE "{name}"')
        try:
            yield f"{base}/{name}"
        finally:
            await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def test_token_rows_get_their_ordinal_and_keep_their_log_index(self, fresh_url: str) -> None:
        """Rows keyed by log index before 0010 get ordinals per (tx, wallet, token), live rows first, log_index kept."""
        db = await Database.open(fresh_url, upgrade=False)
        try:
            await db.upgrade("0009_discord")  # the revision before 0010_reorg_identity
            async with db.engine.begin() as conn:
                await conn.execute(sa.text(
                    "INSERT INTO wallet (id, chain, address, label, active, created_at) VALUES "
                    "(1, 'ethereum', '0xW1', '', true, '2025-01-01 00:00:00+00:00'), "
                    "(2, 'ethereum', '0xW2', '', true, '2025-01-01 00:00:00+00:00')"
                ))
                rows = [  # id, txid, position (the old log index), wallet, asset, token, status
                    (1, "0xa", 7, 1, "USDT", "0xT", "pending"), (2, "0xa", 3, 1, "USDT", "0xT", "pending"),
                    (3, "0xa", 5, 1, "USDC", "0xC", "pending"), (4, "0xa", 4, 2, "USDT", "0xT", "pending"),
                    (5, "0xb", 1, 1, "USDT", "0xT", "orphaned"), (6, "0xb", 0, 1, "USDT", "0xT", "pending"),
                    (7, "0xb", -1, 1, "ETH", None, "pending"),
                ]
                for tid, txid, position, wallet, asset, token, status in rows:
                    await conn.execute(sa.text(
                        "INSERT INTO transfer (id, chain, txid, position, wallet_id, asset, token, decimals, amount, "
                        "status, first_seen) VALUES (:id, 'ethereum', :txid, :position, :wallet, :asset, :token, 6, "
                        "'1', :status, '2025-01-01 00:00:00+00:00')"
                    ), dict(id=tid, txid=txid, position=position, wallet=wallet, asset=asset, token=token, status=status))
            await db.upgrade()
            async with db.engine.connect() as conn:
                got = (await conn.execute(sa.text("SELECT id, position, log_index FROM transfer ORDER BY id"))).all()
        finally:
            await db.close()
        assert [tuple(r) for r in got] == [
            (1, 1, 7), (2, 0, 3), (3, 0, 5), (4, 0, 4), (5, 1, 1), (6, 0, 0), (7, -1, None),
        ]
