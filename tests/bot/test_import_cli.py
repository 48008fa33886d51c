"""`donation-watch import`: the history it stores is valued at each transfer's time, and it ends saying so."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from ledger.database import Database
from ledger.models import Transfer
from ledger.valuation_tables import TransferValue
from tests.bot.test_cli import config, run
from tests.fakes.esplora import EsploraFake, fake_address, make_tx
from tests.fakes.prices import PriceFake
from tests.fakes.threaded import ServerThread
from valuation.candles import bucket_of
from valuation.money import display, exact_sum, value_of

ADDRESS = "bc1qm34lsc65zpw79lxes69zkqmk6ee3ewf0j77s3h"
AMOUNTS = (150_000, 2_500_000, 70_000_000)  # satoshi, each in a block of its own hour
BASE_HEIGHT = 1_000  # the fake's block time is 1,730,000,000 + 600 x height: October 2024


class Fakes:
    """The Esplora and price fakes on their own thread: the command runs its own event loop."""

    def __init__(self) -> None:
        self.thread = ServerThread()
        self.esplora = EsploraFake(base_height=BASE_HEIGHT)
        self.prices = PriceFake(datetime.now(timezone.utc))
        asyncio.run(self._both("start"))

    async def _both(self, step: str) -> None:
        for fake in (self.esplora, self.prices):
            await self.thread.run(getattr(fake, step)())

    def close(self) -> None:
        asyncio.run(self._both("stop"))
        self.thread.close()


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    made = Fakes()
    try:
        yield made
    finally:
        made.close()


def _config(tmp_path: Path, fakes: Fakes) -> Path:
    path = config(tmp_path, extra=f"""
[valuation]
currency = "usd"
coinbase_url = "{fakes.prices.url}"
kraken_url = "{fakes.prices.url}/0"
coinbase_requests_per_second = 100
kraken_requests_per_second = 100
""")
    path.write_text(path.read_text().replace("http://127.0.0.1:9/api", fakes.esplora.url))
    return path


def _stored(tmp_path: Path) -> list[tuple[int, datetime, Decimal | None]]:
    """(amount, block time, stored USD value) of every stored transfer."""

    async def go() -> list[tuple[int, datetime, Decimal | None]]:
        db = await Database.open(f"sqlite+aiosqlite:///{tmp_path / 'dw.db'}")
        try:
            async with db.session() as s:
                rows = await s.execute(
                    select(Transfer.amount, Transfer.block_time, TransferValue.value)
                    .outerjoin(TransferValue, TransferValue.transfer_id == Transfer.id).order_by(Transfer.block_height)
                )
                return [tuple(r) for r in rows.all()]  # type: ignore[misc]
        finally:
            await db.close()

    return asyncio.run(go())


class TestImportValues:
    def test_import_values_each_transfer_at_its_time_and_says_the_total(
        self, tmp_path: Path, fakes: Fakes, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Three past donations are stored, each valued at its hour's BTC-USD price, and the last line gives the sum."""
        for i, amount in enumerate(AMOUNTS):
            fakes.esplora.add_tx(make_tx([(fake_address(50 + i), amount + 10_000)], [(ADDRESS, amount)]))
            for _ in range(6):  # the next one an hour later
                fakes.esplora.mine()
        code, out, err = run(capsys, "--config", str(_config(tmp_path, fakes)), "import", "bitcoin", ADDRESS)
        assert code == 0, err
        rows = _stored(tmp_path)
        expected = [value_of(amount, 8, fakes.prices.close("BTC-USD", 3600, bucket_of(int(at.timestamp()), 3600)))
                    for amount, at, _ in rows]
        assert [amount for amount, _, _ in rows] == list(AMOUNTS)
        assert [value for _, _, value in rows] == expected and len(set(expected)) == 3
        assert out.splitlines()[-1] == (f"import bitcoin {ADDRESS}: 3 transfers stored as history: 0.7265 BTC, "
                                        f"worth {display(exact_sum(expected), 'USD')} at arrival; history complete")

    def test_without_prices_the_history_is_kept_and_the_unvalued_are_counted(
        self, tmp_path: Path, fakes: Fakes, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """With both price sources refusing, import still stores the history, exits 0 and says how many wait for a price."""
        fakes.prices.fail("/products", 404)
        fakes.prices.fail("/0/public", 400)
        fakes.esplora.add_tx(make_tx([(fake_address(60), 90_000)], [(ADDRESS, 80_000)]))
        fakes.esplora.mine()
        code, out, err = run(capsys, "--config", str(_config(tmp_path, fakes)), "import", "bitcoin", ADDRESS)
        assert code == 0, err
        assert [value for _, _, value in _stored(tmp_path)] == [None]
        last = out.splitlines()[-1]
        assert last.startswith(f"import bitcoin {ADDRESS}: 1 transfer stored as history: 0.0008 BTC, not valued yet (")
        assert last.endswith("the running bot retries, or `donation-watch revalue`); history complete")
