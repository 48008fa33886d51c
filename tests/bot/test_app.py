"""The composition root: one App opens the ledger, builds watchers by chain family, and takes the
channels, jobs, after-poll steps and HTTP routes that plugins register."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bot.app import App
from bot.chains import FAMILIES, family_of
from bot.service import serve
from bot.settings import Settings, load_settings
from ledger.database import Database
from ledger.models import Wallet

ETH = "0x165CD37b4C644C2921454429E7F9358d18A45e14"


def settings_for(db: Database, tmp_path: Path, extra: str = "") -> Settings:
    """Settings on the test's database with one Bitcoin and one EVM chain (unreachable sources)."""
    path = tmp_path / "app.toml"
    path.write_text(f"""
data_dir = "{tmp_path / 'data'}"
stop_seconds = 5
[database]
url = "{db.url.render_as_string(hide_password=False)}"
[http]
port = 0
[chains.btc]
kind = "bitcoin"
esplora_urls = ["http://127.0.0.1:9/api"]
timeout_seconds = 1
[chains.eth]
kind = "evm"
chain_id = 31337
rpc_urls = ["http://127.0.0.1:9"]
timeout_seconds = 1
[[wallets]]
chain = "eth"
address = "{ETH.lower()}"
label = "Ukraine"
{extra}
""")
    settings = load_settings(path)
    settings.screening.max_list_age_days = 3650  # the bundled snapshot counts as current here
    return settings


class RecordingChannel:
    """A channel that counts its flushes."""

    name = "recording"

    def __init__(self) -> None:
        self.flushes = 0
        self.closed = False

    async def flush(self) -> int:
        self.flushes += 1
        return 0

    async def close(self) -> None:
        self.closed = True


class TestOpen:
    async def test_open_watches_the_configured_wallets(self, db: Database, tmp_path: Path) -> None:
        """App.open migrates and upserts each configured wallet in its canonical form."""
        async with await App.open(settings_for(db, tmp_path)) as app:
            async with app.db.session() as s:
                rows = (await s.execute(select(Wallet.chain, Wallet.address, Wallet.label))).all()
        assert [tuple(r) for r in rows] == [("eth", ETH, "Ukraine")]

    async def test_watchers_are_built_per_chain_by_family(self, db: Database, tmp_path: Path) -> None:
        """app.watchers holds one watcher per configured chain, built by its family's builder."""
        async with await App.open(settings_for(db, tmp_path)) as app:
            assert sorted(app.watchers) == ["btc", "eth"]
            assert type(app.watchers["btc"]).__name__ == "BitcoinWatcher"
            assert type(app.watchers["eth"]).__name__ == "EvmWatcher"


class TestChainFamilies:
    def test_each_family_owns_its_settings_and_address_codec(self, tmp_path: Path) -> None:
        """The registry maps kind to family; a family canonicalises addresses of its chains."""
        assert set(FAMILIES) == {"bitcoin", "evm"}
        path = tmp_path / "c.toml"
        path.write_text(f'[chains.eth]\nkind = "evm"\nchain_id = 1\nrpc_urls = ["http://x"]\n')
        spec = load_settings(path).chains["eth"]
        assert family_of(spec).address(spec, ETH.lower()) == ETH
        assert list(family_of(spec).sources(spec)) == ["http://x"]


class TestRegistration:
    async def test_channel_job_and_routes_are_registered(self, db: Database, tmp_path: Path) -> None:
        """add_channel makes a flush job; add_routes' route set is on app.http; duplicates are refused."""
        from aiohttp import web

        async with await App.open(settings_for(db, tmp_path)) as app:
            channel = RecordingChannel()
            app.add_channel(channel, every=2)

            async def hello(request: web.Request) -> web.Response:
                return web.Response(text="hi")

            def add_routes(web_app: web.Application, got: App) -> None:
                assert got is app
                web_app.router.add_get("/hello", hello)

            app.add_routes(add_routes)
            assert [j.name for j in app.jobs] == ["channel:recording"] and app.jobs[0].seconds == 2
            assert any(r.resource.canonical == "/hello" for r in app.http.router.routes())
            with pytest.raises(ValueError, match="registered twice"):
                app.add_channel(channel)
        assert channel.closed

    async def test_default_plugins_register_screening_and_console(self, db: Database, tmp_path: Path) -> None:
        """setup() loads the plugins: the sanctions update job, screening and valuation after polls, the
        valuation retry, the console channel, the daily summary check, history imports."""
        async with await App.open(settings_for(db, tmp_path)) as app:
            await app.setup()
            assert {j.name for j in app.jobs} == {"sanctions:update", "valuation:retry", "channel:console", "summary:due",
                                                  "history:import"}
            assert app.after_poll[0] == app.screener.screen_new and len(app.after_poll) == 2
            assert next(j for j in app.jobs if j.name == "sanctions:update").singleton


