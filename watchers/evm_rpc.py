"""A JSON-RPC client for EVM nodes: batches, failover across URLs, retries, and range-shrinking getLogs.

It speaks JSON-RPC over one aiohttp session directly rather than through web3's provider: the
watcher needs batches of mixed calls, per-call errors inside a batch, the HTTP status and
Retry-After of a failed request, and a clear line between "the node is down" (SourceUnavailable,
retried, then the next URL) and "the node answered nonsense" (MalformedResponse).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from watchers.errors import MalformedResponse, SourceUnavailable, WatcherError
from watchers.retry import RetryPolicy, call_with_retry

log = logging.getLogger(__name__)

# JSON-RPC calls per HTTP request; public providers commonly cap batches at 50-100.
MAX_BATCH = 100
# Error texts with which providers refuse a getLogs range as too large (Infura -32005, Alchemy,
# QuickNode, Erigon, reth, anvil), lowercased.
_RANGE_TOO_LARGE = (
    "more than 10000 results",
    "too many results",
    "query returned more than",
    "block range",
    "range is too large",
    "range too large",
    "exceed maximum block range",
    "response size exceeded",
    "log response size",
)
# Error texts that mean "slow down" even when the HTTP status is 200.
_RATE_LIMITED = ("rate limit", "request count exceeded", "too many requests", "rate-limited", "exceeded its compute units")
METHOD_NOT_FOUND = -32601

Call = tuple[str, Sequence[Any]]


class RpcError(WatcherError):
    """A node answered a call with a JSON-RPC error object."""

    def __init__(self, source: str, method: str, code: int | None, message: str) -> None:
        self.source = source
        self.method = method
        self.code = code
        self.message = message
        super().__init__(f"{source}: {method} failed with JSON-RPC error {code}: {message[:200]}")

    @property
    def range_too_large(self) -> bool:
        """The node refuses the block range or result size of a getLogs; a smaller range may pass."""
        text = self.message.lower()
        return any(marker in text for marker in _RANGE_TOO_LARGE) or (self.code == -32005 and not _rate_limited(text))

    @property
    def method_missing(self) -> bool:
        """The node does not offer this method at all."""
        text = self.message.lower()
        return self.code == METHOD_NOT_FOUND or "not supported" in text or "does not exist" in text


@dataclass
class RpcStats:
    """Counters of what the client sent: HTTP requests and the JSON-RPC calls inside them."""

    http_requests: int = 0
    calls: int = 0


def _short(url: str) -> str:
    """The URL without its path or query (provider API keys often live there)."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}" if rest else url


