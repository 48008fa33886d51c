"""The Discord plugin joins the App only with a token, registers its two channels and the gateway as
a leader-elected service, and never logs in by itself: of two instances on one ledger exactly one
holds a gateway connection, and the other takes over when the leader stops."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from pydantic import SecretStr

from bot.app import App
from bot.leader import lead
from ledger.database import Database
from tests.bot.seed import chat_settings
from tests.bot.test_leader import two_apps
from tests.fakes.discord import FakeDiscord


class TestRegistration:
    async def test_token_registers_channels_and_a_leader_service_without_logging_in(self, db: Database) -> None:
        """With a token and an alerts channel, setup adds discord:alerts, discord:summary and the leader-elected
        `discord` service, and no console; nothing connects, and a flush sends nothing until a gateway is up."""
        settings = chat_settings()
        settings.discord.token = SecretStr("t")
        settings.discord.alerts_channel_id = 10
        app = App(settings, db)
        await app.setup()
        assert {"discord:alerts", "discord:summary"} <= set(app.channels) and "console" not in app.channels
        assert [(s.name, s.leader, s.role) for s in app.services] == [("discord", True, "bot")]
        assert await app.channels["discord:alerts"].flush() == 0
        assert not app.discord_bot.is_ready() and app.discord_bot.ws is None  # type: ignore[attr-defined]

    async def test_no_token_means_console_only(self, db: Database) -> None:
        """Without a token only the console channel is registered, and no service."""
        app = App(chat_settings(), db)
        await app.setup()
        assert set(app.channels) == {"console"} and app.services == []


async def until(check: Callable[[], bool], seconds: float = 15) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not check():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


class TestOneGateway:
    async def test_two_instances_hold_one_gateway_and_the_standby_takes_over(self, db: Database, tmp_path: Path) -> None:
        """Two instances on one token: one gateway connection at a time; the leader's end hands it over,
        and a client that was closed connects again in a later term."""
        fake = FakeDiscord()
        await fake.start()
        a, b = await two_apps(db, tmp_path)
        for app in (a, b):
            app.settings.discord.token = SecretStr("fake-token")
            app.settings.discord.api_base, app.settings.discord.gateway_url = fake.api_base, fake.gateway_url
            await app.setup(plugins=("bot.discord.plugin",))
        bot_a, bot_b = a.discord_bot, b.discord_bot  # type: ignore[attr-defined]
        lease = 0.3
        tasks: list[asyncio.Task[None]] = []
        try:
            tasks.append(asyncio.create_task(lead(a, "discord", a.services[0].run, lease=lease)))
            await until(bot_a.is_ready)
            tasks.append(asyncio.create_task(lead(b, "discord", b.services[0].run, lease=lease)))
            await asyncio.sleep(4 * lease)
            assert (fake.identifies, fake.gateways_open, b.leading, bot_b.is_ready()) == (1, 1, set(), False)

            tasks[0].cancel()  # the leader stops: its client closes and its lock is released
            await asyncio.gather(tasks[0], return_exceptions=True)
            await until(bot_b.is_ready)
            assert fake.identifies == 2 and b.leading == {"discord"}

            tasks[1].cancel()  # now b stops, and a — whose client was closed — leads and connects again
            await asyncio.gather(tasks[1], return_exceptions=True)
            tasks.append(asyncio.create_task(lead(a, "discord", a.services[0].run, lease=lease)))
            await until(bot_a.is_ready)
            assert fake.identifies == 3 and fake.most_gateways_open == 1
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await a.close()
            await b.close()
            await fake.stop()