class TestServe:
    async def test_sigterm_finishes_the_job_in_flight_and_flushes_channels(self, db: Database, tmp_path: Path) -> None:
        """On SIGTERM serve() lets a running job finish, flushes each channel once more, and returns."""
        events: list[str] = []
        async with await App.open(settings_for(db, tmp_path)) as app:
            channel = RecordingChannel()
            started = asyncio.Event()

            async def slow() -> None:
                started.set()
                await asyncio.sleep(0.5)
                events.append("job finished")

            async def plugin(a: App) -> None:
                a.add_channel(channel, every=60)
                a.add_job("slow", slow, 60)

            app.settings.chains.clear()
            await app.setup(plugins=())
            await plugin(app)
            task = asyncio.create_task(serve(app))
            await asyncio.wait_for(started.wait(), 10)
            flushes_before = channel.flushes
            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.wait_for(task, 10)
        assert events == ["job finished"] and channel.flushes == flushes_before + 1


class TestHealthz:
    async def test_200_then_503_when_a_watcher_lags(self, db: Database, tmp_path: Path) -> None:
        """/healthz is 200 right after start and 503, naming the chain, once a chain's lag passes its limit."""
        from bot.health import add_routes
        from bot.service import start_http

        settings = settings_for(db, tmp_path)
        async with await App.open(settings) as app:
            await app.screener.ensure_lists()
            app.add_routes(add_routes)
            http = await start_http(app)
            assert http is not None
            try:
                async with aiohttp.ClientSession() as client:
                    url = f"http://127.0.0.1:{app.http_port}/healthz"
                    async with client.get(url) as r:
                        assert r.status == 200, await r.text()
                        assert (await r.json())["leading"] == []  # no leader-elected service runs here
                    settings.chains["btc"].max_lag_seconds = 0.01
                    await asyncio.sleep(0.05)
                    async with client.get(url) as r:
                        body = await r.json()
                        assert r.status == 503 and not body["ok"]
                        assert any("the btc watcher has not polled successfully" in x for x in body["reasons"])
            finally:
                await http.cleanup()

    async def test_an_instance_that_polls_nothing_reads_each_chains_last_good_poll_from_the_ledger(self, db: Database, tmp_path: Path) -> None:
        """A bot-role instance (or a standby watcher) is 503 when no instance polled a chain within its lag, 200 for that chain otherwise."""
        from datetime import timedelta

        from bot.health import problems
        from ledger.chain_health import record_good_poll

        async with await App.open(settings_for(db, tmp_path), role="bot") as app:
            now = app.started_at + timedelta(hours=1)
            reasons, _ = await problems(app, now)
            assert sum("watcher has not polled successfully for 3600 s" in r for r in reasons) == 2
            async with db.session() as s:
                await record_good_poll(s, "btc", now - timedelta(seconds=30), 800_000, "host-a:1")
                await record_good_poll(s, "eth", now - timedelta(seconds=30), None, "host-a:1")
            reasons, figures = await problems(app, now)
        assert not [r for r in reasons if "watcher" in r], reasons
        assert figures["chains"]["btc"]["polled_by"] == "host-a:1" and figures["chains"]["btc"]["height"] == 800_000
        assert figures["chains"]["eth"]["seconds_since_ok"] == 30.0

    async def test_503_when_the_list_in_force_is_stale(self, db: Database, tmp_path: Path) -> None:
        """/healthz names a stale sanctions list (older than max_list_age_days and not confirmed since)."""
        from bot.health import problems

        settings = settings_for(db, tmp_path)
        settings.screening.max_list_age_days = 1
        async with await App.open(settings) as app:
            await app.screener.ensure_lists()
            reasons, figures = await problems(app)
        assert any("list in force (bundled snapshot" in r and "is stale" in r for r in reasons)
        assert figures["lists"]["ofac-sdn"]["published"] == "2025-11-19"