class RpcClient:
    """Talks to one chain's JSON-RPC nodes, trying the URLs in order when one fails."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        timeout_seconds: float = 20.0,
        retry: RetryPolicy | None = None,
        max_batch: int = MAX_BATCH,
    ) -> None:
        if not urls:
            raise ValueError("an RPC client needs at least one URL")
        self.urls = list(urls)
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self.retry = retry or RetryPolicy()
        self.max_batch = max_batch
        self.stats = RpcStats()
        self._session: aiohttp.ClientSession | None = None
        self._next_id = 0

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self.timeout, headers={"Content-Type": "application/json"}
            )
        return self._session

    async def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        """One call's result; a JSON-RPC error is raised as RpcError."""
        (result,) = await self.batch([(method, params)])
        return result

    async def batch(self, calls: Sequence[Call]) -> list[Any]:
        """The results of several calls, in order; the first JSON-RPC error is raised as RpcError."""
        out = await self.batch_results(calls)
        for item in out:
            if isinstance(item, RpcError):
                raise item
        return out

    async def batch_results(self, calls: Sequence[Call]) -> list[Any]:
        """The results of several calls, in order, with a failed call's RpcError in its place."""
        out: list[Any] = []
        size = self.max_batch  # fixed for this call, though a refused chunk may lower max_batch
        for start in range(0, len(calls), size):
            out.extend(await self._batch_chunk(calls[start : start + size]))
        return out

    async def _batch_chunk(self, calls: Sequence[Call]) -> list[Any]:
        if not calls:
            return []
        first = self._next_id
        self._next_id += len(calls)
        payload = [
            {"jsonrpc": "2.0", "id": first + i, "method": method, "params": list(params)}
            for i, (method, params) in enumerate(calls)
        ]
        body = json.dumps(payload if len(payload) > 1 else payload[0]).encode()
        results = await call_with_retry(self.retry, lambda: self._post_any(body, calls, first), what=calls[0][0])
        if results is None:
            # The node refused the batch as a whole (too large, or batches not allowed): smaller ones.
            self.max_batch = max(1, len(calls) // 2)
            log.warning("rpc refused a batch of %d calls; sending at most %d per request from now on", len(calls), self.max_batch)
            return await self.batch_results(calls)
        self.stats.calls += len(calls)
        return results

    @staticmethod
    def _parse(source: str, answer: Any, calls: Sequence[Call], first: int) -> list[Any] | None:
        """Match replies to calls by id; None when the whole batch was refused.

        A rate-limit error inside the JSON is raised as HTTP 429.
        """
        replies = answer if isinstance(answer, list) else [answer]
        by_id: dict[Any, dict[str, Any]] = {}
        for reply in replies:
            if not isinstance(reply, dict):
                raise MalformedResponse(source, f"a JSON-RPC reply is {type(reply).__name__}, not an object")
            by_id[reply.get("id")] = reply
        if len(replies) == 1 and len(calls) > 1 and "error" in replies[0] and replies[0].get("id") is None:
            # One error for the whole batch: it was refused (too large, or batches not allowed).
            err = replies[0]["error"] or {}
            if _rate_limited(str(err.get("message", ""))):
                raise SourceUnavailable(source, 429, str(err.get("message", "")))
            return None
        results: list[Any] = []
        for i, (method, _) in enumerate(calls):
            reply = by_id.get(first + i)
            if reply is None:
                raise MalformedResponse(source, f"no reply to {method} (id {first + i}) in the batch")
            if reply.get("error") is not None:
                err = reply["error"] if isinstance(reply["error"], dict) else {"message": str(reply["error"])}
                if _rate_limited(str(err.get("message", ""))):
                    # Providers (Infura's -32005) also say "slow down" inside a 200 answer.
                    raise SourceUnavailable(source, 429, str(err.get("message", "")))
                results.append(RpcError(source, method, err.get("code"), str(err.get("message", ""))))
            elif "result" not in reply:
                raise MalformedResponse(source, f"reply to {method} has neither result nor error")
            else:
                results.append(reply["result"])
        return results

    async def _post_any(self, body: bytes, calls: Sequence[Call], first: int) -> list[Any] | None:
        """POST to each URL in order until one gives a readable answer; the last failure is raised."""
        last: WatcherError | None = None
        for url in self.urls:
            try:
                return self._parse(_short(url), await self._post(url, body), calls, first)
            except (SourceUnavailable, MalformedResponse) as exc:
                if len(self.urls) > 1:
                    log.warning("rpc %s failed (%s); trying the next URL", _short(url), exc)
                last = exc
        assert last is not None
        raise last

    async def _post(self, url: str, body: bytes) -> Any:
        source = _short(url)
        self.stats.http_requests += 1
        try:
            async with self._http().post(url, data=body) as resp:
                raw = await resp.read()
                if resp.status != 200:
                    raise SourceUnavailable(
                        source,
                        resp.status,
                        raw.decode("utf-8", "replace"),
                        retry_after=_retry_after(resp.headers.get("Retry-After")),
                    )
        except asyncio.TimeoutError:
            raise SourceUnavailable(source, None, f"timed out after {self.timeout.total}s") from None
        except aiohttp.ClientPayloadError as exc:
            raise MalformedResponse(source, f"truncated body ({exc})") from None
        except aiohttp.ClientError as exc:
            raise SourceUnavailable(source, None, f"{type(exc).__name__}: {exc}") from None
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise MalformedResponse(source, f"not JSON ({exc}; {len(raw)} bytes)") from None


def _rate_limited(message: str) -> bool:
    text = message.lower()
    return any(marker in text for marker in _RATE_LIMITED)


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
