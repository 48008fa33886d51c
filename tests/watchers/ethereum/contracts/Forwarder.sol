// SPDX-License-Identifier: MIT
// Forwards the ETH it is sent to another address: an internal transfer, visible only in traces
// (as when a multisig or an exchange contract pays a donation address).
pragma solidity 0.8.28;

contract Forwarder {
    function forward(address payable to) external payable {
        (bool ok, ) = to.call{value: msg.value}("");
        require(ok, "forward failed");
    }
}
