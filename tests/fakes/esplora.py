"""A small real Esplora HTTP server over a chain state that tests script.

It answers the endpoints the Bitcoin watcher uses with the published shapes and the electrs
behaviours API.md does not spell out: confirmed history newest first in pages of 25, `[]` for
an unknown `last_seen_txid`; the mempool list oldest first, capped at 50; `status` without block
fields when unconfirmed; the tip height as plain text; `/tx/:txid/status` of an unknown txid is
200 `{"confirmed": false}` while `/tx/:txid` is 404; a transaction of a stale block stays in
electrs' txstore, so after it is double-spent `/tx/:txid` still answers 200 with it (status
unconfirmed) though no address list shows it; an orphaned block's status is
`in_best_chain: false, height: null`; transactions inside a block in no particular order; 400
plain text for an invalid address. Tests mine blocks, add and replace mempool transactions,
reorg the last N blocks, and make the next answers fail (429/500), come truncated, or stall.
Every request is counted by route.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import random
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.fakes.serve import serve
from bip_utils import SegwitBech32Encoder

from watchers.addresses import bitcoin_address
from watchers.errors import InvalidAddress

DATA = Path(__file__).resolve().parents[1] / "data" / "esplora"
PAGE = 25
MEMPOOL_CAP = 50


def recorded(name: str) -> dict[str, Any]:
    """One recorded real transaction from tests/data/esplora (see its SOURCE.md), without status."""
    doc = json.loads((DATA / name).read_text())
    doc.pop("status", None)
    return doc


def fake_address(i: int) -> str:
    """A valid mainnet P2WPKH address made from a number (for scripted scenarios and benchmarks)."""
    return SegwitBech32Encoder.Encode("bc", 0, hashlib.sha256(f"addr{i}".encode()).digest()[:20])


def _h(*parts: object) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()


def _script(address: str) -> tuple[str, str, str]:
    """A script, its asm and type for an address, in the shapes Esplora prints (the hash is made up)."""
    body = _h("spk", address)
    if address.startswith("bc1p"):
        return "5120" + body, f"OP_PUSHNUM_1 OP_PUSHBYTES_32 {body}", "v1_p2tr"
    if address.startswith("bc1q") and len(address) > 50:
        return "0020" + body, f"OP_0 OP_PUSHBYTES_32 {body}", "v0_p2wsh"
    if address.startswith("bc1"):
        return "0014" + body[:40], f"OP_0 OP_PUSHBYTES_20 {body[:40]}", "v0_p2wpkh"
    if address.startswith("3"):
        return f"a914{body[:40]}87", f"OP_HASH160 OP_PUSHBYTES_20 {body[:40]} OP_EQUAL", "p2sh"
    return (f"76a914{body[:40]}88ac",
            f"OP_DUP OP_HASH160 OP_PUSHBYTES_20 {body[:40]} OP_EQUALVERIFY OP_CHECKSIG", "p2pkh")


def _output(address: str | None, value: int) -> dict[str, Any]:
    if address is None:  # OP_RETURN: no scriptpubkey_address key at all
        return {"scriptpubkey": "6a0b646f6e6174696f6e2121", "scriptpubkey_asm": "OP_RETURN OP_PUSHBYTES_11 646f6e6174696f6e2121",
                "scriptpubkey_type": "op_return", "value": value}
    spk, asm, kind = _script(address)
    return {"scriptpubkey": spk, "scriptpubkey_asm": asm, "scriptpubkey_type": kind,
            "scriptpubkey_address": address, "value": value}


_serial = iter(range(1, 10**9))


def make_tx(inputs: list[tuple[str, int]], outputs: list[tuple[str | None, int]], *, coinbase: bool = False) -> dict[str, Any]:
    """A transaction in the recorded Esplora field set: inputs (sender, value) pay outputs (address or None, value)."""
    n = next(_serial)
    vin: list[dict[str, Any]] = []
    if coinbase:
        vin.append({"txid": "0" * 64, "vout": 4294967295, "prevout": None, "scriptsig": "03a0bb0d",
                    "scriptsig_asm": "OP_PUSHBYTES_3 a0bb0d", "witness": ["0" * 64], "is_coinbase": True,
                    "sequence": 4294967295})
    for i, (sender, value) in enumerate(inputs):
        vin.append({"txid": _h("prev", n, i), "vout": i, "prevout": _output(sender, value), "scriptsig": "",
                    "scriptsig_asm": "", "witness": ["30440220" + _h("sig", n, i)[:56] + "01", "02" + _h("pk", n, i)],
                    "is_coinbase": False, "sequence": 4294967293})
    vout = [_output(a, v) for a, v in outputs]
    fee = max(0, sum(v for _, v in inputs) - sum(v for _, v in outputs)) if not coinbase else 0
    return {"txid": _h("tx", n), "version": 2, "locktime": 0, "vin": vin, "vout": vout,
            "size": 100 + 150 * len(vin) + 34 * len(vout), "weight": 400 + 300 * len(vin) + 136 * len(vout),
            "sigops": len(vin), "fee": fee}


@dataclass
class Block:
    """A block of the fake chain; its transactions are kept in no particular order, as electrs serves them."""

    height: int
    hash: str
    time: int
    txids: list[str]


@dataclass
class _Fault:
    kind: str  # "status", "truncate", "stall", "hook"
    path: str  # only requests whose path starts with this
    status: int = 500
    retry_after: str | None = None
    seconds: float = 0.0
    hook: Callable[[], None] | None = None


@dataclass
class EsploraFake:
    """The scripted chain state and the server answering from it."""

    network: str = "mainnet"
    base_height: int = 870_000
    blocks: list[Block] = field(default_factory=list)
    stale: dict[str, Block] = field(default_factory=dict)
    txs: dict[str, dict[str, Any]] = field(default_factory=dict)
    mempool: dict[str, None] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    _by_address: dict[str, set[str]] = field(default_factory=dict)
    _where: dict[str, tuple[int, int]] = field(default_factory=dict)  # txid -> (height, index in block)
    _ever_mined: set[str] = field(default_factory=set)  # in electrs' txstore for good
    _faults: deque[_Fault] = field(default_factory=deque)
    _runner: web.AppRunner | None = None
    url: str = ""
    _rng: random.Random = field(default_factory=lambda: random.Random(5))
    # Each address's confirmed history by state version: paging 10,000 transactions re-sorted
    # them on every page (11 ms), which a benchmark then counted as the client's time.
    _version: int = 0
    _histories: dict[str, tuple[int, list[str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.mine([])  # a genesis-like first block so the tip exists

    # -- chain scripting -------------------------------------------------------------------

    @property
    def tip(self) -> int:
        return self.blocks[-1].height

    def add_tx(self, doc: dict[str, Any]) -> str:
        """Put a transaction in the mempool (it arrives after every one already there)."""
        txid = doc["txid"]
        self._version += 1
        self.txs[txid] = copy.deepcopy(doc)
        self.mempool[txid] = None
        for address in _addresses(doc):
            self._by_address.setdefault(address, set()).add(txid)
        return txid

    def drop(self, txid: str) -> None:
        """Take a transaction out of the mempool for good (evicted, or double-spent).

        One that never was in a block is forgotten (404). One that was in a block a reorg
        detached stays in the txstore, as in electrs: ``/tx/:txid`` keeps answering with it,
        unconfirmed, while neither the address's chain nor its mempool list shows it.
        """
        self._version += 1
        self.mempool.pop(txid, None)
        if txid in self._ever_mined:
            return
        doc = self.txs.pop(txid, None)
        for address in _addresses(doc or {}):
            self._by_address.get(address, set()).discard(txid)

    def replace(self, old_txid: str, new_doc: dict[str, Any]) -> str:
        """Replace a mempool transaction by fee (RBF): the old one vanishes, the new one arrives."""
        self.drop(old_txid)
        return self.add_tx(new_doc)

    def mine(self, txids: list[str] | None = None) -> Block:
        """A new best block holding these mempool transactions (default: all of them)."""
        self._version += 1
        chosen = list(self.mempool) if txids is None else list(txids)
        for txid in chosen:
            if txid not in self.mempool:
                raise ValueError(f"{txid} is not in the fake mempool")
            del self.mempool[txid]
        self._rng.shuffle(chosen)  # electrs does not serve a block's transactions in block order
        height = self.blocks[-1].height + 1 if self.blocks else self.base_height
        block = Block(height, _h("block", height, len(self.stale), self._rng.random()), 1_730_000_000 + 600 * height, chosen)
        self.blocks.append(block)
        for i, txid in enumerate(chosen):
            self._where[txid] = (height, i)
        self._ever_mined.update(chosen)
        return block

    def reorg(self, depth: int) -> list[str]:
        """Detach the last ``depth`` blocks; their transactions go back to the mempool. Returns them."""
        self._version += 1
        back: list[str] = []
        for _ in range(depth):
            block = self.blocks.pop()
            self.stale[block.hash] = block
            for txid in block.txids:
                self._where.pop(txid, None)
            back = block.txids + back
        for txid in back:
            self.mempool[txid] = None
        return back

    def block_at(self, height: int) -> Block:
        return self.blocks[height - self.blocks[0].height]

    # -- faults ------------------------------------------------------------------------------

    def fail_next(self, status: int, *, times: int = 1, retry_after: str | None = None, path: str = "/") -> None:
        """The next ``times`` requests under ``path`` answer this HTTP status with a plain-text body."""
        self._faults.extend(_Fault("status", path, status=status, retry_after=retry_after) for _ in range(times))

    def truncate_next(self, *, times: int = 1, path: str = "/") -> None:
        """The next answers under ``path`` carry only the first half of their body (as a cut proxy would)."""
        self._faults.extend(_Fault("truncate", path) for _ in range(times))

    def stall_next(self, seconds: float, *, times: int = 1, path: str = "/") -> None:
        """The next answers under ``path`` wait this long before saying anything."""
        self._faults.extend(_Fault("stall", path, seconds=seconds) for _ in range(times))

    def before_next(self, path: str, hook: Callable[[], None]) -> None:
        """Run ``hook`` (e.g. a reorg) just before answering the next request under ``path``."""
        self._faults.append(_Fault("hook", path, hook=hook))

    def total_requests(self) -> int:
        return sum(self.requests.values())

    # -- rendering ---------------------------------------------------------------------------

    def _status(self, txid: str) -> dict[str, Any]:
        where = self._where.get(txid)
        if where is None:
            return {"confirmed": False}
        block = self.block_at(where[0])
        return {"confirmed": True, "block_height": block.height, "block_hash": block.hash, "block_time": block.time}

    def _render(self, txid: str) -> dict[str, Any]:
        doc = copy.deepcopy(self.txs[txid])
        doc["status"] = self._status(txid)
        return doc

    def _chain_history(self, address: str) -> list[str]:
        cached = self._histories.get(address)
        if cached is not None and cached[0] == self._version:
            return cached[1]
        confirmed = [t for t in self._by_address.get(address, ()) if t in self._where]
        history = sorted(confirmed, key=lambda t: self._where[t], reverse=True)
        self._histories[address] = (self._version, history)
        return history

    def _mempool_history(self, address: str) -> list[str]:
        mine = self._by_address.get(address, set())
        return [t for t in self.mempool if t in mine]

    def _stats(self, address: str, txids: list[str]) -> dict[str, int]:
        funded = [o["value"] for t in txids for o in self.txs[t]["vout"] if o.get("scriptpubkey_address") == address]
        spent = [i["prevout"]["value"] for t in txids for i in self.txs[t]["vin"]
                 if i["prevout"] and i["prevout"].get("scriptpubkey_address") == address]
        return {"funded_txo_count": len(funded), "funded_txo_sum": sum(funded), "spent_txo_count": len(spent),
                "spent_txo_sum": sum(spent), "tx_count": len(txids)}

    # -- server ------------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(middlewares=[self._middleware])
        r = app.router
        r.add_get("/address/{address}", self._address)
        r.add_get("/address/{address}/txs/chain", self._txs_chain)
        r.add_get("/address/{address}/txs/chain/{last_seen}", self._txs_chain)
        r.add_get("/address/{address}/txs/mempool", self._txs_mempool)
        r.add_get("/blocks/tip/height", self._tip_height)
        r.add_get("/block-height/{height}", self._block_height)
        r.add_get("/block/{hash}/status", self._block_status)
        r.add_get("/tx/{txid}", self._tx)
        r.add_get("/tx/{txid}/status", self._tx_status)
        self._runner, port = await serve(app, access_log=None)
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        route = request.match_info.route.resource.canonical if request.match_info.route.resource else request.path
        self.requests[route] += 1
        fault = next((f for f in self._faults if request.path.startswith(f.path)), None)
        if fault is not None:
            self._faults.remove(fault)
            if fault.kind == "status":
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                text = "Too Many Requests" if fault.status == 429 else "Internal Server Error"
                return web.Response(status=fault.status, text=text, headers=headers)
            if fault.kind == "stall":
                await asyncio.sleep(fault.seconds)
            if fault.kind == "hook" and fault.hook is not None:
                fault.hook()
        response = await handler(request)
        if fault is not None and fault.kind == "truncate" and isinstance(response, web.Response) and response.body:
            body = bytes(response.body)  # type: ignore[arg-type]
            return web.Response(status=response.status, body=body[: len(body) // 2], content_type=response.content_type)
        return response

    def _valid(self, address: str) -> bool:
        try:
            return bitcoin_address(address, self.network) == address
        except InvalidAddress:
            return False

    async def _address(self, request: web.Request) -> web.Response:
        address = request.match_info["address"]
        if not self._valid(address):
            return web.Response(status=400, text="Invalid Bitcoin address")
        return web.json_response({"address": address,
                                  "chain_stats": self._stats(address, self._chain_history(address)),
                                  "mempool_stats": self._stats(address, self._mempool_history(address))})

    async def _txs_chain(self, request: web.Request) -> web.Response:
        address = request.match_info["address"]
        if not self._valid(address):
            return web.Response(status=400, text="Invalid Bitcoin address")
        history = self._chain_history(address)
        last_seen = request.match_info.get("last_seen")
        if last_seen is None:
            page = history[:PAGE]
        elif last_seen in history:
            start = history.index(last_seen) + 1
            page = history[start : start + PAGE]
        else:
            page = []  # electrs: an unknown (or reorged-away) last_seen_txid is an empty page, not an error
        return web.json_response([self._render(t) for t in page])

    async def _txs_mempool(self, request: web.Request) -> web.Response:
        address = request.match_info["address"]
        if not self._valid(address):
            return web.Response(status=400, text="Invalid Bitcoin address")
        return web.json_response([self._render(t) for t in self._mempool_history(address)[:MEMPOOL_CAP]])

    async def _tip_height(self, request: web.Request) -> web.Response:
        return web.Response(text=str(self.tip))

    async def _block_height(self, request: web.Request) -> web.Response:
        height = int(request.match_info["height"])
        if not self.blocks[0].height <= height <= self.tip:
            return web.Response(status=404, text="Block not found")
        return web.Response(text=self.block_at(height).hash)

    async def _block_status(self, request: web.Request) -> web.Response:
        block_hash = request.match_info["hash"]
        for i, block in enumerate(self.blocks):
            if block.hash == block_hash:
                nxt = self.blocks[i + 1].hash if i + 1 < len(self.blocks) else None
                return web.json_response({"in_best_chain": True, "height": block.height, "next_best": nxt})
        return web.json_response({"in_best_chain": False, "height": None, "next_best": None})

    async def _tx(self, request: web.Request) -> web.Response:
        txid = request.match_info["txid"]
        if txid not in self.txs:
            return web.Response(status=404, text="Transaction not found")
        return web.json_response(self._render(txid))

    async def _tx_status(self, request: web.Request) -> web.Response:
        return web.json_response(self._status(request.match_info["txid"]))


def _addresses(doc: dict[str, Any]) -> set[str]:
    out = {o["scriptpubkey_address"] for o in doc.get("vout", []) if "scriptpubkey_address" in o}
    out |= {i["prevout"]["scriptpubkey_address"] for i in doc.get("vin", [])
            if i.get("prevout") and "scriptpubkey_address" in i["prevout"]}
    return out
