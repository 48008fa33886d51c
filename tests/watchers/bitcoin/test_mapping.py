"""Esplora transaction JSON -> TransferIn, on recorded real transactions and on refused shapes."""

from __future__ import annotations

import copy
from datetime import datetime, timezone

import pytest

from ledger.models import TransferStatus
from tests.fakes.esplora import recorded
from watchers.errors import MalformedResponse
from watchers.esplora_mapping import read_tx, status_at, to_transfer

PAYOUT = "payout_with_change_40ba6b3c.json"


def _confirmed(doc: dict, height: int = 800_000) -> dict:  # type: ignore[type-arg]
    doc = copy.deepcopy(doc)
    doc["status"] = {"confirmed": True, "block_height": height, "block_hash": "00" * 32, "block_time": 1_700_000_000}
    return doc


class TestRecordedTransactions:
    def test_payee_of_a_real_payout_gets_one_transfer(self) -> None:
        """The payee of 40ba6b3c... gets 6,796,193 sat at output 0 from the single sender."""
        view = read_tx("test", _confirmed(recorded(PAYOUT)), "bc1qeekqhvqysgqk6yn9w96tv35v6qwlvss7vuvtj0")
        item = to_transfer(view, chain="bitcoin", wallet_id=1, tip=800_005, confirmations=6)
        assert item is not None
        assert (item.position, item.amount, item.senders, item.asset, item.decimals) == (0, 6_796_193, ("1PvVJ5FvkNnsatmD4nfkb6j59CjKq7dxxy",), "BTC", 8)
        assert item.status == TransferStatus.CONFIRMED and item.block_time == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)

    def test_sender_of_a_real_payout_gets_nothing_for_its_change(self) -> None:
        """The change output back to the spending address is not a donation."""
        view = read_tx("test", _confirmed(recorded(PAYOUT)), "1PvVJ5FvkNnsatmD4nfkb6j59CjKq7dxxy")
        assert view.spends_from and view.paid == 9_813_917
        assert to_transfer(view, chain="bitcoin", wallet_id=1, tip=800_000, confirmations=6) is None

    def test_unconfirmed_real_transaction_is_pending_without_block(self) -> None:
        """A recorded unconfirmed status (no block fields) maps to pending with no block."""
        doc = recorded("rbf_original_242f3fff.json")
        doc["status"] = {"confirmed": False}
        item = to_transfer(read_tx("test", doc, "bc1p5t79edz9w4fcnmkjjk4e6k2tp7kd8cqggz37gal60sp9gyk9x72sk4mk0f"),
                           chain="bitcoin", wallet_id=1, tip=900_000, confirmations=1)
        assert item is not None and (item.amount, item.block_height, item.status) == (49_394, None, TransferStatus.PENDING)

    def test_depth_counts_the_tip_block_as_one(self) -> None:
        """A block at the tip has depth 1; depth 6 is confirmed at 6 confirmations, depth 5 is not."""
        assert status_at(100, 105, 6) == TransferStatus.CONFIRMED
        assert status_at(100, 104, 6) == TransferStatus.PENDING
        assert status_at(100, 100, 1) == TransferStatus.CONFIRMED
        assert status_at(None, 100, 1) == TransferStatus.PENDING


class TestRefusedShapes:
    @pytest.mark.parametrize(
        "mangle",
        [
            lambda d: d.pop("vout"),
            lambda d: d["vout"][0].__setitem__("value", "6796193"),
            lambda d: d["vout"][0].__setitem__("value", 1.5),
            lambda d: d["vin"][0].__setitem__("prevout", None),
            lambda d: d.__setitem__("status", {"confirmed": True}),
            lambda d: d.__setitem__("status", None),
            lambda d: d.__setitem__("txid", "abc"),
        ],
        ids=["no-vout", "value-as-text", "value-as-float", "null-prevout-not-coinbase", "confirmed-without-block", "no-status", "short-txid"],
    )
    def test_wrong_shape_is_malformed(self, mangle) -> None:  # type: ignore[no-untyped-def]
        """A transaction that is not the shape the API promises is MalformedResponse, never a guess."""
        doc = _confirmed(recorded(PAYOUT))
        mangle(doc)
        with pytest.raises(MalformedResponse):
            read_tx("test", doc, "bc1qeekqhvqysgqk6yn9w96tv35v6qwlvss7vuvtj0")
