"""Mapping raw JSON-RPC objects to transfers: bad fields become one clear MalformedResponse (no node needed)."""

from __future__ import annotations

import json
from datetime import timezone
from pathlib import Path

import pytest

from watchers.scanned import BlockHeader
from watchers.errors import MalformedResponse
from watchers.evm_mapping import (
    TRANSFER_TOPIC,
    TokenSpec,
    header,
    internal_candidates,
    native_transfer,
    token_transfer,
    topic_for,
    trace_transfers,
)

WALLET = "0x0000000000000000000000000000000000d00001"
TOKEN = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
DONOR = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
HEAD = BlockHeader(height=5, hash="0x" + "ab" * 32, parent_hash="0x" + "cd" * 32)
WATCHED = {WALLET: 7}
TOKENS = {TOKEN.lower(): TokenSpec("USDC", TOKEN, 6)}


def _block(**over: object) -> dict[str, object]:
    block: dict[str, object] = {"number": "0x5", "hash": HEAD.hash, "parentHash": HEAD.parent_hash, "timestamp": "0x6553f100", "transactions": []}
    block.update(over)
    return block


def _log(**over: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "address": TOKEN.lower(),
        "topics": [TRANSFER_TOPIC, topic_for(DONOR), topic_for(WALLET)],
        "data": "0x" + f"{1_500_000:064x}",
        "blockNumber": "0x5",
        "blockHash": HEAD.hash,
        "transactionHash": "0x" + "11" * 32,
        "logIndex": "0x3",
        "removed": False,
    }
    entry.update(over)
    return entry


class TestHeaders:
    def test_block_header_fields(self) -> None:
        """A block maps to its height, lowercase hashes and a UTC time."""
        h = header(_block(), "node", 5)
        assert (h.height, h.hash, h.parent_hash) == (5, HEAD.hash, HEAD.parent_hash)
        assert h.time is not None and h.time.tzinfo == timezone.utc

    def test_unknown_block_says_the_node_may_lag(self) -> None:
        """A null block is reported as unknown to the node, naming its height."""
        with pytest.raises(MalformedResponse, match="block 5 is not known"):
            header(None, "node", 5)

    def test_missing_field_is_named(self) -> None:
        """A block without a hash names the missing field."""
        block = _block()
        del block["hash"]
        with pytest.raises(MalformedResponse, match="block 5 has no 'hash' field"):
            header(block, "node", 5)

    def test_wrong_block_number_is_refused(self) -> None:
        """A node answering with another block than asked is caught."""
        with pytest.raises(MalformedResponse, match="asked for block 6, got block 5"):
            header(_block(), "node", 6)


class TestTokenLogs:
    def test_allowlisted_transfer(self) -> None:
        """An allowlisted Transfer log to a watched address maps to the token's symbol, decimals, ordinal and log index."""
        t = token_transfer("ethereum", _log(), TOKENS, WATCHED, {5: HEAD}, "node")
        assert t is not None
        assert (t.wallet_id, t.asset, t.decimals, t.amount, t.position, t.token) == (7, "USDC", 6, 1_500_000, 0, TOKEN)
        assert t.log_index == 3

    def test_erc721_transfer_is_not_a_token_donation(self) -> None:
        """An NFT Transfer (a fourth, indexed token id topic) is ignored."""
        entry = _log(topics=[TRANSFER_TOPIC, topic_for(DONOR), topic_for(WALLET), "0x" + "00" * 31 + "01"], data="0x")
        assert token_transfer("ethereum", entry, TOKENS, WATCHED, {5: HEAD}, "node") is None

    def test_log_from_another_branch_is_caught(self) -> None:
        """A log whose block hash differs from the scanned block means the chain moved under the scan."""
        with pytest.raises(MalformedResponse, match="the chain moved"):
            token_transfer("ethereum", _log(blockHash="0x" + "ee" * 32), TOKENS, WATCHED, {5: HEAD}, "node")

    def test_garbage_amount_is_named(self) -> None:
        """Log data that is not a number is reported with the transaction."""
        with pytest.raises(MalformedResponse, match="not a uint256"):
            token_transfer("ethereum", _log(data="0xzz"), TOKENS, WATCHED, {5: HEAD}, "node")


class TestNativeReceipts:
    def test_receipt_from_another_block_is_caught(self) -> None:
        """A receipt in another block than the scanned one means the chain moved under the scan."""
        tx = {"hash": "0x" + "22" * 32, "to": WALLET, "from": DONOR, "value": "0x1"}
        receipt = {"status": "0x1", "blockHash": "0x" + "ee" * 32}
        with pytest.raises(MalformedResponse, match="the chain moved"):
            native_transfer("ethereum", tx, receipt, HEAD, WATCHED, "ETH", "node")

    def test_missing_receipt_is_malformed(self) -> None:
        """A null receipt for a mined transaction is an error, not a silent skip."""
        tx = {"hash": "0x" + "22" * 32, "to": WALLET, "from": DONOR, "value": "0x1"}
        with pytest.raises(MalformedResponse, match="missing"):
            native_transfer("ethereum", tx, None, HEAD, WATCHED, "ETH", "node")


class TestRecordedMainnetTraces:
    """Block 1,000,000 of Ethereum mainnet, as a real node traced it (see data/SOURCE.md)."""

    TRACES = json.loads((Path(__file__).parent / "data" / "trace_block_1000000.json").read_text())["result"]
    RECEIVER = "0xc083e9947cf02b8ffc7d3090ae9aea72df98fd47"

    def test_callcode_and_top_level_calls_are_not_internal_transfers(self) -> None:
        """A contract's callcode to itself and the transaction's own call are not internal donations."""
        assert internal_candidates(self.TRACES, {self.RECEIVER: 1}, "node") == []

    def test_reward_traces_without_a_transaction_are_skipped(self) -> None:
        """A block-reward trace (no transaction hash, no call) does not break the mapping."""
        watched = {"0x2a65aca4d5fc5b5c859090a6c34d164135398226": 1, "0xdf190dc7190dfba737d7777a163445b7fff16133": 2}
        assert internal_candidates(self.TRACES, watched, "node") == []
        assert trace_transfers("ethereum", "0xea10", self.TRACES, watched, {}, "ETH", "node") == []
