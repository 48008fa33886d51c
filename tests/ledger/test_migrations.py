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
