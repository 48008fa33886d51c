"""Reaching the database with its plain driver, without SQLAlchemy: for commands that must answer
at once (`check-config`). It reads; it never creates tables or migrates."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from ledger.connect_errors import is_corruption, postgres_fix
from ledger.errors import DatabaseDamaged, DatabaseUnavailable

WALLETS_SQL = "SELECT chain, address FROM wallet WHERE active"


class NotSetUp(Exception):
    """The database has no ledger tables yet (the full path opens and migrates it)."""


def redact(url: str) -> str:
    """The URL with any password hidden (as `ledger.database.redact` does, without SQLAlchemy)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    return urlunsplit(parts._replace(netloc=netloc[0].rsplit(":", 1)[0] + ":***@" + netloc[1]))


async def fetch(url: str, sql: str, params: tuple[object, ...] = (), *, timeout: float = 5.0) -> list[tuple]:
    """Rows of one read-only query (`?` placeholders) on either database; NotSetUp when a table is missing."""
    if url.startswith("sqlite"):
        return _sqlite_rows(url, sql, params)
    return await _postgres_rows(url, sql, params, timeout)


async def active_wallets(url: str, *, timeout: float = 5.0) -> dict[str, set[str]]:
    """Connect once and check the file (as `Database.ping` does); the active wallets stored, by chain.

    DatabaseUnavailable or DatabaseDamaged when that fails; no wallets when there are no tables yet.
    """
    if url.startswith("sqlite"):
        _sqlite_quick_check(url)
    try:
        rows = await fetch(url, WALLETS_SQL, timeout=timeout)
    except NotSetUp:
        rows = []
    out: dict[str, set[str]] = {}
    for chain, address in rows:
        out.setdefault(chain, set()).add(address)
    return out


def _sqlite_path(url: str) -> str:
    return unquote(url.split(":///", 1)[1]) if ":///" in url else ""


def _sqlite_quick_check(url: str) -> None:
    """SQLite's page-level consistency check, as `Database.ping` runs it: DatabaseDamaged if it fails."""
    path = _sqlite_path(url)
    if not path or path == ":memory:" or not Path(path).expanduser().exists():
        return
    try:
        conn = sqlite3.connect(Path(path).expanduser(), timeout=5)
        try:
            rows = conn.execute("PRAGMA quick_check").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        if is_corruption(exc):
            raise DatabaseDamaged(path, str(exc)) from None
        raise DatabaseUnavailable(redact(url), str(exc)) from None
    lines = [line.strip() for r in rows for line in str(r[0]).splitlines()]
    found = [line for line in lines if line and not line.startswith("***")]
    if found != ["ok"]:
        raise DatabaseDamaged(path, found[0], more=len(found) - 1)


def _sqlite_rows(url: str, sql: str, params: tuple[object, ...]) -> list[tuple]:
    path = _sqlite_path(url)
    if not path or path == ":memory:":
        raise NotSetUp(url)
    try:
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(Path(path).expanduser(), timeout=5)
    except (OSError, sqlite3.Error) as exc:
        raise DatabaseUnavailable(redact(url), str(exc)) from None
    try:
        return [tuple(r) for r in conn.execute(sql, params).fetchall()]
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            raise NotSetUp(str(exc)) from None
        raise DatabaseUnavailable(redact(url), str(exc)) from None
    except sqlite3.DatabaseError as exc:
        if is_corruption(exc):
            raise DatabaseDamaged(path, str(exc)) from None
        raise DatabaseUnavailable(redact(url), str(exc)) from None
    finally:
        conn.close()


async def _postgres_rows(url: str, sql: str, params: tuple[object, ...], timeout: float) -> list[tuple]:
    import asyncpg

    dsn = "postgresql://" + url.split("://", 1)[1]
    try:
        conn = await asyncpg.connect(dsn, timeout=timeout)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        parts = urlsplit(dsn)
        fix = postgres_fix(exc, host=parts.hostname, port=parts.port, username=parts.username,
                           database=parts.path.lstrip("/") or None)
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnavailable(redact(url), fix or text) from None
    try:
        n = 0

        def number(_: object) -> str:
            nonlocal n
            n += 1
            return f"${n}"

        return [tuple(r) for r in await conn.fetch(re.sub(r"\?", number, sql), *params)]
    except asyncpg.UndefinedTableError as exc:
        raise NotSetUp(str(exc)) from None
    finally:
        await conn.close()
