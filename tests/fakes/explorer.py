"""A small real Etherscan-compatible account API in front of an anvil node (Etherscan V2 or Blockscout flavour).

It answers ``GET /api?module=account&action=txlist|tokentx|txlistinternal`` from an index it
builds by reading the node's blocks, receipts and traces, in the shapes the providers publish:

- success: ``{"status": "1", "message": "OK", "result": [records]}``, records oldest first
  (``sort=asc``), numbers as decimal strings, ``page``/``offset`` paging, ``startblock`` and
  ``endblock`` inclusive (https://docs.etherscan.io/api-reference/endpoint/txlist,
  https://docs.etherscan.io/get-an-addresss-full-transaction-history);
- nothing found: ``{"status": "0", "message": "No transactions found", "result": []}``;
- a page window beyond 10,000 records: ``{"status": "0", "message": "NOTOK", "result": "Result window
  is too large, PageNo x Offset size must be less than or equal to 10000"}``;
- Etherscan V2 (https://docs.etherscan.io/resources/common-error-messages): ``chainid`` is required
  ("Missing or unsupported chainid parameter ..."), so is the key ("Invalid API Key"); too many calls
  answer HTTP 200 ``{"status": "0", "message": "NOTOK", "result": "Max rate limit reached, please use
  API Key for higher rate limit"}`` (free plan: 3 calls a second, https://docs.etherscan.io/resources/rate-limits);
  the client asks at most 1,000 records a page (the free plan's maximum);
- Blockscout (https://docs.blockscout.com/devs/apis, keyless): too many calls answer HTTP 429
  (fair use is about 10 requests a second per IP).

Tests make the next answers rate-limited (``rate_limit_next``), use small pages, and add lying
records (``lie``) that the RPC check must reject: a made-up hash, a real transaction that paid
someone else, a failed transaction claimed as successful. Every request is counted by action.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes.serve import serve

from watchers.evm_mapping import TRANSFER_TOPIC

WINDOW = 10_000


@dataclass
class _Index:
    height: int = -1
    txlist: list[dict[str, Any]] = field(default_factory=list)
    tokentx: list[dict[str, Any]] = field(default_factory=list)
    txlistinternal: list[dict[str, Any]] = field(default_factory=list)


def _dec(value: Any) -> str:
    return str(int(value, 16)) if isinstance(value, str) else str(value)


class ExplorerFake:
    """An Etherscan-compatible explorer over an anvil node; ``flavour`` is "etherscan" or "blockscout"."""

    def __init__(self, rpc_url: str, *, flavour: str = "etherscan", chain_id: int = 31337, api_key: str = "TESTKEY") -> None:
        self.rpc_url = rpc_url
        self.flavour = flavour
        self.chain_id = chain_id
        self.api_key = api_key
        self.requests: Counter[str] = Counter()
        self.queries: list[dict[str, str]] = []
        self.url = ""
        self._index = _Index()
        self._lies: dict[str, list[dict[str, Any]]] = {"txlist": [], "tokentx": [], "txlistinternal": []}
        self._rate_limited = 0
        self._failing = 0
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    # -- scripting ---------------------------------------------------------------------------

    def rate_limit_next(self, count: int = 1) -> None:
        """The next ``count`` requests get the provider's rate-limit answer."""
        self._rate_limited += count

    def fail_next(self, count: int = 1) -> None:
        """The next ``count`` requests get HTTP 500 (the explorer is down)."""
        self._failing += count

    def lie(self, action: str, record: dict[str, Any]) -> None:
        """Add a record the chain does not back (the RPC check must reject it)."""
        self._lies[action].append(record)

    @property
    def api_url(self) -> str:
        return self.url + "/api"

    # -- index -------------------------------------------------------------------------------

    async def _rpc(self, method: str, *params: Any) -> Any:
        assert self._http is not None
        async with self._http.post(self.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}) as resp:
            answer = await resp.json()
        return answer.get("result")

    async def _catch_up(self) -> None:
        tip = int(await self._rpc("eth_blockNumber"), 16)
        for height in range(self._index.height + 1, tip + 1):
            block = await self._rpc("eth_getBlockByNumber", hex(height), True)
            stamp = _dec(block["timestamp"])
            for tx in block["transactions"]:
                receipt = await self._rpc("eth_getTransactionReceipt", tx["hash"])
                ok = receipt["status"] == "0x1"
                self._index.txlist.append({
                    "blockNumber": str(height), "timeStamp": stamp, "hash": tx["hash"], "nonce": _dec(tx["nonce"]),
                    "blockHash": block["hash"], "transactionIndex": _dec(tx["transactionIndex"]), "from": tx["from"].lower(),
                    "to": (tx.get("to") or "").lower(), "value": _dec(tx["value"]), "gas": _dec(tx["gas"]),
                    "isError": "0" if ok else "1", "txreceipt_status": "1" if ok else "0", "input": tx.get("input", "0x"),
                    "contractAddress": (receipt.get("contractAddress") or "").lower(), "gasUsed": _dec(receipt["gasUsed"]),
                })
                for entry in receipt["logs"]:
                    topics = entry["topics"]
                    if len(topics) == 3 and topics[0] == TRANSFER_TOPIC:
                        self._index.tokentx.append({
                            "blockNumber": str(height), "timeStamp": stamp, "hash": tx["hash"], "blockHash": block["hash"],
                            "from": "0x" + topics[1][-40:], "to": "0x" + topics[2][-40:], "value": str(int(entry["data"], 16)),
                            "contractAddress": entry["address"].lower(), "tokenName": "Test", "tokenSymbol": "TST",
                            "tokenDecimal": "6", "logIndex": _dec(entry["logIndex"]), "transactionIndex": _dec(tx["transactionIndex"]),
                        })
                traces = await self._rpc("trace_transaction", tx["hash"]) or []
                for trace in traces:
                    action = trace.get("action") or {}
                    if trace.get("type") != "call" or not trace.get("traceAddress") or action.get("value") in (None, "0x0"):
                        continue
                    self._index.txlistinternal.append({
                        "blockNumber": str(height), "timeStamp": stamp, "hash": tx["hash"], "from": action["from"].lower(),
                        "to": action["to"].lower(), "value": _dec(action["value"]), "contractAddress": "", "input": "",
                        "type": "call", "gas": _dec(action.get("gas", "0x0")), "gasUsed": "0",
                        "traceId": "_".join(map(str, trace["traceAddress"])), "isError": "1" if trace.get("error") else "0", "errCode": "",
                    })
            self._index.height = height

    # -- server ------------------------------------------------------------------------------

    async def start(self) -> str:
        self._http = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_get("/api", self._api)
        self._runner, port = await serve(app, access_log=None)
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._http is not None:
            await self._http.close()
            self._http = None

    @staticmethod
    def _answer(status: str, message: str, result: Any) -> web.Response:
        return web.json_response({"status": status, "message": message, "result": result})

    async def _api(self, request: web.Request) -> web.Response:
        q = request.query
        action = q.get("action", "")
        self.requests[action] += 1
        self.queries.append(dict(q))
        if self._failing:
            self._failing -= 1
            return web.Response(status=500, text="Internal Server Error")
        if self._rate_limited:
            self._rate_limited -= 1
            if self.flavour == "blockscout":
                return web.Response(status=429, text="Too Many Requests", headers={"Retry-After": "0"})
            return self._answer("0", "NOTOK", "Max rate limit reached, please use API Key for higher rate limit")
        if self.flavour == "etherscan":
            if q.get("chainid") != str(self.chain_id):
                return self._answer("0", "NOTOK", "Missing or unsupported chainid parameter (required for v2 api), please see https://api.etherscan.io/v2/chainlist for the list of supported chainids")
            if q.get("apikey") != self.api_key:
                return self._answer("0", "NOTOK", "Invalid API Key")
        if q.get("module") != "account" or action not in ("txlist", "tokentx", "txlistinternal"):
            return self._answer("0", "NOTOK", "Error! Missing Or invalid Action name")
        address = q.get("address", "").lower()
        try:
            start, end = int(q.get("startblock", "0")), int(q.get("endblock", "99999999"))
            page, offset = int(q.get("page", "1")), int(q.get("offset", "10000"))
        except ValueError:
            return self._answer("0", "NOTOK", "Error! Invalid parameter")
        if page * offset > WINDOW:
            return self._answer("0", "NOTOK", "Result window is too large, PageNo x Offset size must be less than or equal to 10000")
        await self._catch_up()
        rows = [r for r in getattr(self._index, action) + self._lies[action]
                if address in (r["from"], r["to"]) and start <= int(r["blockNumber"]) <= end]
        rows.sort(key=lambda r: (int(r["blockNumber"]), int(r.get("transactionIndex", 0)), int(r.get("logIndex", 0))))
        chunk = rows[(page - 1) * offset : page * offset]
        if not chunk:
            return self._answer("0", "No transactions found", [])
        return self._answer("1", "OK", chunk)
