"""Explorer leads checked against the RPC node: only what the node itself shows becomes a transfer.

An explorer record says "transaction X in block N paid the wallet". Nothing of it is stored as
said: the transaction, its receipt (status 1, the block it is in), the canonical block at that
height (the receipt's block hash must be it), the receipt's own Transfer logs, or the
transaction's own traces are fetched from the configured node, and the transfers are built from
those through the same mapping as the block scanner (``watchers.evm_mapping``). A record the
node does not confirm (unknown hash, failed transaction, no payment to the wallet, a token
outside the allowlist) is rejected and counted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ledger.writes import TransferIn
from watchers import evm_mapping as mapping
from watchers.scanned import BlockHeader
from watchers.errors import MalformedResponse
from watchers.evm_rpc import RpcError
from watchers.evm_source import EvmSource

log = logging.getLogger(__name__)


@dataclass
class Checked:
    """What a set of leads came to: the transfers the node confirms, and how many leads it did not."""

    transfers: list[TransferIn] = field(default_factory=list)
    rejected: int = 0
    rejected_txids: list[str] = field(default_factory=list)


def _lower(value: Any) -> str:
    return str(value or "").lower()


def lead_txids(action: str, records: Iterable[dict[str, Any]], address: str, tokens: Mapping[str, Any]) -> list[str]:
    """Transactions an explorer page says paid ``address`` (lowercase), in order, once each.

    Outgoing records, zero values and tokens outside the allowlist are no leads at all.
    """
    out: dict[str, None] = {}
    for r in records:
        if _lower(r.get("to")) != address or str(r.get("value", "0")) in ("0", ""):
            continue
        if action == "tokentx" and _lower(r.get("contractAddress")) not in tokens:
            continue
        txid = _lower(r.get("hash") or r.get("transactionHash"))
        if txid.startswith("0x"):
            out[txid] = None
    return list(out)


async def check_leads(source: EvmSource, action: str, txids: list[str], watched: Mapping[str, int]) -> Checked:
    """The transfers into ``watched`` that the node shows for the lead transactions of one action."""
    checked = Checked()
    if not txids:
        return checked
    chain = source.chain
    calls: list[tuple[str, list[Any]]] = []
    for txid in txids:
        calls.append(("eth_getTransactionByHash", [txid]))
        calls.append(("eth_getTransactionReceipt", [txid]))
        if action == "txlistinternal":
            calls.append(("trace_transaction", [txid]))
    width = 3 if action == "txlistinternal" else 2
    results = await source.rpc.batch_results(calls)
    rows: list[tuple[str, Any, Any, Any]] = []
    for i, txid in enumerate(txids):
        tx, receipt = results[i * width], results[i * width + 1]
        traces = results[i * width + 2] if width == 3 else None
        for item in (tx, receipt):
            if isinstance(item, RpcError):
                raise item
        if isinstance(traces, RpcError):
            if traces.method_missing:
                log.warning("chain=%s: the node has no trace_transaction; internal transfers from the explorer cannot be checked", chain)
                traces = None
            else:
                raise traces
        if not isinstance(tx, dict) or not isinstance(receipt, dict) or _quantity(receipt.get("status")) != 1:
            _reject(checked, txid, "unknown to the node or failed")
            continue
        rows.append((txid, tx, receipt, traces))
    heights = sorted({_quantity(r[2].get("blockNumber")) for r in rows})
    headers: dict[int, BlockHeader] = {}
    if heights:
        headers = {h.height: h for h in await source.headers(heights)}
    for txid, tx, receipt, traces in rows:
        head = headers[_quantity(receipt.get("blockNumber"))]
        if _lower(receipt.get("blockHash")) != head.hash:
            raise MalformedResponse(chain, f"receipt of {txid} is in block {receipt.get('blockHash')}, not the node's {head.hash}; the chain moved, retry")
        found = _transfers(source, action, tx, receipt, traces, head, watched)
        if found:
            checked.transfers.extend(found)
        else:
            _reject(checked, txid, "pays no watched address on the node")
    return checked


def _transfers(
    source: EvmSource, action: str, tx: dict[str, Any], receipt: dict[str, Any], traces: Any, head: BlockHeader, watched: Mapping[str, int]
) -> list[TransferIn]:
    chain, symbol = source.chain, source.config.native_symbol
    if action == "txlist":
        if _lower(tx.get("to")) not in watched or _quantity(tx.get("value")) <= 0:
            return []
        item = mapping.native_transfer(chain, tx, receipt, head, watched, symbol, chain)
        return [item] if item is not None else []
    if action == "tokentx":
        logs = receipt.get("logs")
        if not isinstance(logs, list):
            raise MalformedResponse(chain, f"receipt of {tx.get('hash')} has no logs list")
        out = []
        for entry in logs:
            item = mapping.token_transfer(chain, entry, source.tokens, watched, {head.height: head}, chain)
            if item is not None:
                out.append(item)
        return out
    if traces is None:
        return []
    return mapping.trace_transfers(chain, _lower(tx.get("hash")), traces, watched, {head.height: head}, symbol, chain)


def _reject(checked: Checked, txid: str, why: str) -> None:
    log.warning("explorer lead rejected txid=%s: %s", txid, why)
    checked.rejected += 1
    checked.rejected_txids.append(txid)


def _quantity(value: Any) -> int:
    try:
        return int(value, 16) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        return -1
