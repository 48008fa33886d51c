"""Fixtures of the end-to-end tests: the fake price server the bot values donations against."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone

import pytest

from tests.fakes.prices import PriceFake


@pytest.fixture
async def prices() -> AsyncIterator[PriceFake]:
    """Coinbase and Kraken market data on a local port, its clock at the real now."""
    fake = PriceFake(datetime.now(timezone.utc))
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
