"""Raw EVM JSON-RPC objects (blocks, transactions, receipts, logs, traces) to ledger transfers, in one place.

Every field read from a node goes through here, so a missing or ill-typed field becomes one
MalformedResponse naming the object and the field, never a KeyError deep in the loop.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from functools import lru_cache
from datetime import datetime, timezone
from typing import Any

from ledger.sightings import TransferIn
from watchers.evm_config import TokenSpec
from watchers.addresses import eip55, is_evm_hex
from watchers.scanned import BlockHeader
from watchers.errors import MalformedResponse

log = logging.getLogger(__name__)

# keccak256("Transfer(address,address,uint256)"), the ERC-20 Transfer event's topic 0.
TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
# Positions (see ledger.models.Transfer): a transaction's own value, and internal transfers below it
# (token transfers count 0, 1, ... among their transaction's logs of one token to one wallet).
NATIVE_POSITION = -1


@lru_cache(maxsize=65_536)
def to_checksum_address(address: str) -> str:
    """EIP-55 form of an address, remembered: senders repeat, and each keccak costs ~0.1 ms.

    ValueError when it is not 0x and 40 hex digits.
    """
    if not is_evm_hex(address):
        raise ValueError(f"{address!r} is not an address (0x + 40 hex digits)")
    return eip55(address)


def _field(obj: Any, name: str, what: str, source: str) -> Any:
    if not isinstance(obj, dict) or name not in obj:
        raise MalformedResponse(source, f"{what} has no {name!r} field")
    return obj[name]


def _int(obj: Any, name: str, what: str, source: str) -> int:
    value = _field(obj, name, what, source)
    if isinstance(value, int) and not isinstance(value, bool):
        return value  # trace_* methods give block numbers as plain JSON numbers
    try:
        return int(value, 16)
    except (TypeError, ValueError):
        raise MalformedResponse(source, f"{what}.{name} is {value!r}, not a hex quantity") from None


def _hash(obj: Any, name: str, what: str, source: str) -> str:
    value = _field(obj, name, what, source)
    if not isinstance(value, str) or not value.startswith("0x"):
        raise MalformedResponse(source, f"{what}.{name} is {value!r}, not a 0x hash")
    return value.lower()


def topic_for(address_lower: str) -> str:
    """An address as a 32-byte indexed event topic."""
    return "0x" + "0" * 24 + address_lower[2:]


def header(block: Any, source: str, height: int) -> BlockHeader:
    """A block's height, hash, parent hash and time."""
    what = f"block {height}"
    if block is None:
        raise MalformedResponse(source, f"{what} is not known to the node (null); it may lag behind")
    number = _int(block, "number", what, source)
    if number != height:
        raise MalformedResponse(source, f"asked for block {height}, got block {number}")
    stamp = _int(block, "timestamp", what, source)
    return BlockHeader(
        height=number,
        hash=_hash(block, "hash", what, source),
        parent_hash=_hash(block, "parentHash", what, source),
        time=datetime.fromtimestamp(stamp, timezone.utc),
    )


def native_candidates(block: Any, watched: Mapping[str, int], source: str) -> list[dict[str, Any]]:
    """The block's transactions that send a positive value to a watched address (status not yet known)."""
    txs = _field(block, "transactions", "block", source)
    out: list[dict[str, Any]] = []
    for tx in txs:
        if not isinstance(tx, dict):
            raise MalformedResponse(source, "block transactions are hashes; ask for full transactions")
        to = tx.get("to")
        if to is not None and to.lower() in watched and tx.get("value") not in (None, "0x0", "0x"):
            out.append(tx)
    return out


def native_transfer(
    chain: str, tx: Any, receipt: Any, head: BlockHeader, watched: Mapping[str, int], symbol: str, source: str
) -> TransferIn | None:
    """The transfer a successful value-carrying transaction made, or None when it failed."""
    txid = _hash(tx, "hash", "transaction", source)
    what = f"receipt of {txid}"
    if receipt is None:
        raise MalformedResponse(source, f"{what} is missing (null)")
    if _hash(receipt, "blockHash", what, source) != head.hash:
        raise MalformedResponse(source, f"{what} is in block {receipt.get('blockHash')}, not {head.hash}; the chain moved")
    if _int(receipt, "status", what, source) != 1:
        log.debug("failed transaction ignored chain=%s txid=%s", chain, txid)
        return None
    amount = _int(tx, "value", f"transaction {txid}", source)
    to = str(_field(tx, "to", f"transaction {txid}", source)).lower()
    sender = str(_field(tx, "from", f"transaction {txid}", source))
    return TransferIn(
        chain=chain,
        txid=txid,
        position=NATIVE_POSITION,
        wallet_id=watched[to],
        asset=symbol,
        decimals=18,
        amount=amount,
        senders=(to_checksum_address(sender),),
        block_height=head.height,
        block_hash=head.hash,
        block_time=head.time,
    )


def _erc20_recipient(entry: Any, source: str) -> tuple[str, str] | None:
    """(token contract, recipient), both lowercase, of a live ERC-20 Transfer log; None for anything else."""
    if entry.get("removed"):
        return None
    topics = _field(entry, "topics", "log", source)
    if len(topics) != 3 or str(topics[0]).lower() != TRANSFER_TOPIC:
        return None  # not an ERC-20 Transfer (ERC-721 has a fourth topic)
    return str(_field(entry, "address", "log", source)).lower(), "0x" + str(topics[2])[-40:].lower()


