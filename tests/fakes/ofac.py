"""A fake OFAC download server: serves one file with ETag and Last-Modified over a real socket.

It answers 304 when the client's If-None-Match or If-Modified-Since matches, and can be told to
fail with an HTTP status, to send a truncated body (the connection closes early), or to stall.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from email.utils import format_datetime
from datetime import datetime, timezone

from aiohttp import web

from tests.fakes.serve import serve

PATH = "/api/PublicationPreview/exports/SDN_ADVANCED.XML"


@dataclass
class FakeOfac:
    """The server's state: what it serves, how it misbehaves, and the requests it saw."""

    body: bytes = b""
    modified: datetime = field(default_factory=lambda: datetime(2025, 3, 4, 14, 0, tzinfo=timezone.utc))
    fail_status: int | None = None
    cut_after: int | None = None
    stall_seconds: float = 0.0
    requests: list[dict[str, str]] = field(default_factory=list)
    runner: web.AppRunner | None = None
    url: str = ""

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'

    def serve(self, body: bytes, modified: datetime | None = None) -> None:
        """Publish a new file."""
        self.body = body
        if modified is not None:
            self.modified = modified

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(dict(request.headers))
        if self.stall_seconds:
            await asyncio.sleep(self.stall_seconds)
        if self.fail_status is not None:
            return web.Response(status=self.fail_status, text="Service Unavailable")
        last_modified = format_datetime(self.modified, usegmt=True)
        if request.headers.get("If-None-Match") == self.etag or (
            "If-None-Match" not in request.headers and request.headers.get("If-Modified-Since") == last_modified
        ):
            return web.Response(status=304, headers={"ETag": self.etag, "Last-Modified": last_modified})
        resp = web.StreamResponse(status=200, headers={"ETag": self.etag, "Last-Modified": last_modified, "Content-Type": "application/xml"})
        resp.content_length = len(self.body)
        await resp.prepare(request)
        if self.cut_after is not None:
            await resp.write(self.body[: self.cut_after])
            request.transport.close()  # type: ignore[union-attr]
            return resp
        # Streamed in 1 MB pieces, as a real server sends a large file.
        for start in range(0, len(self.body), 1 << 20):
            await resp.write(self.body[start : start + (1 << 20)])
        await resp.write_eof()
        return resp

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get(PATH, self._handle)
        self.runner, port = await serve(app)
        self.url = f"http://127.0.0.1:{port}{PATH}"
        return self.url

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
