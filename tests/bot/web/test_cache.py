"""Caches that keep the page fast at scale: the micro-cache of answers and the background refresh of scans."""

from __future__ import annotations

import asyncio

import pytest

from bot.web.cache import ResponseCache
from bot.web.figures import FigureSource
from ledger.database import Database
from ledger.wallets import get_wallet
from ledger.writes import TransferIn, record_transfers
from tests.bot.web import seed
from tests.bot.web.conftest import Served


class TestResponseCache:
    async def test_concurrent_misses_compute_once(self) -> None:
        """Fifty simultaneous requests for one URL run one computation and all get its answer."""
        calls = 0

        async def make() -> tuple[bytes, str]:
            nonlocal calls
            calls += 1
            await asyncio.sleep(0.01)
            return b"x", "text/plain"

        cache = ResponseCache(5)
        answers = await asyncio.gather(*(cache.get("/", make) for _ in range(50)))
        assert calls == 1 and set(answers) == {(b"x", "text/plain")}

    async def test_answers_expire_after_the_period(self) -> None:
        """After ``seconds`` the next request computes afresh."""
        now = [0.0]
        cache = ResponseCache(2, clock=lambda: now[0])
        values = iter([b"1", b"2"])

        async def make() -> tuple[bytes, str]:
            return next(values), "text/plain"

        assert (await cache.get("/", make))[0] == b"1"
        now[0] = 1.9
        assert (await cache.get("/", make))[0] == b"1"
        now[0] = 2.1
        assert (await cache.get("/", make))[0] == b"2"

    async def test_a_failure_is_not_cached(self) -> None:
        """A computation that fails raises for its waiters and is retried by the next request."""
        cache = ResponseCache(5)

        async def fail() -> tuple[bytes, str]:
            raise RuntimeError("database down")

        with pytest.raises(RuntimeError):
            await cache.get("/", fail)

        async def ok() -> tuple[bytes, str]:
            return b"ok", "text/plain"

        assert (await cache.get("/", ok))[0] == b"ok"

    @pytest.mark.parametrize("page_settings", [seed.settings(cache_seconds=60)])
    async def test_served_answers_are_reused_within_the_period(self, served: Served) -> None:
        """With cache_seconds = 60 a new donation shows on /api/v1/totals only after the period."""
        async with served.http.get(served.url + "/api/v1/totals") as r:
            before = (await r.json())["donations"]
            assert r.headers["Cache-Control"] == "public, max-age=60"
        await _donate(served.db)
        async with served.http.get(served.url + "/api/v1/totals") as r:
            assert (await r.json())["donations"] == before == 6


async def _donate(db: Database) -> None:
    async with db.session() as s:
        wallet = await get_wallet(s, "bitcoin", seed.BTC_ADDRESS)
        await record_transfers(s, [TransferIn(chain="bitcoin", txid="dd" * 32, position=0, wallet_id=wallet.id,  # type: ignore[union-attr]
                                              asset="BTC", decimals=8, amount=1, senders=("bc1qnewdonor",))])


class TestSlowFigures:
    async def test_full_scan_figures_refresh_in_the_background(self, db: Database) -> None:
        """Unique donors stay cached until the refresh period passes, then a background refresh counts the new donor."""
        cfg = seed.settings()
        await seed.seed(db, cfg)
        source = FigureSource(db, cfg, refresh_seconds=3600)
        assert (await source.figures()).slow.unique_donors == seed.UNIQUE_DONORS
        await _donate(db)
        figures = await source.figures()
        assert figures.count == 7 and figures.slow.unique_donors == seed.UNIQUE_DONORS  # live total, cached scan
        source.refresh_seconds = source.cost_factor = 0
        await source.figures()  # starts the refresh, answers with the cached figures
        for _ in range(100):
            if source._task is None:
                break
            await asyncio.sleep(0.02)
        assert (await source.figures()).slow.unique_donors == seed.UNIQUE_DONORS + 1
        await source.close()

    async def test_warm_computes_before_the_first_request(self, db: Database) -> None:
        """warm() (run when the server starts) fills the slow figures without any request."""
        cfg = seed.settings()
        await seed.seed(db, cfg)
        source = FigureSource(db, cfg)
        source.warm()
        for _ in range(200):
            if source._slow is not None:
                break
            await asyncio.sleep(0.02)
        assert source._slow is not None and source._slow.unique_donors == seed.UNIQUE_DONORS
        await source.close()
