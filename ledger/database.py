"""Opening the database: one async engine per process, sessions, and migrations on start."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.engine.url import URL
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from ledger.connect_errors import is_corruption, postgres_fix
from ledger.errors import DatabaseDamaged, DatabaseUnavailable

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000


def redact(url: str | URL) -> str:
    """The URL with any password hidden, for messages and logs."""
    try:
        return make_url(str(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def _prepare_sqlite(engine: AsyncEngine) -> None:
    """WAL mode, foreign keys, a busy timeout, and write-locking transactions.

    Every transaction starts with BEGIN IMMEDIATE, so two writers never interleave a
    read-modify-write (the running totals need that on SQLite, which cannot add NUMERICs exactly).
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        # 64 MB of page cache (the default is 2 MB): index inserts stay in memory as the file grows.
        cursor.execute("PRAGMA cache_size = -65536")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """The ledger's database: an async engine and a session factory."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise DatabaseUnavailable(url, f"not a database URL: {exc}") from None
        self.url = parsed
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect == "sqlite" and parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        if self.dialect == "postgresql":
            kwargs.update(pool_pre_ping=True, pool_size=5, max_overflow=5)
        try:
            self.engine = create_async_engine(parsed, **kwargs)
        except (ArgumentError, ImportError) as exc:
            raise DatabaseUnavailable(redact(parsed), str(exc)) from None
        if self.dialect == "sqlite":
            _prepare_sqlite(self.engine)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def safe_url(self) -> str:
        """The URL without its password."""
        return redact(self.url)

    @classmethod
    async def open(cls, url: str, *, upgrade: bool = True, echo: bool = False) -> "Database":
        """Open and check the connection; bring the schema to the newest migration if asked."""
        db = cls(url, echo=echo)
        await db.ping()
        if upgrade:
            await db.upgrade()
        return db

    async def ping(self) -> None:
        """Connect once, turning driver errors into one plain DatabaseUnavailable.

        On SQLite the file's pages are checked too (``PRAGMA quick_check``): a damaged ledger
        is refused with DatabaseDamaged before anything reads or writes it.
        """
        try:
            async with self.engine.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")
                problems = await self._quick_check(conn) if self.dialect == "sqlite" else []
        except (OSError, DBAPIError, OperationalError) as exc:
            await self.engine.dispose()
            if self.dialect == "sqlite" and _is_corruption(exc):
                raise DatabaseDamaged(self.url.database or "", _short_reason(exc)) from None
            raise DatabaseUnavailable(self.safe_url, _short_reason(exc)) from None
        except Exception as exc:
            # asyncpg's server errors at connect time (no such database, no such role) are not
            # wrapped by SQLAlchemy: give them the same one line, with the fix.
            await self.engine.dispose()
            fix = _postgres_fix(exc, self.url)
            if fix is None:
                raise
            raise DatabaseUnavailable(self.safe_url, fix) from None
        if problems:
            await self.engine.dispose()
            raise DatabaseDamaged(self.url.database or "", problems[0], more=len(problems) - 1)

    @staticmethod
    async def _quick_check(conn: Any) -> list[str]:
        """SQLite's page-level consistency check; an empty list when the file is sound."""
        rows = (await conn.exec_driver_sql("PRAGMA quick_check")).all()
        lines = [line.strip() for r in rows for line in str(r[0]).splitlines()]
        found = [line for line in lines if line and not line.startswith("***")]
        return [] if found == ["ok"] else found

    async def upgrade(self, revision: str = "head") -> None:
        """Run the Alembic migrations up to ``revision``."""
        from ledger.migrate import upgrade

        await upgrade(self.engine, revision)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits on success and rolls back on error.

        Do not open a second session while holding one: on SQLite the second would wait for
        the first one's write lock.
        """
        async with self._sessions() as session:
            async with session.begin():
                yield session

    async def close(self) -> None:
        """Release every pooled connection."""
        await self.engine.dispose()


def _is_corruption(exc: BaseException) -> bool:
    return is_corruption(exc)


def _postgres_fix(exc: BaseException, url: URL) -> str | None:
    """One sentence for a PostgreSQL server's refusal at connect time, or None for other errors."""
    return postgres_fix(exc, host=url.host, port=url.port, username=url.username, database=url.database)


def _short_reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return text
