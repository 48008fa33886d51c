"""The JSON-RPC transport over web3's public provider API: ids, batching and reply matching.

These tests fail if web3 changes how it numbers a batch or orders its replies underneath us.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.watchers.ethereum.conftest import FAST_RETRY
from tests.watchers.ethereum.devchain import DevChain
from watchers.errors import MalformedResponse
from watchers.evm_rpc import RpcClient


async def _heights(client: RpcClient, heights: list[int]) -> list[int]:
    blocks = await client.batch([("eth_getBlockByNumber", [hex(h), False]) for h in heights])
    return [int(b["number"], 16) for b in blocks]


class TestBatchIds:
    async def test_batch_calls_carry_distinct_increasing_integer_ids(self, dev: DevChain, proxy: Any) -> None:
        """Every batch the client sends numbers its calls with distinct, increasing integers."""
        dev.mine(3)
        client = RpcClient([proxy.url], retry=FAST_RETRY)
        try:
            await _heights(client, [0, 1, 2, 3])
            await _heights(client, [3, 2])
        finally:
            await client.close()
        batches = [p for p in proxy.payloads if isinstance(p, list)]
        assert len(batches) == 2
        for batch in batches:
            ids = [call["id"] for call in batch]
            assert all(isinstance(i, int) for i in ids)
            assert ids == sorted(set(ids))

    async def test_replies_in_any_order_reach_their_own_calls(self, dev: DevChain, proxy: Any) -> None:
        """A node answering a batch in reverse order still gives each call its own result."""
        dev.mine(5)
        proxy.reverse_batches = True
        client = RpcClient([proxy.url], retry=FAST_RETRY)
        try:
            assert await _heights(client, [5, 1, 3, 0]) == [5, 1, 3, 0]
        finally:
            await client.close()

    async def test_a_missing_reply_is_malformed_not_shifted(self, dev: DevChain, proxy: Any) -> None:
        """A batch answer with a reply left out is refused, never matched to the wrong calls."""
        dev.mine(3)
        proxy.drop_reply = True
        client = RpcClient([proxy.url], retry=FAST_RETRY)
        try:
            with pytest.raises(MalformedResponse, match="3 replies to a batch of 4 calls"):
                await _heights(client, [0, 1, 2, 3])
        finally:
            await client.close()
