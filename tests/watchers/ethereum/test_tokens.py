"""ERC-20 donations found through eth_getLogs on a real anvil node."""

from __future__ import annotations

from ledger.database import Database
from tests.watchers.ethereum.conftest import WatcherFactory, add_wallet, senders, stored, totals
from tests.watchers.ethereum.devchain import DevChain, fresh_address
from watchers.evm_mapping import TokenSpec


def _spec(symbol: str, address: str, decimals: int) -> TokenSpec:
    return TokenSpec(symbol=symbol, address=address, decimals=decimals)


class TestTokenTransfers:
    async def test_allowlisted_token_with_its_decimals(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """A transfer of an allowlisted token is stored with the token's symbol, address, decimals, ordinal and log index."""
        usdt = dev.deploy_token("USDT", 6)
        wallet = fresh_address(20)
        wid = await add_wallet(db, wallet, start_height=1)
        donor = dev.accounts[3]
        dev.mint(usdt, donor, 10_000_000)
        txid = dev.transfer_token(usdt, donor, wallet, 1_500_000)
        log_index = int(dev.receipt(txid)["logs"][0]["logIndex"], 16)
        report = await make_watcher(tokens=(_spec("USDT", usdt, 6),)).poll()
        assert report.ok and report.new == 1
        (t,) = await stored(db)
        assert (t.txid, t.position, t.asset, t.token, t.decimals, t.amount) == (txid, 0, "USDT", usdt, 6, 1_500_000)
        assert t.log_index == log_index
        assert await senders(db, t.id) == [donor]
        assert await totals(db, wid) == {"USDT": (1_500_000, 0)}

    async def test_spam_token_is_ignored(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """A token outside the allowlist, even one with the same symbol, is not a donation."""
        usdt = dev.deploy_token("USDT", 6)
        fake = dev.deploy_token("USDT", 6)
        wallet = fresh_address(21)
        await add_wallet(db, wallet, start_height=1)
        dev.mint(fake, wallet, 10**12)
        dev.mint(fake, dev.accounts[3], 10**12)
        dev.transfer_token(fake, dev.accounts[3], wallet, 10**9)
        report = await make_watcher(tokens=(_spec("USDT", usdt, 6),)).poll()
        assert report.ok and await stored(db) == []

    async def test_zero_value_transfer_is_ignored(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """A zero-value transfer of an allowlisted token (address poisoning) is not a donation."""
        usdc = dev.deploy_token("USDC", 6)
        wallet = fresh_address(22)
        await add_wallet(db, wallet, start_height=1)
        dev.transfer_token(usdc, dev.accounts[4], wallet, 0)
        report = await make_watcher(tokens=(_spec("USDC", usdc, 6),)).poll()
        assert report.ok and await stored(db) == []

    async def test_token_transfer_between_two_watched_addresses(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """A token payment from one watched address to another is stored once, for the receiver."""
        dai = dev.deploy_token("DAI", 18)
        payer, payee = dev.accounts[5], fresh_address(23)
        await add_wallet(db, payer, start_height=1)
        payee_id = await add_wallet(db, payee, start_height=1)
        dev.mint(dai, payer, 5 * 10**18)
        txid = dev.transfer_token(dai, payer, payee, 2 * 10**18)
        await make_watcher(tokens=(_spec("DAI", dai, 18),)).poll()
        (t,) = [t for t in await stored(db) if t.txid == txid]
        assert (t.wallet_id, t.amount, t.decimals) == (payee_id, 2 * 10**18, 18)

    async def test_mint_to_a_watched_address_counts_with_the_zero_sender(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """Tokens minted straight to a watched address are stored with the zero address as sender."""
        usdc = dev.deploy_token("USDC", 6)
        wallet = fresh_address(24)
        await add_wallet(db, wallet, start_height=1)
        dev.mint(usdc, wallet, 42)
        await make_watcher(tokens=(_spec("USDC", usdc, 6),)).poll()
        (t,) = await stored(db)
        assert t.amount == 42 and await senders(db, t.id) == ["0x" + "0" * 40]