def token_transfers(
    chain: str,
    logs: Sequence[Any],
    tokens: Mapping[str, TokenSpec],
    watched: Mapping[str, int],
    headers: Mapping[int, BlockHeader],
    source: str,
) -> list[TransferIn]:
    """The donations a range's Transfer logs record, each with its ordinal as position.

    A log's index in its block changes when a reorg re-includes the transaction elsewhere; its
    ordinal among the transaction's own Transfer logs of that token to that wallet does not. The
    logs of a range hold every such log of their transactions (a transaction sits in one block,
    and the filter asks for every watched wallet and allowlisted token), zero values included.
    """
    ordered = sorted(logs, key=lambda e: (_int(e, "blockNumber", "log", source), _int(e, "logIndex", "log", source)))
    seen: dict[tuple[str, str, str], int] = {}
    out: list[TransferIn] = []
    for entry in ordered:
        pair = _erc20_recipient(entry, source)
        if pair is None:
            continue
        key = (_hash(entry, "transactionHash", "log", source), *pair)
        ordinal = seen.get(key, 0)
        seen[key] = ordinal + 1
        item = token_transfer(chain, entry, tokens, watched, headers, source, ordinal=ordinal)
        if item is not None:
            out.append(item)
    return out


def token_transfer(
    chain: str,
    entry: Any,
    tokens: Mapping[str, TokenSpec],
    watched: Mapping[str, int],
    headers: Mapping[int, BlockHeader],
    source: str,
    *,
    ordinal: int = 0,
) -> TransferIn | None:
    """The donation an ERC-20 Transfer log records (``ordinal`` as its position), or None for spam tokens and zero values."""
    what = "log"
    pair = _erc20_recipient(entry, source)
    if pair is None:
        return None
    contract, to = pair
    topics = entry["topics"]
    txid = _hash(entry, "transactionHash", what, source)
    token = tokens.get(contract)
    data = _field(entry, "data", what, source)
    try:
        amount = int(data, 16) if data not in ("0x", "") else 0
    except (TypeError, ValueError):
        raise MalformedResponse(source, f"log data of {txid} is {data!r}, not a uint256") from None
    if token is None or amount == 0 or to not in watched:
        log.debug("ignored token transfer chain=%s txid=%s token=%s amount=%s (not allowlisted or zero)", chain, txid, contract, amount)
        return None
    height = _int(entry, "blockNumber", what, source)
    head = headers.get(height)
    if head is None:
        raise MalformedResponse(source, f"log of {txid} is in block {height}, outside the scanned range")
    if _hash(entry, "blockHash", what, source) != head.hash:
        raise MalformedResponse(source, f"log of {txid} is in block {entry.get('blockHash')}, not {head.hash}; the chain moved")
    sender = "0x" + str(topics[1])[-40:]
    return TransferIn(
        chain=chain,
        txid=txid,
        position=ordinal,
        wallet_id=watched[to],
        asset=token.symbol,
        decimals=token.decimals,
        amount=amount,
        senders=(to_checksum_address(sender),),
        token=token.address,
        block_height=head.height,
        block_hash=head.hash,
        block_time=head.time,
        log_index=_int(entry, "logIndex", what, source),
    )


def _internal_value_call(trace: Any, watched: Mapping[str, int], source: str) -> bool:
    """A successful nested call moving value into a watched address (not the transaction's own call)."""
    action = trace.get("action") or {}
    if trace.get("type") != "call" or trace.get("error") or not trace.get("traceAddress"):
        return False  # the top-level call is the transaction's own value, counted from the block
    if action.get("callType") not in (None, "call"):
        return False  # delegatecall/staticcall move no value of their own
    value = action.get("value")
    return str(action.get("to", "")).lower() in watched and value not in (None, "0x0", "0x", 0)


def trace_heights(traces: Any, source: str) -> list[int]:
    """The distinct block heights of trace_filter results, in order."""
    if not isinstance(traces, list):
        raise MalformedResponse(source, f"trace_filter returned {type(traces).__name__}, not a list")
    return sorted({_int(trace, "blockNumber", "trace", source) for trace in traces})


def internal_candidates(traces: Any, watched: Mapping[str, int], source: str) -> list[str]:
    """Transactions (in order) whose filtered traces show an internal payment to a watched address."""
    if not isinstance(traces, list):
        raise MalformedResponse(source, f"trace_filter returned {type(traces).__name__}, not a list")
    found = [_hash(t, "transactionHash", "trace", source) for t in traces if _internal_value_call(t, watched, source)]
    return list(dict.fromkeys(found))


def trace_transfers(
    chain: str, txid: str, tx_traces: Any, watched: Mapping[str, int], headers: Mapping[int, BlockHeader], symbol: str, source: str
) -> list[TransferIn]:
    """Internal value transfers into watched addresses in one transaction's full trace list.

    The position is -2 minus the trace's index in the transaction's whole trace list (as
    trace_transaction gives it), so it does not depend on which addresses were watched.
    """
    if not isinstance(tx_traces, list):
        raise MalformedResponse(source, f"trace_transaction of {txid} returned {type(tx_traces).__name__}, not a list")
    out: list[TransferIn] = []
    for index, trace in enumerate(tx_traces):
        if not _internal_value_call(trace, watched, source):
            continue
        action = trace["action"]
        height = _int(trace, "blockNumber", "trace", source)
        head = headers.get(height)
        if head is None or _hash(trace, "blockHash", "trace", source) != head.hash:
            raise MalformedResponse(source, f"trace of {txid} is not in the scanned block {height}; the chain moved")
        out.append(
            TransferIn(
                chain=chain,
                txid=txid,
                position=-2 - index,
                wallet_id=watched[str(action["to"]).lower()],
                asset=symbol,
                decimals=18,
                amount=_int(action, "value", f"trace of {txid}", source),
                senders=(to_checksum_address(str(action.get("from"))),),
                block_height=head.height,
                block_hash=head.hash,
                block_time=head.time,
            )
        )
    return out
