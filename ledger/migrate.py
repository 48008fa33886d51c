"""Alembic migrations run from code, on the engine the bot already has.

Every command opens the ledger with an upgrade, and nearly always the schema is already the
newest: Alembic would still be imported and every migration script loaded (about half a second
of start-up) to find that out. So the newest revision is first read from the scripts' headers
(``revision = "..."`` / ``down_revision = ...``, as Alembic writes them) and compared with the
database's; Alembic runs whenever they differ or the headers say anything unexpected.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.locks import lock_name

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION = re.compile(r"^revision(?:\s*:[^=]*)?\s*=\s*['\"]([^'\"]+)['\"]\s*$", re.M)
_DOWN_REVISION = re.compile(r"^down_revision(?:\s*:[^=]*)?\s*=(.*)$", re.M)


@lru_cache(maxsize=1)
def newest_revision() -> str | None:
    """The one head revision the migration scripts' headers name, or None when they are not that simple.

    None (a script without a plain ``revision``, a branch, several heads) means: ask Alembic.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        found, down = _REVISION.findall(text), _DOWN_REVISION.findall(text)
        if len(found) != 1 or len(down) != 1:
            return None
        revisions.add(found[0])
        parents.update(re.findall(r"['\"]([^'\"]+)['\"]", down[0]))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else None


async def _at_newest(engine: AsyncEngine) -> bool:
    """Whether the database already stands at the newest revision (False when unsure)."""
    newest = newest_revision()
    if newest is None:
        return False
    try:
        async with engine.connect() as conn:
            rows = (await conn.exec_driver_sql("SELECT version_num FROM alembic_version")).all()
    except Exception:  # noqa: BLE001 - no version table yet (a new ledger), or no rights: Alembic decides
        return False
    return [r[0] for r in rows] == [newest]


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the ledger's migration scripts."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade the schema to ``revision`` inside one transaction, one migrator at a time.

    Two instances starting together on one PostgreSQL would both run the same migration (one then
    fails on a table that already exists): the first takes a transaction-level advisory lock and
    the second waits for it, then finds the schema already at ``revision``. On SQLite the
    transaction's BEGIN IMMEDIATE serialises them the same way. A database already at the
    newest revision is left alone without loading Alembic (see the module docstring).
    """
    if revision == "head" and await _at_newest(engine):
        return

    def _run(sync_conn: Any) -> None:
        from alembic import command

        cfg = alembic_config()
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, revision)

    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", (lock_name("migrate", "ledger"),))
        await conn.run_sync(_run)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None before the first migration."""
    from alembic.runtime.migration import MigrationContext

    def _read(sync_conn: Any) -> str | None:
        return MigrationContext.configure(sync_conn).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(_read)
