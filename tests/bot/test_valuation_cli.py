"""`donation-watch revalue` and the fiat part of `totals`, against the fake price server."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.settings import load_settings
from bot.errors import ConfigError
from ledger.database import Database
from ledger.wallets import upsert_wallet
from ledger.writes import TransferIn, record_transfers
from ledger.models import TransferStatus
from tests.bot.test_cli import config, run
from tests.fakes.prices import PriceFake
from valuation.money import display

WALLET = "0x165CD37b4C644C2921454429E7F9358d18A45e14"

def _now(fake: PriceFake) -> datetime:
    """The fake's "now", taken when the test's fake started (a module-level now went stale across an hour boundary)."""
    return datetime.fromtimestamp(fake.now, timezone.utc)


class _FakeThread:
    """The fake price server on its own loop, for commands that run their own asyncio.run."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.fake = PriceFake(datetime.now(timezone.utc))
        asyncio.run_coroutine_threadsafe(self.fake.start(), self.loop).result()

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.stop(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def prices() -> Iterator[PriceFake]:
    server = _FakeThread()
    try:
        yield server.fake
    finally:
        server.stop()


def _seed(url: str, at: datetime) -> None:
    async def go() -> None:
        db = await Database.open(url)
        try:
            async with db.session() as s:
                wallet, _ = await upsert_wallet(s, "ethereum", WALLET, label="Ukraine")
                await record_transfers(s, [TransferIn(
                    chain="ethereum", txid="0x" + "1" * 64, position=-1, wallet_id=wallet.id, asset="ETH", decimals=18,
                    amount=2 * 10**18, block_height=1, block_hash="0x" + "2" * 64, block_time=at, status=TransferStatus.CONFIRMED)])
        finally:
            await db.close()

    asyncio.run(go())


def _config(tmp_path: Path, prices: PriceFake) -> Path:
    return config(tmp_path, extra=f"""
[valuation]
currency = "usd"
coinbase_url = "{prices.url}"
kraken_url = "{prices.url}/0"
coinbase_requests_per_second = 100
kraken_requests_per_second = 100
""")


class TestRevalue:
    def test_revalue_values_and_totals_show_fiat(self, tmp_path: Path, prices: PriceFake, capsys: pytest.CaptureFixture[str]) -> None:
        """revalue values the stored donation; totals then shows its value at arrival and value now."""
        path = _config(tmp_path, prices)
        now = _now(prices)
        at = now - timedelta(hours=30)
        _seed(f"sqlite+aiosqlite:///{tmp_path / 'dw.db'}", at)
        code, out, _ = run(capsys, "--config", str(path), "revalue")
        assert code == 0 and "valued 1 transfer(s) in USD, 0 still unvalued" in out
        code, out, _ = run(capsys, "--config", str(path), "totals")
        hour = int(at.timestamp()) - int(at.timestamp()) % 3600
        assert code == 0 and "confirmed at arrival" in out
        assert display(2 * prices.close("ETH-USD", 3600, hour), "USD") in out
        last = int(now.timestamp()) - int(now.timestamp()) % 3600 - 3600
        assert display(2 * prices.close("ETH-USD", 3600, last), "USD") in out

    def test_outage_exits_1_and_totals_count_the_unvalued(self, tmp_path: Path, prices: PriceFake, capsys: pytest.CaptureFixture[str]) -> None:
        """With both price sources refusing (no retry needed), revalue exits 1 and totals say one donation is not valued yet."""
        prices.fail("/products", 404)
        prices.fail("/0/public", 400)
        path = _config(tmp_path, prices)
        _seed(f"sqlite+aiosqlite:///{tmp_path / 'dw.db'}", _now(prices) - timedelta(hours=30))
        code, out, _ = run(capsys, "--config", str(path), "revalue")
        assert code == 1 and "0 transfer(s) in USD, 1 still unvalued" in out
        code, out, _ = run(capsys, "--config", str(path), "totals")
        assert "1 donation(s) not valued yet" in out and "no price yet" in out

    def test_no_price_now_is_not_shown_as_zero_overall(self, tmp_path: Path, prices: PriceFake, capsys: pytest.CaptureFixture[str]) -> None:
        """With no asset priced now, the "all" row's value now says so instead of 0.00 USD."""
        prices.fail("/products", 404)
        prices.fail("/0/public", 400)
        path = _config(tmp_path, prices)
        _seed(f"sqlite+aiosqlite:///{tmp_path / 'dw.db'}", _now(prices) - timedelta(hours=30))
        code, out, _ = run(capsys, "--config", str(path), "totals")
        overall = next(line for line in out.splitlines() if line.startswith("all "))
        assert code == 0 and overall.endswith("no price yet")

    def test_bad_since_is_one_line_exit_2(self, tmp_path: Path, prices: PriceFake, capsys: pytest.CaptureFixture[str]) -> None:
        """--since that is not a date is refused in one line with exit status 2."""
        code, _, err = run(capsys, "--config", str(_config(tmp_path, prices)), "revalue", "--since", "last week")
        assert code == 2 and "--since" in err and "YYYY-MM-DD" in err and "Traceback" not in err


class TestValuationSettings:
    def test_defaults_are_usd_coinbase_then_kraken(self, tmp_path: Path) -> None:
        """With no [valuation] section the fund counts in USD, Coinbase first, Kraken as fallback, hourly."""
        v = load_settings(config(tmp_path)).valuation
        assert (v.currency, v.sources, v.granularity_seconds) == ("USD", ["coinbase", "kraken"], 3600)

    def test_unknown_source_is_one_line(self, tmp_path: Path) -> None:
        """A source name we do not know is a ConfigError naming the key."""
        with pytest.raises(ConfigError) as info:
            load_settings(config(tmp_path, extra='[valuation]\nsources = ["binance"]\n'))
        assert "valuation.sources" in str(info.value) and "binance" in str(info.value)

    def test_coingecko_without_a_key_is_one_line(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Listing coingecko without DONATION_WATCH_VALUATION__COINGECKO_KEY says which variable to set."""
        monkeypatch.delenv("DONATION_WATCH_VALUATION__COINGECKO_KEY", raising=False)
        with pytest.raises(ConfigError) as info:
            load_settings(config(tmp_path, extra='[valuation]\nsources = ["coinbase", "coingecko"]\n'))
        assert "valuation.sources" in str(info.value) and "DONATION_WATCH_VALUATION__COINGECKO_KEY" in str(info.value)

    def test_coingecko_key_in_the_file_is_refused(self, tmp_path: Path) -> None:
        """The CoinGecko key is a secret: read only from the environment, never from the file."""
        with pytest.raises(ConfigError) as info:
            load_settings(config(tmp_path, extra='[valuation]\ncoingecko_key = "abc"\n'))
        assert "secrets are not read from files" in str(info.value)

    def test_coingecko_with_a_key_from_the_environment_is_built(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """With the key in the environment, coingecko becomes a source in the configured order."""
        from bot.valuation_wiring import build_sources

        monkeypatch.setenv("DONATION_WATCH_VALUATION__COINGECKO_KEY", "k")
        s = load_settings(config(tmp_path, extra='[valuation]\nsources = ["coingecko", "kraken"]\n'))
        assert [src.name for src in build_sources(s)] == ["coingecko", "kraken"]

    def test_markets_override_the_defaults(self, tmp_path: Path) -> None:
        """An operator's market mapping is added to the defaults (BTC stays mapped)."""
        from bot.valuation_wiring import valuation_config

        s = load_settings(config(tmp_path, extra='[valuation.markets.WBTC]\ncoinbase = "BTC"\nkraken = "XBT"\n'))
        c = valuation_config(s)
        assert c.base("WBTC", "kraken") == "XBT" and c.base("BTC", "coinbase") == "BTC" and c.base("WBTC", "coingecko") is None


class TestValuationDuringPolls:
    async def test_failing_sources_are_left_to_the_retry_job_not_every_poll(self, db: Database, tmp_path: Path) -> None:
        """With the price sources down, one poll's valuing tries them; later polls wait (no requests) until the retry job works."""
        from bot.valuation_wiring import Valuation
        from tests.fakes.threaded import ServerThread

        server = ServerThread()
        fake = PriceFake(datetime.now(timezone.utc))
        await server.run(fake.start())
        try:
            settings = load_settings(_config(tmp_path, fake))
            valuation = Valuation(settings, db)
            await _store(db, _now(fake) - timedelta(days=3))
            fake.fail("/", 503)
            first = await valuation.value_new()
            assert first.unvalued == 1 and valuation.sources_failing
            tried = fake.total_requests()
            assert tried > 0
            again = await valuation.value_new()
            assert fake.total_requests() == tried and again.valued == again.unvalued == 0
            fake.heal()
            report = await valuation.retry()
            assert report.valued == 1 and not valuation.sources_failing
            await valuation.close()
        finally:
            await server.run(fake.stop())
            server.close()


async def _store(db: Database, at: datetime) -> None:
    async with db.session() as s:
        wallet, _ = await upsert_wallet(s, "ethereum", WALLET, label="Ukraine")
        await record_transfers(s, [TransferIn(
            chain="ethereum", txid="0x" + "3" * 64, position=-1, wallet_id=wallet.id, asset="ETH", decimals=18,
            amount=10**18, block_height=1, block_hash="0x" + "4" * 64, block_time=at, status=TransferStatus.CONFIRMED)])
