"""Fixtures of the end-to-end tests: the fake services a running bot talks to, each on a local port
(anvil, the real Ethereum node, is `dev` in tests/conftest.py), and a PostgreSQL database of its
own for the processes to migrate."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timezone

import pytest

from tests.conftest import PG_ADMIN_URL, _pg_admin
from tests.e2e.support import OFAC_EXCERPT
from tests.fakes.discord import FakeDiscord
from tests.fakes.esplora import EsploraFake
from tests.fakes.ofac import FakeOfac
from tests.fakes.prices import PriceFake
from tests.fakes.serve import running


@pytest.fixture
async def prices() -> AsyncIterator[PriceFake]:
    """Coinbase and Kraken market data on a local port, its clock at the real now."""
    async with running(PriceFake(datetime.now(timezone.utc))) as fake:
        yield fake


@pytest.fixture
async def esplora() -> AsyncIterator[EsploraFake]:
    """A scripted Bitcoin chain behind the Esplora HTTP API."""
    async with running(EsploraFake()) as fake:
        yield fake


@pytest.fixture
async def discord_fake() -> AsyncIterator[FakeDiscord]:
    """Discord's REST API and gateway."""
    async with running(FakeDiscord()) as fake:
        yield fake


@pytest.fixture
async def ofac() -> AsyncIterator[FakeOfac]:
    """OFAC's download server publishing the 2025-11-19 SDN_ADVANCED.XML excerpt."""
    async with running(FakeOfac(body=OFAC_EXCERPT.read_bytes())) as fake:
        yield fake


@pytest.fixture
async def pg_ledger(pg_url: str) -> AsyncIterator[str]:
    """A database of its own on the test PostgreSQL server (the bot processes migrate it), dropped afterwards."""
    name = f"dw_e2e_{uuid.uuid4().hex[:8]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest) -> str | None:
    """The bot's ledger: None for the settings' default (a SQLite file), or a fresh PostgreSQL database."""
    return None if request.param == "sqlite" else request.getfixturevalue("pg_ledger")
