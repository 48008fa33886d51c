"""An Etherscan-compatible account API client (Etherscan V2 multichain, Blockscout): leads, not truth.

Three account actions list what touched an address: ``txlist`` (transactions), ``tokentx`` (ERC-20
Transfer events) and ``txlistinternal`` (internal value transfers). Each is read oldest first,
one page of ``page_size`` records per request, and paged BY BLOCK RANGE, as Etherscan documents
for full histories (https://docs.etherscan.io/get-an-addresss-full-transaction-history): when a
page comes back full, the next request starts at the last record's block again (that block may
have been cut off), so a ``page * offset`` window limit is never reached. Answers are
``{"status": "1", "message": "OK", "result": [...]}``; ``status "0"`` with "No transactions
found" (or "No token transfers found", "No internal transactions found") is an empty page; a
``NOTOK`` whose result says "rate limit" (Etherscan answers those with HTTP 200) is retried like an
HTTP 429 (Blockscout's answer); any other ``NOTOK`` (invalid API key, unsupported chain) is an
error naming the fix. Every record is only a lead: the import checks it against the RPC node
before anything is stored (``watchers.explorer_verify``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiolimiter import AsyncLimiter

from watchers.errors import MalformedResponse, SourceUnavailable, WatcherError
from watchers.retry import RetryPolicy, call_with_retry, parse_retry_after

log = logging.getLogger(__name__)

ACTIONS = ("txlist", "tokentx", "txlistinternal")
# Etherscan: 1,000 records per page on the free plan (5,000 paid); Blockscout accepts the same.
DEFAULT_PAGE_SIZE = 1_000


class ExplorerError(WatcherError):
    """The explorer refused the request for a reason retrying will not fix (a bad key, an unknown chain)."""

    def __init__(self, source: str, action: str, reason: str) -> None:
        self.source = source
        self.action = action
        self.reason = reason
        super().__init__(f"{source}: {action} refused: {reason}")


@dataclass(frozen=True, slots=True)
class ExplorerConfig:
    """One Etherscan-compatible API: its URL, the chain id (Etherscan V2), a key, and its limits."""

    url: str
    chain_id: int | None = None
    api_key: str | None = None
    requests_per_second: float = 3.0
    page_size: int = DEFAULT_PAGE_SIZE
    timeout_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class LeadPage:
    """One page of records of an action, and the block below which the action is complete."""

    action: str
    records: list[dict[str, Any]]
    complete_below: int


def _no_results(message: str, result: Any) -> bool:
    text = f"{message} {result if isinstance(result, str) else ''}".lower()
    return text.strip().startswith("no ") and "found" in text


class ExplorerClient:
    """Reads an address's history, oldest first, from an Etherscan-compatible account API."""

    def __init__(self, config: ExplorerConfig, *, retry: RetryPolicy | None = None) -> None:
        self.config = config
        self.source = config.url.split("?", 1)[0]
        self._retry = retry or RetryPolicy(attempts=6, base_seconds=1.0)
        rps = config.requests_per_second
        self._limiter = AsyncLimiter(rps, 1.0) if rps >= 1 else AsyncLimiter(1, 1.0 / rps)
        self._session: aiohttp.ClientSession | None = None
        self.requests = 0

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def pages(self, action: str, address: str, start: int, end: int) -> AsyncIterator[LeadPage]:
        """Every record of ``action`` for ``address`` in blocks ``start..end``, page by page, oldest first."""
        lo = start
        while lo <= end:
            records = await self.account(action, address, lo, end)
            full = len(records) >= self.config.page_size
            if not full:
                yield LeadPage(action, records, end + 1)
                return
            last = _block_of(records[-1], self.source, action)
            if last <= lo:
                # One block holds a whole page of records: read it alone, page by page.
                yield LeadPage(action, records + await self._whole_block(action, address, lo), lo + 1)
                lo += 1
                continue
            # The last block may be cut off: keep what lies below it and read it again.
            yield LeadPage(action, [r for r in records if _block_of(r, self.source, action) < last], last)
            lo = last

    async def _whole_block(self, action: str, address: str, block: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        page = 2
        while True:
            records = await self.account(action, address, block, block, page=page)
            out.extend(records)
            if len(records) < self.config.page_size:
                return out
            page += 1

    async def account(self, action: str, address: str, start: int, end: int, *, page: int = 1) -> list[dict[str, Any]]:
        """One ``module=account`` request: up to ``page_size`` records, oldest first."""
        params: dict[str, str] = {
            "module": "account", "action": action, "address": address, "startblock": str(start),
            "endblock": str(end), "page": str(page), "offset": str(self.config.page_size), "sort": "asc",
        }
        if self.config.chain_id is not None:
            params["chainid"] = str(self.config.chain_id)
        if self.config.api_key:
            params["apikey"] = self.config.api_key
        body = await call_with_retry(self._retry, lambda: self._get(params), what=f"{action} {start}..{end}")
        if not isinstance(body, dict) or "result" not in body:
            raise MalformedResponse(self.source, f"{action}: expected an object with 'result'")
        status, message, result = str(body.get("status", "")), str(body.get("message", "")), body["result"]
        if status == "1" and isinstance(result, list):
            if not all(isinstance(r, dict) for r in result):
                raise MalformedResponse(self.source, f"{action}: result holds something other than records")
            return result
        if isinstance(result, list) and (not result) and _no_results(message, result):
            return []
        if _no_results(message, result):
            return []
        raise ExplorerError(self.source, action, str(result)[:200] or message)

    async def _get(self, params: dict[str, str]) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.config.timeout_seconds))
        action = params["action"]
        async with self._limiter:
            self.requests += 1
            try:
                async with self._session.get(self.config.url, params=params) as resp:
                    text = await resp.text(errors="replace")
                    if resp.status != 200:
                        raise SourceUnavailable(self.source, resp.status, f"{action}: {text.strip()[:200]}",
                                                retry_after=parse_retry_after(resp.headers.get("Retry-After")))
            except (asyncio.TimeoutError, aiohttp.ServerTimeoutError):
                raise SourceUnavailable(self.source, None, f"{action}: timed out") from None
            except aiohttp.ClientError as exc:
                raise SourceUnavailable(self.source, None, f"{action}: {type(exc).__name__}: {exc}") from None
        try:
            body = json.loads(text)
        except ValueError:
            raise MalformedResponse(self.source, f"{action}: not JSON ({len(text)} bytes)") from None
        result = body.get("result") if isinstance(body, dict) else None
        if isinstance(result, str) and "rate limit" in result.lower():
            # Etherscan says "slow down" with HTTP 200: retried like a 429.
            raise SourceUnavailable(self.source, 429, f"{action}: {result[:200]}", retry_after=1.0)
        return body


def _block_of(record: dict[str, Any], source: str, action: str) -> int:
    try:
        return int(record["blockNumber"])
    except (KeyError, TypeError, ValueError):
        raise MalformedResponse(source, f"{action}: a record has no decimal blockNumber") from None
