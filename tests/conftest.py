"""Shared fixtures: the ledger database on SQLite and on PostgreSQL, through one parameter; anvil.

Every test that takes ``db`` runs twice: once on a fresh SQLite file and once on a database
made for this run on the PostgreSQL server at 127.0.0.1:5432 (emptied before each test). With no
PostgreSQL server the second half is skipped, and the session ends with a loud line saying so;
with REQUIRE_POSTGRES=1 (set by .ci/run) that skip is a failure instead.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ledger.database import Database
from tests.fakes.anvil import Anvil, anvil_binary
from tests.watchers.ethereum.devchain import DevChain

PG_ADMIN_URL = os.environ.get("DONATION_WATCH_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"
_pg_skip_reason: list[str] = []


async def _pg_admin(sql: str) -> None:
    import asyncpg

    url = PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(url, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def run_in_thread(coro) -> object:  # type: ignore[no-untyped-def]
    """Run a coroutine to completion on a fresh loop in another thread (safe inside a running loop)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _migrate(url: str) -> None:
    db = await Database.open(url, upgrade=True)
    await db.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "ledger.db"
    run_in_thread(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A database on the PostgreSQL server made for this test run, migrated, dropped at the end."""
    name = f"dw_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        run_in_thread(_pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server means "no PostgreSQL"
        reason = f"PostgreSQL at {PG_ADMIN_URL} is not reachable ({type(exc).__name__}: {exc})"
        if REQUIRE_POSTGRES:
            pytest.fail(f"{reason}; REQUIRE_POSTGRES=1 makes this a failure", pytrace=False)
        _pg_skip_reason.append(reason)
        pytest.skip(reason)
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    run_in_thread(_migrate(url))
    yield url
    run_in_thread(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate_all(db: Database) -> None:
    from sqlmodel import SQLModel

    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    async with db.engine.begin() as conn:
        await conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """The ledger database, empty and migrated, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "ledger.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        database = await Database.open(f"sqlite+aiosqlite:///{path}", upgrade=False)
    else:
        database = await Database.open(request.getfixturevalue("pg_url"), upgrade=False)
        await _truncate_all(database)
    try:
        yield database
    finally:
        await database.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that runs a node with `anvil` (select or skip them with -m)."""
    for item in items:
        if "anvil" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.anvil)


@pytest.fixture
def anvil() -> Iterator[Anvil]:
    """A fresh anvil node, a real local Ethereum node (it starts in about 0.1 s), stopped after the test."""
    if anvil_binary() is None:
        pytest.fail("anvil is not installed: run `make test` (npm installs it into node_modules/)", pytrace=False)
    node = Anvil()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture
def dev(anvil: Anvil) -> DevChain:
    """Helpers to make transactions, tokens, blocks and reorgs on the anvil node."""
    return DevChain(anvil)


def pytest_unconfigure(config: pytest.Config) -> None:
    """End the run with a loud line when the PostgreSQL half was skipped (after pytest's own summary)."""
    if not _pg_skip_reason:
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    bar = "!" * 78
    lines = [bar, "THE POSTGRESQL HALF OF THE SUITE WAS SKIPPED: " + _pg_skip_reason[0], bar]
    for line in lines:
        if reporter is not None:
            reporter.write_line(line, red=True, bold=True)
        else:
            print(line)
