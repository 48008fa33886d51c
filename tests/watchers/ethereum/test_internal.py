"""Internal ETH transfers (paid by a contract) found through anvil's trace_filter when traces are on."""

from __future__ import annotations

from ledger.database import Database
from tests.watchers.ethereum.conftest import WatcherFactory, add_wallet, senders, stored
from tests.watchers.ethereum.devchain import ETH, DevChain, fresh_address


class TestInternalTransfers:
    async def test_contract_payment_is_stored_when_traces_are_on(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """ETH a contract passes on to a watched address is stored, with the contract as sender and a trace position."""
        forwarder = dev.deploy_forwarder()
        wallet = fresh_address(70)
        wid = await add_wallet(db, wallet, start_height=1)
        txid = dev.forward(forwarder, dev.accounts[2], wallet, 2 * ETH)
        assert dev.receipt(txid)["status"] == "0x1"
        report = await make_watcher(traces=True).poll()
        assert report.ok
        (t,) = await stored(db)
        assert (t.txid, t.wallet_id, t.amount, t.asset) == (txid, wid, 2 * ETH, "ETH")
        assert t.position == -3  # trace 0 is the transaction's own call, trace 1 the forwarded payment
        assert await senders(db, t.id) == [forwarder]

    async def test_contract_payment_is_not_seen_with_traces_off(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """With traces off (the default) internal transfers are not looked for."""
        forwarder = dev.deploy_forwarder()
        wallet = fresh_address(71)
        await add_wallet(db, wallet, start_height=1)
        dev.forward(forwarder, dev.accounts[2], wallet, ETH)
        report = await make_watcher().poll()
        assert report.ok and await stored(db) == []

    async def test_direct_payment_is_not_counted_twice_with_traces_on(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """A plain payment shows in traces as a top-level call; it is stored once, as the transaction's value."""
        wallet = fresh_address(72)
        await add_wallet(db, wallet, start_height=1)
        txid = dev.send(dev.accounts[1], wallet, ETH)
        await make_watcher(traces=True).poll()
        assert [(t.txid, t.position) for t in await stored(db)] == [(txid, -1)]
