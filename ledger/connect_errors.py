"""What a refused or failed connection means, in one sentence with the fix (shared by
`ledger.database` and the SQLAlchemy-free `ledger.probe`)."""

from __future__ import annotations

# PostgreSQL SQLSTATEs of a server that answered but refused the connection, and the fix.
_INVALID_CATALOG = "3D000"  # database does not exist
_INVALID_AUTHORIZATION = "28000"  # role does not exist
_INVALID_PASSWORD = "28P01"


def is_corruption(exc: BaseException) -> bool:
    """Whether a SQLite error says the file itself is damaged."""
    text = str(getattr(exc, "orig", None) or exc).lower()
    return "malformed" in text or "file is not a database" in text or "corrupt" in text


def postgres_fix(exc: BaseException, *, host: str | None, port: int | None, username: str | None,
                 database: str | None) -> str | None:
    """One sentence for a PostgreSQL server's refusal at connect time, or None for other errors."""
    try:
        from asyncpg.exceptions import PostgresError
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        return None
    orig = getattr(exc, "orig", None) or exc
    if not isinstance(orig, PostgresError):
        return None
    state = getattr(orig, "sqlstate", None)
    h = f"-h {host} " if host else ""
    p = f"-p {port} " if port else ""
    if state == _INVALID_CATALOG:
        owner = f"-O {username} " if username else ""
        return f"{orig}; create it with `createdb {h}{p}-U postgres {owner}{database}`, or fix database.url"
    if state == _INVALID_AUTHORIZATION and "role" in str(orig):
        return f"{orig}; create it with `createuser {h}{p}-U postgres {username}` (and grant it the database), or fix database.url"
    if state == _INVALID_PASSWORD:
        return f"{orig}; set DONATION_WATCH_DATABASE__PASSWORD to the role's password"
    return f"the server refused the connection: {orig}"
