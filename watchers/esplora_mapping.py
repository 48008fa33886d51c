"""Esplora transaction JSON -> the ledger's TransferIn, in one place.

One transfer per (transaction, watched address): the sum of the outputs paying the address, at
the lowest such output index. Senders are the distinct addresses of the spent outputs (a
coinbase input has none; a script without an address adds none). A transaction that spends
from the watched address is the wallet paying out: its change back to the wallet is no donation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ledger.models import TransferStatus
from ledger.writes import TransferIn
from watchers.esplora_client import TxStatus, parse_status
from watchers.errors import MalformedResponse

ASSET = "BTC"
DECIMALS = 8


@dataclass(frozen=True, slots=True)
class TxView:
    """What the watcher needs of one Esplora transaction, checked for shape."""

    txid: str
    status: TxStatus
    paid: int  # satoshi paid to the address (sum of its outputs)
    position: int | None  # lowest output index paying the address; None when none does
    spends_from: bool  # an input spends an output of the address
    senders: tuple[str, ...]


def read_tx(source: str, tx: Any, address: str) -> TxView:
    """Check one transaction's shape and read what it does for ``address``; MalformedResponse otherwise."""
    if not isinstance(tx, dict):
        raise MalformedResponse(source, "a transaction is not a JSON object")
    txid = tx.get("txid")
    if not isinstance(txid, str) or len(txid) != 64:
        raise MalformedResponse(source, f"transaction without a 64-hex txid ({str(txid)[:80]!r})")
    vin, vout = tx.get("vin"), tx.get("vout")
    if not isinstance(vin, list) or not isinstance(vout, list):
        raise MalformedResponse(source, f"tx {txid}: vin/vout are not arrays")
    status = parse_status(source, f"tx {txid}", tx.get("status"))

    senders: dict[str, None] = {}
    spends_from = False
    for i, txin in enumerate(vin):
        if not isinstance(txin, dict):
            raise MalformedResponse(source, f"tx {txid}: vin[{i}] is not an object")
        prevout = txin.get("prevout")
        if prevout is None:
            if txin.get("is_coinbase") is True:
                continue
            raise MalformedResponse(source, f"tx {txid}: vin[{i}] has no prevout and is not a coinbase input")
        if not isinstance(prevout, dict):
            raise MalformedResponse(source, f"tx {txid}: vin[{i}].prevout is not an object")
        sender = prevout.get("scriptpubkey_address")
        if sender is None:
            continue
        if not isinstance(sender, str):
            raise MalformedResponse(source, f"tx {txid}: vin[{i}].prevout.scriptpubkey_address is not text")
        spends_from = spends_from or sender == address
        senders[sender] = None

    paid = 0
    position: int | None = None
    for n, txout in enumerate(vout):
        if not isinstance(txout, dict):
            raise MalformedResponse(source, f"tx {txid}: vout[{n}] is not an object")
        value = txout.get("value")
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise MalformedResponse(source, f"tx {txid}: vout[{n}].value is not a satoshi count")
        if txout.get("scriptpubkey_address") == address:
            paid += value
            position = n if position is None else position
    return TxView(txid, status, paid, position, spends_from, tuple(senders))


def status_at(block_height: int | None, tip: int | None, confirmations: int) -> TransferStatus:
    """Confirmed once the block is ``confirmations`` deep (the tip's block is 1 deep), else pending."""
    if block_height is None or tip is None:
        return TransferStatus.PENDING
    return TransferStatus.CONFIRMED if tip - block_height + 1 >= confirmations else TransferStatus.PENDING


def block_time(status: TxStatus) -> datetime | None:
    """The block's timestamp as tz-aware UTC."""
    return None if status.block_time is None else datetime.fromtimestamp(status.block_time, tz=timezone.utc)


def to_transfer(
    view: TxView, *, chain: str, wallet_id: int, tip: int | None, confirmations: int
) -> TransferIn | None:
    """The donation this transaction makes to the wallet, or None (pays nothing to it, or a payout)."""
    if view.position is None or view.spends_from or view.paid == 0:
        return None
    return TransferIn(
        chain=chain,
        txid=view.txid,
        position=view.position,
        wallet_id=wallet_id,
        asset=ASSET,
        decimals=DECIMALS,
        amount=view.paid,
        senders=view.senders,
        block_height=view.status.block_height,
        block_hash=view.status.block_hash,
        block_time=block_time(view.status),
        status=status_at(view.status.block_height, tip, confirmations),
    )
