"""A JSON-RPC proxy in front of a real node that can be told to misbehave like public RPC providers do.

Faults are queued and used up one per HTTP request: 429 (with Retry-After), 500, a rate-limit
error inside a 200 JSON answer, a truncated or garbage body, or a stall longer than the client's
timeout. It can also refuse eth_getLogs over
more than N blocks with Infura's -32005 error, and answer chosen methods with "method not found".
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes.serve import serve

# "ok" passes a request through, to aim a later fault at a particular request.
FAULTS = ("ok", "429", "500", "truncated", "garbage", "stall", "rate-limit-json")
# Infura's way of saying "slow down" inside an HTTP 200 answer.
RATE_LIMIT_ERROR = {"code": -32005, "message": "daily request count exceeded, request rate limited"}


class RpcProxy:
    """Forwards JSON-RPC to ``upstream``, injecting the faults it is told to."""

    def __init__(self, upstream: str, *, stall_seconds: float = 3.0) -> None:
        self.upstream = upstream
        self.stall_seconds = stall_seconds
        self.faults: deque[str] = deque()
        self.always: str | None = None
        # Added to every request, to make a run slow enough to interrupt.
        self.delay_seconds = 0.0
        self.logs_max_blocks: int | None = None
        # Refuse getLogs filters listing more addresses (topic 2) than this, with geth's error.
        self.logs_max_addresses: int | None = None
        self.log_address_counts: list[int] = []
        self.missing_methods: set[str] = set()
        # Refuse batches of more calls than this as a whole, as many public providers do.
        self.max_batch: int | None = None
        # Answer the "finalized" block tag with an error, like pre-merge chains and some L2 nodes.
        self.no_finalized = False
        self.calls: list[str] = []
        # Every JSON body received, as sent by the client (to check ids and batching).
        self.payloads: list[Any] = []
        # Answer batches with their replies in reverse order (JSON-RPC allows any order).
        self.reverse_batches = False
        # Leave the last reply out of the next batch answer, as a broken node might.
        self.drop_reply = False
        self.http_requests = 0
        self.refused_log_ranges: list[tuple[int, int]] = []
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self.url = ""

    def fail_next(self, kind: str, times: int = 1) -> None:
        """Answer the next ``times`` HTTP requests with fault ``kind`` (one of FAULTS)."""
        assert kind in FAULTS, kind
        self.faults.extend([kind] * times)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/", self._handle)
        self._runner, port = await serve(app, shutdown_timeout=0.1)
        self._client = aiohttp.ClientSession()
        self.url = f"http://127.0.0.1:{port}/"
        return self.url

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, payload: Any) -> Any:
        assert self._client is not None
        async with self._client.post(self.upstream, json=payload) as resp:
            return await resp.json(content_type=None)

    def _intercept(self, call: dict[str, Any]) -> dict[str, Any] | None:
        method = call.get("method", "")
        if method in self.missing_methods:
            return {"jsonrpc": "2.0", "id": call.get("id"), "error": {"code": -32601, "message": f"Method not found: {method}"}}
        if method == "eth_getBlockByNumber" and self.no_finalized and call["params"][0] in ("finalized", "safe"):
            return {"jsonrpc": "2.0", "id": call.get("id"), "error": {"code": -32000, "message": "finalized block not found"}}
        if method == "eth_getLogs":
            topics = call["params"][0].get("topics") or []
            count = len(topics[2]) if len(topics) > 2 and isinstance(topics[2], list) else 1
            self.log_address_counts.append(count)
            if self.logs_max_addresses is not None and count > self.logs_max_addresses:
                msg = "exceed max addresses or topics per search position"  # geth's words (eth/filters)
                return {"jsonrpc": "2.0", "id": call.get("id"), "error": {"code": -32602, "message": msg}}
        if method == "eth_getLogs" and self.logs_max_blocks is not None:
            flt = call["params"][0]
            lo, hi = int(flt["fromBlock"], 16), int(flt["toBlock"], 16)
            if hi - lo + 1 > self.logs_max_blocks:
                self.refused_log_ranges.append((lo, hi))
                msg = "query returned more than 10000 results. Try with this block range [0x0, 0x0]."
                return {"jsonrpc": "2.0", "id": call.get("id"), "error": {"code": -32005, "message": msg}}
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.http_requests += 1
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        payload = await request.json()
        self.payloads.append(payload)
        calls = payload if isinstance(payload, list) else [payload]
        self.calls.extend(str(c.get("method")) for c in calls)
        fault = self.faults.popleft() if self.faults else self.always
        if fault == "429":
            return web.Response(status=429, text="Too Many Requests", headers={"Retry-After": "0"})
        if fault == "500":
            return web.Response(status=500, text="internal error")
        if fault == "stall":
            await asyncio.sleep(self.stall_seconds)
        if fault == "rate-limit-json":
            errors = [{"jsonrpc": "2.0", "id": c.get("id"), "error": RATE_LIMIT_ERROR} for c in calls]
            return web.json_response(errors if isinstance(payload, list) else errors[0])
        if fault == "garbage":
            return web.Response(status=200, text="<html>502 Bad Gateway</html>", content_type="text/html")
        if self.max_batch is not None and isinstance(payload, list) and len(payload) > self.max_batch:
            refusal = {"code": -32600, "message": f"batch of {len(payload)} exceeds the limit of {self.max_batch}"}
            return web.json_response({"jsonrpc": "2.0", "id": None, "error": refusal})
        answers: dict[Any, Any] = {}
        forward = []
        for call in calls:
            local = self._intercept(call)
            if local is None:
                forward.append(call)
            else:
                answers[call.get("id")] = local
        if forward:
            got = await self._forward(forward if isinstance(payload, list) else forward[0])
            for item in got if isinstance(got, list) else [got]:
                answers[item.get("id")] = item
        ordered = [answers[c.get("id")] for c in calls]
        if isinstance(payload, list) and self.reverse_batches:
            ordered.reverse()
        if isinstance(payload, list) and self.drop_reply and len(ordered) > 1:
            self.drop_reply = False
            ordered.pop()
        body = json.dumps(ordered if isinstance(payload, list) else ordered[0])
        if fault == "truncated":
            body = body[: max(1, len(body) // 2)]
        return web.Response(status=200, text=body, content_type="application/json")
