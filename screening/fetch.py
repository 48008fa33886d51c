"""Downloading a list with a conditional GET: ETag / Last-Modified, a User-Agent, a size cap, a timeout.

The body is streamed to a file next to where it will be parsed, never held in memory whole; file
calls run in a thread, so a slow disk never stalls the event loop the watchers and Discord share.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from screening.errors import ScreeningListError

log = logging.getLogger(__name__)

USER_AGENT = "donation-watch/0.1 (sanctions screening; +https://github.com/donation-watch/donation-watch)"
DEFAULT_MAX_BYTES = 400 * 1024 * 1024
DEFAULT_TIMEOUT = 300.0
_CHUNK = 1 << 16
# Bytes gathered before each write, which runs in a thread: a slow disk never blocks the loop.
_WRITE_EVERY = 1 << 20


@dataclass(frozen=True, slots=True)
class Fetched:
    """A download's outcome: ``path`` is None when the server said 304 Not Modified."""

    status: int
    path: Path | None
    etag: str | None
    last_modified: str | None
    size: int = 0


async def fetch(
    url: str,
    dest_dir: str | Path,
    *,
    source: str,
    etag: str | None = None,
    last_modified: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    user_agent: str = USER_AGENT,
) -> Fetched:
    """GET ``url`` into a new file in ``dest_dir``; ScreeningListError on any failure (no file is left)."""
    headers = {"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    fd, name = await asyncio.to_thread(_new_part_file, Path(dest_dir))
    path = Path(name)
    ok = False
    try:
        with os.fdopen(fd, "wb") as out:
            result = await _get(url, headers, out, path, source=source, timeout=timeout, max_bytes=max_bytes)
        ok = result.path is not None
        return result
    except asyncio.TimeoutError:
        raise ScreeningListError(source, f"{url}: no complete answer within {timeout:g} s; will retry at the next update") from None
    except aiohttp.ClientPayloadError as exc:
        raise ScreeningListError(source, f"{url}: download cut short ({exc}); the file is truncated") from None
    except aiohttp.ClientError as exc:
        raise ScreeningListError(source, f"{url}: cannot download ({type(exc).__name__}: {exc})") from None
    finally:
        if not ok:
            await asyncio.to_thread(path.unlink, missing_ok=True)


def _new_part_file(dest_dir: Path) -> tuple[int, str]:
    dest_dir.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(prefix="download-", suffix=".part", dir=dest_dir)


async def _get(
    url: str, headers: dict[str, str], out: object, path: Path, *, source: str, timeout: float, max_bytes: int
) -> Fetched:
    client_timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=min(timeout, 30.0))
    async with aiohttp.ClientSession(timeout=client_timeout) as http:
        async with http.get(url, headers=headers) as resp:
            new_etag = resp.headers.get("ETag")
            new_modified = resp.headers.get("Last-Modified")
            if resp.status == 304:
                return Fetched(304, None, new_etag, new_modified)
            if resp.status != 200:
                body = (await resp.content.read(300)).decode("utf-8", "replace").strip()
                raise ScreeningListError(source, f"{url}: HTTP {resp.status} {resp.reason or ''}".strip() + (f": {body}" if body else ""))
            if resp.content_length is not None and resp.content_length > max_bytes:
                raise ScreeningListError(source, f"{url}: {resp.content_length} bytes is over the {max_bytes}-byte cap")
            size = 0
            pending = bytearray()
            async for chunk in resp.content.iter_chunked(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise ScreeningListError(source, f"{url}: more than the {max_bytes}-byte cap; refusing the rest")
                pending += chunk
                if len(pending) >= _WRITE_EVERY:
                    await asyncio.to_thread(out.write, bytes(pending))  # type: ignore[attr-defined]
                    pending.clear()
            if pending:
                await asyncio.to_thread(out.write, bytes(pending))  # type: ignore[attr-defined]
            if resp.content_length is not None and size < resp.content_length and "Content-Encoding" not in resp.headers:
                raise ScreeningListError(source, f"{url}: got {size} of {resp.content_length} bytes; the file is truncated")
            log.info("downloaded source=%s bytes=%d", source, size)
            return Fetched(200, path, new_etag, new_modified, size)
