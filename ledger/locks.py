"""Locks between instances sharing one ledger: one poller per chain, one migrator at a time.

PostgreSQL: session-level advisory locks, keyed by a name hashed in the server
(``hashtextextended``), held on a connection of their own for as long as the block runs and
released by the server if the process dies. SQLite: an exclusive ``flock`` on a lock file beside
the database file (``<file>.<name>.lock``), which the kernel releases when the process dies; an
in-memory database is one process's own, so a lock inside the process is enough.

    async with chain_lock(db, "bitcoin") as held:
        if not held:
            ...  # another instance is polling this chain: skip this poll
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger.database import Database

log = logging.getLogger(__name__)

NAMESPACE = "donation-watch"
# Names held by this process on databases without a file (SQLite :memory:).
_held_in_process: set[tuple[str, str]] = set()


def lock_name(kind: str, name: str) -> str:
    """The full name of a lock, e.g. ``donation-watch:poll:bitcoin``."""
    return f"{NAMESPACE}:{kind}:{name}"


@asynccontextmanager
async def chain_lock(db: Database, chain: str) -> AsyncIterator[bool]:
    """Try to take the poll lock of ``chain`` without waiting; yields whether this caller holds it."""
    async with named_lock(db, lock_name("poll", chain)) as held:
        yield held


@asynccontextmanager
async def named_lock(db: Database, name: str) -> AsyncIterator[bool]:
    """Try to take the lock ``name`` on this ledger without waiting; yields whether it is held."""
    if db.dialect == "postgresql":
        async with _pg_lock(db, name) as held:
            yield held
    else:
        async with _sqlite_lock(db, name) as held:
            yield held


@asynccontextmanager
async def _pg_lock(db: Database, name: str) -> AsyncIterator[bool]:
    async with db.engine.connect() as conn:
        held = bool(
            (await conn.exec_driver_sql("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", (name,))).scalar()
        )
        await conn.commit()
        try:
            yield held
        finally:
            if held:
                try:
                    await conn.exec_driver_sql("SELECT pg_advisory_unlock(hashtextextended($1, 0))", (name,))
                    await conn.commit()
                except Exception:  # noqa: BLE001 - a broken connection releases the lock by itself
                    log.warning("could not release lock %s cleanly; dropping its connection", name)
                    await conn.invalidate()


def _lock_file(db: Database, name: str) -> Path | None:
    database = db.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name.removeprefix(NAMESPACE + ":"))
    return Path(database).expanduser().with_name(Path(database).name + f".{safe}.lock")


@asynccontextmanager
async def _sqlite_lock(db: Database, name: str) -> AsyncIterator[bool]:
    path = _lock_file(db, name)
    if path is None:
        key = (str(db.url), name)
        held = key not in _held_in_process
        if held:
            _held_in_process.add(key)
        try:
            yield held
        finally:
            if held:
                _held_in_process.discard(key)
        return
    fd = await asyncio.to_thread(os.open, path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            # flock locks belong to the open file, so a second open in this process is refused too.
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held = True
        except BlockingIOError:
            held = False
        try:
            yield held
        finally:
            if held:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
