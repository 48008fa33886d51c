"""Serving a fake's aiohttp application on a free loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar

from aiohttp import web


async def serve(app: web.Application, **runner_options: Any) -> tuple[web.AppRunner, int]:
    """Start ``app`` on 127.0.0.1 at a port the kernel picks; returns its runner (to clean up) and the port."""
    runner = web.AppRunner(app, **runner_options)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


class Startable(Protocol):
    async def start(self) -> str: ...
    async def stop(self) -> None: ...


F = TypeVar("F", bound=Startable)


@asynccontextmanager
async def running(fake: F) -> AsyncIterator[F]:
    """A fake started for the block and stopped after it (a fixture's `async with running(Fake()) as f: yield f`)."""
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
