"""Driving a test anvil node: funded accounts, value transfers, the test ERC-20, mining and reorgs."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from tests.fakes.anvil import Anvil

CONTRACTS = Path(__file__).parent / "contracts"
TOKEN = json.loads((CONTRACTS / "TestToken.json").read_text())
FORWARDER = json.loads((CONTRACTS / "Forwarder.json").read_text())
ETH = 10**18
# Code that reverts whatever it is sent: PUSH1 0, PUSH1 0, REVERT.
REVERTING_CODE = "0x60006000fd"


def _call_data(signature: str, types: list[str], args: list[Any]) -> str:
    return "0x" + (function_signature_to_4byte_selector(signature) + encode(types, args)).hex()


class DevChain:
    """Blocking helpers over an anvil node (set-up only; the code under test talks JSON-RPC itself)."""

    def __init__(self, node: Anvil) -> None:
        self.node = node
        self.url = node.url
        self.accounts = [to_checksum_address(a) for a in node.rpc("eth_accounts")]  # type: ignore[union-attr]

    def rpc(self, method: str, *params: Any) -> Any:
        return self.node.rpc(method, *params)

    def height(self) -> int:
        return int(self.rpc("eth_blockNumber"), 16)

    def mine(self, blocks: int = 1) -> None:
        self.rpc("anvil_mine", hex(blocks))

    def send(
        self, sender: str, to: str | None, value: int = 0, *, data: str = "0x", gas: int | None = None, wait: bool = True
    ) -> str:
        """Send a transaction from an unlocked (or impersonated) account; by default wait until it is mined."""
        tx: dict[str, Any] = {"from": sender, "value": hex(value), "data": data}
        if to is not None:
            tx["to"] = to
        if gas is not None:
            tx["gas"] = hex(gas)
        txid = str(self.rpc("eth_sendTransaction", tx))
        if wait:
            self.wait(txid)
        return txid

    def wait(self, txid: str, seconds: float = 10.0) -> dict[str, Any]:
        """The receipt, once anvil's automine has mined the transaction (it mines in the background)."""
        deadline = time.monotonic() + seconds
        while (receipt := self.receipt(txid)) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{txid} was not mined within {seconds}s")
            time.sleep(0.005)
        return receipt

    def receipt(self, txid: str) -> dict[str, Any]:
        return self.rpc("eth_getTransactionReceipt", txid)  # type: ignore[no-any-return]

    def deploy_token(self, symbol: str, decimals: int, *, deployer: str | None = None) -> str:
        """Deploy the test ERC-20 from its committed bytecode; returns its EIP-55 address."""
        args = encode(["string", "string", "uint8"], [f"Test {symbol}", symbol, decimals]).hex()
        txid = self.send(deployer or self.accounts[0], None, data=TOKEN["bytecode"] + args)
        return to_checksum_address(self.receipt(txid)["contractAddress"])

    def mint(self, token: str, to: str, amount: int) -> str:
        return self.send(self.accounts[0], token, data=_call_data("mint(address,uint256)", ["address", "uint256"], [to, amount]))

    def transfer_token(self, token: str, sender: str, to: str, amount: int, *, wait: bool = True) -> str:
        data = _call_data("transfer(address,uint256)", ["address", "uint256"], [to, amount])
        return self.send(sender, token, data=data, gas=100_000, wait=wait)

    def deploy_forwarder(self) -> str:
        """Deploy a contract whose forward(to) passes on the ETH it is sent (an internal transfer)."""
        txid = self.send(self.accounts[0], None, data=FORWARDER["bytecode"])
        return to_checksum_address(self.receipt(txid)["contractAddress"])

    def forward(self, forwarder: str, sender: str, to: str, value: int) -> str:
        data = _call_data("forward(address)", ["address"], [to])
        return self.send(sender, forwarder, value, data=data, gas=100_000)

    def impersonate(self, address: str, balance: int = 10 * ETH) -> None:
        self.rpc("anvil_setBalance", address, hex(balance))
        self.rpc("anvil_impersonateAccount", address)

    def set_code(self, address: str, code: str) -> None:
        self.rpc("anvil_setCode", address, code)

    def reorg(self, depth: int, txs: list[tuple[dict[str, Any], int]] = []) -> None:  # noqa: B006 - never mutated
        """Replace the last ``depth`` blocks; each (tx request, offset) goes into new block number offset."""
        self.rpc("anvil_reorg", depth, [[tx, offset] for tx, offset in txs])


def fresh_address(n: int) -> str:
    """A distinct, key-less address for a watched wallet."""
    return to_checksum_address(f"0x{0xD0_0000 + n:040x}")
