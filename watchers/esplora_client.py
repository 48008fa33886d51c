"""An HTTP client for the Esplora API: the few endpoints the Bitcoin watcher needs, politely.

Several base URLs fail over in order; each has its own request-rate limit. 429, 5xx, timeouts and
refused connections are ``SourceUnavailable`` (retried with backoff through ``watchers.retry``,
a Retry-After is honoured); an answer that is not the JSON shape the API promises (truncated,
garbage, missing fields) is ``MalformedResponse`` and is not retried.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from watchers.errors import MalformedResponse, SourceUnavailable
from watchers.failover import FailoverLog
from watchers.retry import RetryPolicy, call_with_retry, parse_retry_after, rate_limiter

log = logging.getLogger(__name__)

# How long a source that just failed is passed over while another one answers.
COOLDOWN_SECONDS = 30.0
# Esplora's confirmed-history page size (electrs CHAIN_TXS_PER_PAGE) and mempool cap (MAX_MEMPOOL_TXS).
CHAIN_PAGE = 25
MEMPOOL_CAP = 50


@dataclass(frozen=True, slots=True)
class AddressStats:
    """How many confirmed and unconfirmed transactions touch an address."""

    chain_tx_count: int
    mempool_tx_count: int


@dataclass(frozen=True, slots=True)
class TxStatus:
    """Where a transaction stands: in a block of the best chain, or not."""

    confirmed: bool
    block_height: int | None = None
    block_hash: str | None = None
    block_time: int | None = None


@dataclass(frozen=True, slots=True)
class BlockStatus:
    """Whether a block is in the best chain, and at which height."""

    in_best_chain: bool
    height: int | None


class _Source:
    """One base URL with its rate limit and its health."""

    def __init__(self, url: str, requests_per_second: float) -> None:
        self.url = url.rstrip("/")
        self.limiter = rate_limiter(requests_per_second)
        self.cooling_until = 0.0

    @property
    def cooling(self) -> bool:
        return time.monotonic() < self.cooling_until


class EsploraClient:
    """Esplora over HTTP with failover, per-source rate limits, retries and a request count."""

    def __init__(
        self,
        urls: list[str],
        *,
        requests_per_second: float = 2.0,
        timeout_seconds: float = 20.0,
        retry: RetryPolicy | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        if not urls:
            raise ValueError("EsploraClient needs at least one base URL")
        self._sources = [_Source(u, requests_per_second) for u in urls]
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._retry = retry or RetryPolicy()
        self._session = session
        self._own_session = session is None
        self.requests = 0
        self._last_source = self._sources[0].url
        self._failover = FailoverLog(log, "esplora source")

    async def close(self) -> None:
        """Close the HTTP session if this client made it."""
        if self._session is not None and self._own_session:
            await self._session.close()
        self._session = None

    # -- endpoints ---------------------------------------------------------------------------

    async def address_stats(self, address: str) -> AddressStats:
        """``GET /address/:address``: confirmed and mempool transaction counts."""
        body = await self._json(f"/address/{address}")
        try:
            chain = body["chain_stats"]["tx_count"]
            mempool = body["mempool_stats"]["tx_count"]
        except (KeyError, TypeError):
            raise MalformedResponse(self._name(), f"/address/{address}: no chain_stats/mempool_stats tx_count") from None
        if not _is_count(chain) or not _is_count(mempool):
            raise MalformedResponse(self._name(), f"/address/{address}: tx_count is not a count")
        return AddressStats(chain, mempool)

    async def chain_txs(self, address: str, last_seen_txid: str | None = None) -> list[dict[str, Any]]:
        """``GET /address/:address/txs/chain[/:last_seen_txid]``: up to 25 confirmed, newest first."""
        path = f"/address/{address}/txs/chain" + (f"/{last_seen_txid}" if last_seen_txid else "")
        return self._list(path, await self._json(path), CHAIN_PAGE)

    async def mempool_txs(self, address: str) -> list[dict[str, Any]]:
        """``GET /address/:address/txs/mempool``: up to 50 unconfirmed, oldest first."""
        path = f"/address/{address}/txs/mempool"
        return self._list(path, await self._json(path), MEMPOOL_CAP)

    async def tip_height(self) -> int:
        """``GET /blocks/tip/height``: the best chain's height (plain text)."""
        text = (await self._text("/blocks/tip/height")).strip()
        if not text.isdigit():
            raise MalformedResponse(self._name(), f"/blocks/tip/height: {text[:40]!r} is not a height")
        return int(text)

    async def block_hash_at(self, height: int) -> str | None:
        """``GET /block-height/:height``: the best chain's block hash there, None above the tip."""
        try:
            text = (await self._text(f"/block-height/{height}")).strip()
        except SourceUnavailable as exc:
            if exc.status == 404:
                return None
            raise
        if not _is_hash(text):
            raise MalformedResponse(self._name(), f"/block-height/{height}: {text[:80]!r} is not a block hash")
        return text

    async def block_status(self, block_hash: str) -> BlockStatus:
        """``GET /block/:hash/status``: whether the block is in the best chain."""
        body = await self._json(f"/block/{block_hash}/status")
        if not isinstance(body, dict) or not isinstance(body.get("in_best_chain"), bool):
            raise MalformedResponse(self._name(), f"/block/{block_hash}/status: no in_best_chain")
        height = body.get("height")
        return BlockStatus(body["in_best_chain"], height if _is_count(height) else None)

    async def tx_status(self, txid: str) -> TxStatus:
        """``GET /tx/:txid/status``: unknown and unconfirmed transactions both say confirmed false."""
        return parse_status(self._name(), f"/tx/{txid}/status", await self._json(f"/tx/{txid}/status"))

    async def tx(self, txid: str) -> dict[str, Any] | None:
        """``GET /tx/:txid``: the transaction with its status, or None when the source knows it not (404)."""
        try:
            body = await self._json(f"/tx/{txid}")
        except SourceUnavailable as exc:
            if exc.status == 404:
                return None
            raise
        if not isinstance(body, dict):
            raise MalformedResponse(self._name(), f"/tx/{txid}: not a JSON object")
        return body

    # -- transport ---------------------------------------------------------------------------

    @property
    def source(self) -> str:
        """The base URL that answered last, to name in errors."""
        return self._last_source

    def _name(self) -> str:
        return self._last_source

    def _list(self, path: str, body: Any, cap: int) -> list[dict[str, Any]]:
        if not isinstance(body, list) or not all(isinstance(t, dict) for t in body):
            raise MalformedResponse(self._name(), f"{path}: expected a JSON array of transactions")
        if len(body) > cap:
            raise MalformedResponse(self._name(), f"{path}: {len(body)} transactions, more than the page size {cap}")
        return body

    async def _json(self, path: str) -> Any:
        text = await self._text(path)
        try:
            return json.loads(text)
        except ValueError as exc:
            raise MalformedResponse(self._name(), f"{path}: not JSON ({exc}); {len(text)} bytes") from None

    async def _text(self, path: str) -> str:
        return await call_with_retry(self._retry, lambda: self._any_source(path), what=path)

    async def _any_source(self, path: str) -> str:
        """Try each source once, healthy ones first, in configured order; raise the last failure."""
        order = [s for s in self._sources if not s.cooling] + [s for s in self._sources if s.cooling]
        failed: list[tuple[str, SourceUnavailable]] = []
        for source in order:
            try:
                body = await self._get(source, path)
            except SourceUnavailable as exc:
                if not exc.retryable:
                    raise
                source.cooling_until = time.monotonic() + max(COOLDOWN_SECONDS, exc.retry_after or 0.0)
                log.debug("esplora source failed source=%s path=%s error=%s", source.url, path, exc)
                failed.append((source.url, exc))
                continue
            self._failover.answered(source.url, failed)
            return body
        assert failed
        raise failed[-1][1]

    async def _get(self, source: _Source, path: str) -> str:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        url = source.url + path
        async with source.limiter:
            self.requests += 1
            try:
                async with self._session.get(url, timeout=self._timeout) as resp:
                    body = await resp.text(errors="replace")
                    if resp.status != 200:
                        raise SourceUnavailable(
                            source.url, resp.status, f"{path}: {body.strip()}", retry_after=parse_retry_after(resp.headers.get("Retry-After"))
                        )
                    self._last_source = source.url
                    return body
            except (asyncio.TimeoutError, aiohttp.ServerTimeoutError):
                raise SourceUnavailable(source.url, None, f"{path}: timed out") from None
            except aiohttp.ClientPayloadError as exc:
                raise MalformedResponse(source.url, f"{path}: body cut short ({exc})") from None
            except aiohttp.ClientError as exc:
                raise SourceUnavailable(source.url, None, f"{path}: {type(exc).__name__}: {exc}") from None


def parse_status(source: str, where: str, body: Any) -> TxStatus:
    """A ``status`` object: ``confirmed`` and, only when confirmed, the block's height, hash and time."""
    if not isinstance(body, dict) or not isinstance(body.get("confirmed"), bool):
        raise MalformedResponse(source, f"{where}: status has no boolean 'confirmed'")
    if not body["confirmed"]:
        return TxStatus(False)
    height, block_hash, block_time = body.get("block_height"), body.get("block_hash"), body.get("block_time")
    if not _is_count(height) or not _is_hash(block_hash) or not _is_count(block_time):
        raise MalformedResponse(source, f"{where}: confirmed status without block_height/block_hash/block_time")
    return TxStatus(True, height, block_hash, block_time)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_hash(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)
