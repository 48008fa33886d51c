"""The JSON-RPC transports (web3's public provider API, and the same POST over aiohttp): ids, batching,
reply matching, and what each imports.

These tests fail if web3 changes how it numbers a batch or orders its replies underneath us, or if
the aiohttp transport stops behaving as web3's does.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.watchers.ethereum.conftest import FAST_RETRY
from tests.watchers.ethereum.devchain import DevChain
from watchers.errors import MalformedResponse
from watchers.evm_rpc import TRANSPORTS, RpcClient, Transport


async def _heights(client: RpcClient, heights: list[int]) -> list[int]:
    blocks = await client.batch([("eth_getBlockByNumber", [hex(h), False]) for h in heights])
    return [int(b["number"], 16) for b in blocks]


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> Transport:
    """Each transport in turn."""
    return request.param  # type: ignore[no-any-return]


class TestBatchIds:
    async def test_batch_calls_carry_distinct_increasing_integer_ids(self, dev: DevChain, proxy: Any, transport: Transport) -> None:
        """Every batch the client sends numbers its calls with distinct, increasing integers."""
        dev.mine(3)
        client = RpcClient([proxy.url], retry=FAST_RETRY, transport=transport)
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

    async def test_replies_in_any_order_reach_their_own_calls(self, dev: DevChain, proxy: Any, transport: Transport) -> None:
        """A node answering a batch in reverse order still gives each call its own result."""
        dev.mine(5)
        proxy.reverse_batches = True
        client = RpcClient([proxy.url], retry=FAST_RETRY, transport=transport)
        try:
            assert await _heights(client, [5, 1, 3, 0]) == [5, 1, 3, 0]
        finally:
            await client.close()

    async def test_a_missing_reply_is_malformed_not_shifted(self, dev: DevChain, proxy: Any, transport: Transport) -> None:
        """A batch answer with a reply left out is refused, never matched to the wrong calls."""
        dev.mine(3)
        proxy.drop_reply = True
        client = RpcClient([proxy.url], retry=FAST_RETRY, transport=transport)
        try:
            with pytest.raises(MalformedResponse, match="3 replies to a batch of 4 calls"):
                await _heights(client, [0, 1, 2, 3])
        finally:
            await client.close()


class TestTransports:
    def test_the_aiohttp_transport_never_imports_web3(self) -> None:
        """A client on the aiohttp transport is built and used without importing web3 (a second of start-up)."""
        import subprocess
        import sys
        from pathlib import Path

        code = ("import asyncio, sys\nfrom watchers.evm_rpc import RpcClient\n"
                "c = RpcClient(['http://127.0.0.1:9'], transport='aiohttp')\nasyncio.run(c.close())\nprint('web3' in sys.modules)")
        out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[3], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "False"

    def test_an_unknown_transport_is_refused(self) -> None:
        """A transport name that does not exist is a programming error, said at once."""
        with pytest.raises(ValueError, match="unknown RPC transport 'curl'"):
            RpcClient(["http://127.0.0.1:9"], transport="curl")  # type: ignore[arg-type]

    async def test_both_transports_give_the_same_results_and_errors(self, dev: DevChain) -> None:
        """The same batch (a good call beside a failing one) gives the same results and RpcError on each transport."""
        dev.mine(2)
        calls: list[tuple[str, list[Any]]] = [("eth_getBlockByNumber", ["0x1", False]), ("eth_noSuchMethod", [])]
        answers = []
        for name in TRANSPORTS:
            client = RpcClient([dev.url], retry=FAST_RETRY, transport=name)
            try:
                answers.append(await client.batch_results(calls))
            finally:
                await client.close()
        (web3_block, web3_err), (plain_block, plain_err) = answers
        assert web3_block == plain_block and int(plain_block["number"], 16) == 1
        assert (type(web3_err), web3_err.code, web3_err.method) == (type(plain_err), plain_err.code, plain_err.method)
