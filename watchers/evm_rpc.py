"""A JSON-RPC client for EVM nodes: batches, failover across URLs, retries, and range-shrinking getLogs.

Requests go through web3's provider API (the chosen stack): one ``AsyncHTTPProvider`` per
configured URL, called with ``make_request`` / ``make_batch_request``. Those return the raw JSON-RPC
replies, so the formatting and raising layer of ``AsyncWeb3`` is bypassed on purpose: the watcher
needs per-call errors inside a batch (a refused getLogs range beside good block fetches), results
as raw hex (the mapping reads them itself), the HTTP status and Retry-After of a failed request, and
a clear line between "the node is down" (SourceUnavailable, retried, then the next URL) and "the
node answered nonsense" (MalformedResponse). The client retries and fails over itself, so web3's
own retry is switched off, and it hands the providers one aiohttp session of its own, which keeps
connections alive (web3's default session opens a TCP connection per request) and keeps the body
of an HTTP error for the message.

Since the provider is used only to POST a JSON-RPC body and read the reply, a short-lived command
(``donation-watch backfill``) may ask for ``transport="aiohttp"``: the same POST over the same
session, without importing web3 at all (importing it costs about a second, mostly eth-account's
BLS set-up, which a block scan never uses). Everything above the POST (batching, reply matching,
errors, retries, failover, rate limits) is shared, and the tests run over both transports.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import aiohttp

from watchers.errors import MalformedResponse, SourceUnavailable, WatcherError
from watchers.failover import FailoverLog
from watchers.retry import RetryPolicy, call_with_retry, parse_retry_after, rate_limiter

if TYPE_CHECKING:
    from web3.providers.rpc import AsyncHTTPProvider

log = logging.getLogger(__name__)

# How requests reach the node: through web3's provider, or the same POST straight over aiohttp.
Transport = Literal["web3", "aiohttp"]
TRANSPORTS: tuple[Transport, ...] = ("web3", "aiohttp")

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
# Error texts with which nodes refuse a getLogs filter listing too many addresses or topics in one
# position (geth and erigon cap it at 1,000 by default), lowercased.
_FILTER_TOO_LARGE = (
    "addresses or topics per search position",
    "exceed max addresses",
    "exceeds the maximum of",
    "too many addresses",
    "too many topics",
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
    def filter_too_large(self) -> bool:
        """The node refuses a getLogs filter for listing too many addresses; fewer per call may pass."""
        text = self.message.lower()
        return any(marker in text for marker in _FILTER_TOO_LARGE)

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


class _KeepErrorBody(aiohttp.ClientResponse):
    """A response that reads an HTTP error's body before web3's raise_for_status() drops it.

    The body (a provider's "invalid API key", "daily limit reached") becomes the error's message.
    """

    error_body = b""

    async def start(self, connection: Any) -> aiohttp.ClientResponse:
        await super().start(connection)
        if self.status >= 400:
            try:
                self.error_body = await self.read()
            except aiohttp.ClientPayloadError:
                pass  # the status and headers still say what went wrong
        return self

    def raise_for_status(self) -> None:
        try:
            super().raise_for_status()
        except aiohttp.ClientResponseError as exc:
            if self.error_body:
                exc.message = self.error_body[:1000].decode("utf-8", "replace")
            raise


class RpcClient:
    """Talks to one chain's JSON-RPC nodes, trying the URLs in order when one fails."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        timeout_seconds: float = 20.0,
        retry: RetryPolicy | None = None,
        max_batch: int = MAX_BATCH,
        requests_per_second: float | None = None,
        transport: Transport = "web3",
    ) -> None:
        if not urls:
            raise ValueError("an RPC client needs at least one URL")
        if transport not in TRANSPORTS:
            raise ValueError(f"unknown RPC transport {transport!r} (expected one of {', '.join(TRANSPORTS)})")
        self.urls = list(urls)
        self.transport = transport
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self.retry = retry or RetryPolicy()
        self.max_batch = max_batch
        self.stats = RpcStats()
        # web3 is imported only for its transport (see the module docstring).
        self._providers: list[AsyncHTTPProvider | None] = (
            [self._provider(url) for url in self.urls] if transport == "web3" else [None for _ in self.urls]
        )
        # JSON-RPC ids of the aiohttp transport: distinct and increasing, as web3 numbers them.
        self._ids = itertools.count(1)
        # One limiter per URL, taken by every HTTP request (a batch is one request, as providers count).
        self._limiters = [rate_limiter(requests_per_second) if requests_per_second else None for _ in self.urls]
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None
        self._failover = FailoverLog(log, "rpc")

    def _provider(self, url: str) -> AsyncHTTPProvider:
        from web3.providers.rpc import AsyncHTTPProvider

        return AsyncHTTPProvider(
            url,
            request_kwargs={"timeout": self.timeout},
            exception_retry_configuration=None,  # we retry (watchers/retry.py) and fail over ourselves
        )

    async def close(self) -> None:
        """Close the HTTP session and forget it in every provider."""
        session, self._session = self._session, None
        for provider in self._providers:
            if provider is not None:
                await provider.disconnect()
        if session is not None:
            await session.close()

    async def _ready(self) -> None:
        """Give every provider our session (one per event loop), opening it if needed."""
        loop = asyncio.get_running_loop()
        session = self._session
        if session is not None and not session.closed and self._session_loop is loop:
            return
        session = self._session = aiohttp.ClientSession(timeout=self.timeout, response_class=_KeepErrorBody)
        self._session_loop = loop
        for provider in self._providers:
            if provider is None:
                continue
            if await provider.cache_async_session(session) is not session:
                await provider.disconnect()  # a session left from an earlier event loop
                await provider.cache_async_session(session)

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
        results = await call_with_retry(self.retry, lambda: self._send_any(calls), what=calls[0][0])
        if results is None:
            # The node refused the batch as a whole (too large, or batches not allowed): smaller ones.
            self.max_batch = max(1, len(calls) // 2)
            log.warning("rpc refused a batch of %d calls; sending at most %d per request from now on", len(calls), self.max_batch)
            return await self.batch_results(calls)
        self.stats.calls += len(calls)
        return results

    @staticmethod
    def _parse(source: str, answer: Any, calls: Sequence[Call]) -> list[Any] | None:
        """Match replies to calls; None when the whole batch was refused.

        Only web3's public behaviour is relied on: ``make_batch_request`` numbers a batch's calls
        with increasing ids in the order given and returns the replies sorted by id. So the
        replies, once checked to be one per call with distinct increasing ids, are in call order;
        a node that drops, repeats or invents a reply is a MalformedResponse, never a silent
        mismatch. A rate-limit error inside the JSON is raised as HTTP 429.
        """
        replies = answer if isinstance(answer, list) else [answer]
        for reply in replies:
            if not isinstance(reply, dict):
                raise MalformedResponse(source, f"a JSON-RPC reply is {type(reply).__name__}, not an object")
        if len(replies) == 1 and len(calls) > 1 and "error" in replies[0] and replies[0].get("id") is None:
            # One error for the whole batch: it was refused (too large, or batches not allowed).
            err = replies[0]["error"] or {}
            if _rate_limited(str(err.get("message", ""))):
                raise SourceUnavailable(source, 429, str(err.get("message", "")))
            return None
        if len(replies) != len(calls):
            raise MalformedResponse(source, f"{len(replies)} replies to a batch of {len(calls)} calls")
        if len(calls) > 1:
            ids = [reply.get("id") for reply in replies]
            if not all(isinstance(i, int) for i in ids) or any(a >= b for a, b in zip(ids, ids[1:])):
                raise MalformedResponse(source, f"batch replies without distinct increasing ids ({ids[:5]}...)")
        results: list[Any] = []
        for (method, _), reply in zip(calls, replies):
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

    async def _send_any(self, calls: Sequence[Call]) -> list[Any] | None:
        """Send to each URL in order until one gives a readable answer; the last failure is raised."""
        await self._ready()
        failed: list[tuple[str, WatcherError]] = []
        for url, provider, limiter in zip(self.urls, self._providers, self._limiters):
            try:
                if limiter is None:
                    answer = await self._send(_short(url), url, provider, calls)
                else:
                    async with limiter:
                        answer = await self._send(_short(url), url, provider, calls)
            except (SourceUnavailable, MalformedResponse) as exc:
                log.debug("rpc %s failed (%s)", _short(url), exc)
                failed.append((_short(url), exc))
                continue
            self._failover.answered(_short(url), failed)
            return answer
        assert failed
        raise failed[-1][1]

    async def _send(self, source: str, url: str, provider: AsyncHTTPProvider | None, calls: Sequence[Call]) -> list[Any] | None:
        """One HTTP request: one call as an object, several as a batch; the replies matched to the calls."""
        self.stats.http_requests += 1
        try:
            if provider is None:
                answer = await self._post(url, calls)
            else:
                answer = await _post_web3(source, provider, calls)
        except aiohttp.ClientResponseError as exc:
            retry_after = parse_retry_after(exc.headers.get("Retry-After") if exc.headers else None)
            raise SourceUnavailable(source, exc.status, exc.message, retry_after=retry_after) from None
        except asyncio.TimeoutError:
            raise SourceUnavailable(source, None, f"timed out after {self.timeout.total}s") from None
        except aiohttp.ClientPayloadError as exc:
            raise MalformedResponse(source, f"truncated body ({exc})") from None
        except aiohttp.ClientError as exc:
            raise SourceUnavailable(source, None, f"{type(exc).__name__}: {exc}") from None
        except json.JSONDecodeError as exc:
            # web3 re-raises it with the whole body in the message; say where it broke instead.
            raise MalformedResponse(source, f"not JSON (at char {exc.pos} of {len(exc.doc)})") from None
        except UnicodeDecodeError as exc:
            raise MalformedResponse(source, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        return self._parse(source, answer, calls)

    async def _post(self, url: str, calls: Sequence[Call]) -> Any:
        """The aiohttp transport: what web3's provider sends and returns, without web3.

        The body is encoded before the request (parameters that cannot be encoded are a bug
        here, raised as such); a batch's replies come back sorted by id, as web3 returns them.
        """
        requests = [{"jsonrpc": "2.0", "method": method, "params": list(params), "id": next(self._ids)} for method, params in calls]
        body = json.dumps(requests[0] if len(requests) == 1 else requests, separators=(",", ":")).encode()
        assert self._session is not None
        async with self._session.post(url, data=body, headers=_JSON_HEADERS, timeout=self.timeout) as resp:
            resp.raise_for_status()
            raw = await resp.read()
        answer = json.loads(raw.decode("utf-8"))
        if isinstance(answer, list) and all(isinstance(r, dict) and type(r.get("id")) is int for r in answer):
            answer.sort(key=lambda r: r["id"])
        return answer

_JSON_HEADERS = {"Content-Type": "application/json"}


async def _post_web3(source: str, provider: AsyncHTTPProvider, calls: Sequence[Call]) -> Any:
    """The web3 transport: the provider numbers, posts and decodes the calls, and sorts a batch's replies by id."""
    from web3.exceptions import Web3TypeError
    from web3.types import RPCEndpoint

    requests = [(RPCEndpoint(method), list(params)) for method, params in calls]
    try:
        if len(requests) == 1:
            return await provider.make_request(*requests[0])
        return await provider.make_batch_request(requests)
    except Web3TypeError:
        raise  # our params could not be encoded: a bug here, not the node's fault
    except (AttributeError, TypeError) as exc:
        # web3 sorts a batch answer by id and trips over items that are not objects or ids of mixed types.
        raise MalformedResponse(source, f"a batch answer web3 cannot sort by id ({type(exc).__name__}: {exc})") from None


def _rate_limited(message: str) -> bool:
    text = message.lower()
    return any(marker in text for marker in _RATE_LIMITED)
