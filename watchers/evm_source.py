"""The EVM chain source: fetches block ranges, receipts, token logs and traces, and maps them to transfers.

One scan costs one batch of blocks, one getLogs per range (split when the node refuses the
range), and one batch of receipts for the few transactions that pay a watched address, however
many addresses are watched: matching is a set lookup.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from watchers import evm_mapping as mapping
from watchers.evm_config import EvmChainConfig
from ledger.sightings import TransferIn
from watchers.scanned import BlockHeader, Head, Scanned, confirmed_height
from watchers.errors import MalformedResponse, WatcherError
from watchers.evm_rpc import RpcClient, RpcError

log = logging.getLogger(__name__)

# Candidate transactions in one block above which its receipts are fetched all at once.
BLOCK_RECEIPTS_ABOVE = 4
# Confirmations used when "finalized" is asked for but the node has no finalized block tag.
FINALIZED_FALLBACK = 12


def rpc_client(config: EvmChainConfig) -> RpcClient:
    """The JSON-RPC client of one configured chain: its nodes, timeout, retries, rate and transport."""
    return RpcClient(
        config.rpc_urls, timeout_seconds=config.timeout_seconds, retry=config.retry,
        requests_per_second=config.requests_per_second, transport=config.transport,
    )


def _block_calls(start: int, end: int) -> list[tuple[str, list[Any]]]:
    """eth_getBlockByNumber with full transactions for each block of ``start..end``."""
    return [("eth_getBlockByNumber", [hex(h), True]) for h in range(start, end + 1)]


@dataclass(frozen=True)
class _Prefetched:
    """The block after the cursor and its token logs, fetched along with the head."""

    height: int
    block: dict[str, Any]
    logs: list[Any]
    watched: Mapping[str, int]


class ChainMismatch(WatcherError):
    """The RPC node serves another chain than the one configured."""

    def __init__(self, name: str, expected: int, got: int) -> None:
        super().__init__(
            f"chains.{name}.rpc_urls: the node reports chain id {got}, but chains.{name}.chain_id is {expected}; "
            "point rpc_urls at a node of that chain or fix chain_id"
        )


class EvmSource:
    """Fetches and maps one EVM chain's blocks for the block-scanning loop."""

    def __init__(self, config: EvmChainConfig, rpc: RpcClient) -> None:
        self.config = config
        self.chain = config.name
        self.rpc = rpc
        self.tokens = {t.address.lower(): t for t in config.tokens}
        self._chain_checked = False
        self._finalized_tag = config.confirmations == "finalized"
        self._traces = config.traces
        # While the node gives no traces: when to ask again, and why they are missing.
        self._traces_retry_at = 0.0
        self.traces_missing: str | None = None
        self._block_receipts = True
        self._prefetched: _Prefetched | None = None
        # Ranges whose blocks were asked for before the watched addresses were known (see early_blocks).
        self._early: dict[tuple[int, int], asyncio.Future[list[Any]]] = {}
        # The widest getLogs range the node accepted after refusing a wider one.
        self.log_span: int | None = None
        # Addresses per getLogs filter; halved when the node refuses a filter as too large.
        self.log_addresses = max(1, config.max_log_addresses)

    @property
    def requests(self) -> int:
        return self.rpc.stats.http_requests

    def watch_key(self, address: str) -> str:
        return address.lower()

    async def head(self, cursor_height: int | None, watched: Mapping[str, int] | None = None) -> Head:
        """The tip, the confirmed height and the block at the cursor, in one batch.

        When following the tip, the same request also fetches the block after the cursor (and its
        token logs): in the steady state of one new block per poll, that is the whole scan.
        """
        calls: list[tuple[str, list[Any]]] = [("eth_blockNumber", [])]
        if not self._chain_checked:
            calls.append(("eth_chainId", []))
        if self._finalized_tag:
            calls.append(("eth_getBlockByNumber", ["finalized", False]))
        if cursor_height is not None:
            calls.append(("eth_getBlockByNumber", [hex(cursor_height), False]))
        prefetch = cursor_height is not None and bool(watched)
        if prefetch:
            assert cursor_height is not None and watched is not None
            calls.append(("eth_getBlockByNumber", [hex(cursor_height + 1), True]))
            log_filters = self._log_filters(cursor_height + 1, cursor_height + 1, watched) if self.tokens else []
            calls.extend(("eth_getLogs", [f]) for f in log_filters)
        self._prefetched = None
        results = iter(await self.rpc.batch_results(calls))
        tip = _quantity(next(results), "eth_blockNumber", self.chain)
        if not self._chain_checked:
            got = _quantity(next(results), "eth_chainId", self.chain)
            if got != self.config.chain_id:
                raise ChainMismatch(self.chain, self.config.chain_id, got)
            self._chain_checked = True
        confirmed: int | None = None
        if self._finalized_tag:
            final = next(results)
            if isinstance(final, RpcError) or final is None:
                log.warning(
                    "chain=%s: the node has no finalized block (%s); counting %d confirmations instead",
                    self.chain, final, FINALIZED_FALLBACK,
                )
                self._finalized_tag = False
            else:
                confirmed = mapping.header(final, self.chain, int(final.get("number", "0x0"), 16)).height
        if confirmed is None:
            depth = self.config.confirmations if isinstance(self.config.confirmations, int) else FINALIZED_FALLBACK
            confirmed = confirmed_height(tip, depth)
        at_cursor = None
        if cursor_height is not None:
            block = next(results)
            if isinstance(block, RpcError):
                raise block
            at_cursor = mapping.header(block, self.chain, cursor_height) if block is not None else None
        if prefetch:
            assert cursor_height is not None and watched is not None
            block = next(results)
            answers = [next(results) for _ in log_filters]
            if isinstance(block, dict) and all(isinstance(a, list) for a in answers):
                logs = [entry for answer in answers for entry in answer]
                self._prefetched = _Prefetched(cursor_height + 1, block, logs, watched)
        return Head(tip=tip, confirmed=confirmed, at_cursor=at_cursor)

    async def headers(self, heights: Sequence[int]) -> list[BlockHeader]:
        """Headers of the given blocks (without transactions)."""
        blocks = await self.rpc.batch([("eth_getBlockByNumber", [hex(h), False]) for h in heights])
        return [mapping.header(b, self.chain, h) for b, h in zip(blocks, heights)]

    def early_blocks(self, start: int, end: int) -> asyncio.Future[list[Any]]:
        """Ask now for blocks ``start..end`` with their transactions, for a later ``scan`` of exactly that
        range (a backfill whose watched addresses are still being read). The scan then asks only for
        the range's logs. Cancel the returned future if that scan will not come."""
        future = self._early[(start, end)] = asyncio.ensure_future(self.rpc.batch(_block_calls(start, end)))
        return future

    async def fetch(self, start: int, end: int, watched: Mapping[str, int]) -> tuple[list[Any], list[Any]]:
        """The raw blocks (with transactions) and token logs of a range: the unavoidable fetch cost."""
        pre, self._prefetched = self._prefetched, None
        if pre is not None and pre.height == start == end and pre.watched is watched:
            return [pre.block], pre.logs
        early = self._early.pop((start, end), None)
        if early is not None and not early.cancelled():
            blocks = await early
            return blocks, await self.logs(start, end, watched) if self.tokens and watched else []
        calls = _block_calls(start, end)
        with_logs = bool(self.tokens and watched)
        log_filters = self._log_filters(start, end, watched) if with_logs else []
        one_logs_call = with_logs and self.log_span is None and len(calls) + len(log_filters) <= self.rpc.max_batch
        if one_logs_call:
            # The usual case: the range's getLogs ride in the same HTTP request as its blocks.
            calls.extend(("eth_getLogs", [f]) for f in log_filters)
        results = await self.rpc.batch_results(calls)
        for item in results[: end - start + 1]:
            if isinstance(item, RpcError):
                raise item
        blocks = results[: end - start + 1]
        if not with_logs:
            return blocks, []
        if not one_logs_call:
            return blocks, await self.logs(start, end, watched)
        logs: list[Any] = []
        for answer in results[end - start + 1 :]:
            if isinstance(answer, RpcError):
                if not (answer.range_too_large or answer.filter_too_large):
                    raise answer
                return blocks, await self.logs(start, end, watched)
            if not isinstance(answer, list):
                raise MalformedResponse(self.chain, f"eth_getLogs returned {type(answer).__name__}, not a list")
            logs.extend(answer)
        return blocks, logs

    async def scan(self, start: int, end: int, watched: Mapping[str, int]) -> Scanned:
        """Headers of blocks ``start..end`` and every transfer in them into a watched address."""
        blocks, logs = await self.fetch(start, end, watched)
        src = self.chain
        headers = [mapping.header(b, src, h) for b, h in zip(blocks, range(start, end + 1))]
        by_height = {h.height: h for h in headers}
        candidates = [(tx, head) for block, head in zip(blocks, headers) for tx in mapping.native_candidates(block, watched, src)]
        transfers = []
        if candidates:
            receipts = await self._receipts(candidates)
            for tx, head in candidates:
                receipt = receipts.get(str(tx.get("hash")).lower())
                item = mapping.native_transfer(src, tx, receipt, head, watched, self.config.native_symbol, src)
                if item is not None:
                    transfers.append(item)
        transfers.extend(mapping.token_transfers(src, logs, self.tokens, watched, by_height, src))
        unchecked: dict[str, str] = {}
        if self._traces and watched:
            internal = await self._traced(start, end, watched, by_height)
            if internal is None:
                unchecked["traces"] = self.traces_missing or "no traces"
            else:
                transfers.extend(internal)
        return Scanned(headers=headers, transfers=transfers, unchecked=unchecked)

    async def fill(self, kind: str, start: int, end: int, watched: Mapping[str, int]) -> list[TransferIn] | None:
        """The transfers ``kind`` of data finds in blocks stored without it, or None while the node still lacks it."""
        if kind != "traces" or not watched:
            return [] if kind == "traces" else None
        return await self._traced(start, end, watched, None)

    async def _traced(
        self, start: int, end: int, watched: Mapping[str, int], headers: Mapping[int, BlockHeader] | None
    ) -> list[TransferIn] | None:
        """Internal transfers of the range, or None when the node has no trace API (asked again later)."""
        if time.monotonic() < self._traces_retry_at:
            return None
        try:
            found = await self._internal(start, end, watched, headers)
        except RpcError as exc:
            if not exc.method_missing:
                raise
            if self.traces_missing is None:
                log.warning(
                    "chain=%s: the node has no trace_filter (%s); blocks are stored with internal transfers unchecked "
                    "and checked when a node with the trace API answers. Use such a node, or set traces = false",
                    self.chain, exc.message[:80],
                )
            self.traces_missing = f"the node has no trace_filter ({exc.message[:120]})"
            self._traces_retry_at = time.monotonic() + self.config.trace_retry_seconds
            return None
        if self.traces_missing is not None:
            log.warning("chain=%s: the node answers trace_filter again; internal transfers are watched", self.chain)
            self.traces_missing = None
        return found

    async def _receipts(self, candidates: Sequence[tuple[dict[str, Any], BlockHeader]]) -> dict[str, Any]:
        """Receipts of the candidate transactions by hash: a block's all at once when it holds many.

        Per-transaction receipts are lighter for the node (a block's receipts carry every log and
        bloom); only above BLOCK_RECEIPTS_ABOVE candidates does one eth_getBlockReceipts win.
        """
        per_block: dict[str, list[dict[str, Any]]] = {}
        for tx, head in candidates:
            per_block.setdefault(head.hash, []).append(tx)
        calls: list[tuple[str, list[Any]]] = []
        for block_hash, txs in per_block.items():
            if len(txs) > BLOCK_RECEIPTS_ABOVE and self._block_receipts:
                calls.append(("eth_getBlockReceipts", [block_hash]))
            else:
                calls.extend(("eth_getTransactionReceipt", [tx.get("hash")]) for tx in txs)
        results = await self.rpc.batch_results(calls)
        if any(isinstance(r, RpcError) and r.method == "eth_getBlockReceipts" and r.method_missing for r in results):
            log.info("chain=%s: no eth_getBlockReceipts on the node; asking per transaction", self.chain)
            self._block_receipts = False
            return await self._receipts(candidates)
        out: dict[str, Any] = {}
        for (method, _), result in zip(calls, results):
            if isinstance(result, RpcError):
                raise result
            for receipt in result if method == "eth_getBlockReceipts" else [result]:
                if isinstance(receipt, dict) and isinstance(receipt.get("transactionHash"), str):
                    out[receipt["transactionHash"].lower()] = receipt
        return out

    async def logs(self, start: int, end: int, watched: Mapping[str, int]) -> list[Any]:
        """ERC-20 Transfer logs of allowlisted tokens to watched addresses, splitting ranges the node refuses."""
        span = self.log_span or (end - start + 1)
        out: list[Any] = []
        for lo in range(start, end + 1, span):
            out.extend(await self._logs(lo, min(end, lo + span - 1), watched))
        return out

    def _log_filter(self, start: int, end: int, addresses: Sequence[str]) -> dict[str, Any]:
        return {
            "fromBlock": hex(start),
            "toBlock": hex(end),
            "address": sorted(self.tokens),
            "topics": [mapping.TRANSFER_TOPIC, None, [mapping.topic_for(a) for a in addresses]],
        }

    def _address_groups(self, watched: Mapping[str, int]) -> list[list[str]]:
        """The watched addresses in groups of at most ``log_addresses``, one getLogs filter each."""
        ordered = sorted(watched)
        size = self.log_addresses
        return [ordered[i : i + size] for i in range(0, len(ordered), size)]

    def _log_filters(self, start: int, end: int, watched: Mapping[str, int]) -> list[dict[str, Any]]:
        return [self._log_filter(start, end, group) for group in self._address_groups(watched)]

    async def _logs(self, start: int, end: int, watched: Mapping[str, int]) -> list[Any]:
        out: list[Any] = []
        for group in self._address_groups(watched):
            out.extend(await self._logs_of(start, end, group))
        return out

    async def _logs_of(self, start: int, end: int, addresses: list[str]) -> list[Any]:
        """One filter's logs; a refused filter is split by addresses, a refused range by blocks."""
        try:
            result = await self.rpc.call("eth_getLogs", [self._log_filter(start, end, addresses)])
        except RpcError as exc:
            if exc.filter_too_large and len(addresses) > 1:
                half = len(addresses) // 2
                self.log_addresses = min(self.log_addresses, half)
                log.info("chain=%s: getLogs with %d addresses refused (%s); at most %d per call from now on",
                         self.chain, len(addresses), exc.message[:80], self.log_addresses)
                return await self._logs_of(start, end, addresses[:half]) + await self._logs_of(start, end, addresses[half:])
            if not exc.range_too_large or start == end:
                raise
            mid = (start + end) // 2
            self.log_span = mid - start + 1
            log.info("chain=%s: getLogs %d..%d refused (%s); splitting", self.chain, start, end, exc.message[:80])
            return await self._logs_of(start, mid, addresses) + await self._logs_of(mid + 1, end, addresses)
        if not isinstance(result, list):
            raise MalformedResponse(self.chain, f"eth_getLogs returned {type(result).__name__}, not a list")
        return result

    async def _internal(
        self, start: int, end: int, watched: Mapping[str, int], headers: Mapping[int, BlockHeader] | None
    ) -> list[Any]:
        """Internal transfers of the range; ``headers`` of its blocks are fetched when not given."""
        flt = {"fromBlock": hex(start), "toBlock": hex(end), "toAddress": sorted(watched)}
        traces = await self.rpc.call("trace_filter", [flt])
        txids = mapping.internal_candidates(traces, watched, self.chain)
        if not txids:
            return []
        if headers is None:
            headers = {h.height: h for h in await self.headers(mapping.trace_heights(traces, self.chain))}
        full = await self.rpc.batch([("trace_transaction", [txid]) for txid in txids])
        out = []
        for txid, tx_traces in zip(txids, full):
            out.extend(mapping.trace_transfers(self.chain, txid, tx_traces, watched, headers, self.config.native_symbol, self.chain))
        return out


def _quantity(value: Any, method: str, source: str) -> int:
    if isinstance(value, RpcError):
        raise value
    try:
        return int(value, 16)
    except (TypeError, ValueError):
        raise MalformedResponse(source, f"{method} returned {value!r}, not a hex quantity") from None
