"""Extended-key (xpub / descriptor) wallets: derivation against published vectors, and a gap-limit window
that grows as addresses get used, synced through the Esplora fake as one wallet."""

from __future__ import annotations

import pytest

from ledger.database import Database
from ledger.derived_addresses import derived_addresses, next_unused_receive_address
from ledger.queries import totals
from tests.fakes.esplora import EsploraFake, fake_address, make_tx
from tests.watchers.bitcoin.conftest import transfers, watch
from watchers.bitcoin import BitcoinWatcher
from watchers.descriptors import CHANGE, RECEIVE, derive, parse_key_wallet
from watchers.errors import InvalidAddress

# Published test vectors, all from the BIP-39 mnemonic "abandon abandon ... abandon about", account 0.
# BIP-84 (https://github.com/bitcoin/bips/blob/master/bip-0084.mediawiki#test-vectors)
ZPUB = "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs"
BIP84 = {(0, 0): "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", (0, 1): "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g",
         (1, 0): "bc1q8c6fshw2dlwun7ekn9qwf37cu2rn755upcp6el"}
# BIP-86 (https://github.com/bitcoin/bips/blob/master/bip-0086.mediawiki#test-vectors)
BIP86_XPUB = "xpub6BgBgsespWvERF3LHQu6CnqdvfEvtMcQjYrcRzx53QJjSxarj2afYWcLteoGVky7D3UKDP9QyrLprQ3VCECoY49yfdDEHGCtMMj92pReUsQ"
BIP86 = {(0, 0): "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr",
         (0, 1): "bc1p4qhjn9zdvkux4e44uhx8tc55attvtyu358kutcqkudyccelu0was9fqzwh",
         (1, 0): "bc1p3qkhfews2uk44qtvauqyr2ttdsw7svhkl9nkm9s9c3x4ax5h60wqwruhk7"}
# BIP-49 account 0 of the same mnemonic, mainnet (as wallets implementing BIP-49 derive it).
YPUB = "ypub6Ww3ibxVfGzLrAH1PNcjyAWenMTbbAosGNB6VvmSEgytSER9azLDWCxoJwW7Ke7icmizBMXrzBx9979FfaHxHcrArf3zbeJJJUZPf663zsP"
BIP49_RECEIVE_0 = "37VucYSaXLCAsxYyAPfbSi9eh4iEcbShgf"
# BIP-32 test vector 2: the master public key and its non-hardened child m/0.
BIP32_MASTER = "xpub661MyMwAqRbcFW31YEwpkMuc5THy2PSt5bDMsktWQcFF8syAmRUapSCGu8ED9W6oDMSgv6Zz8idoc4a6mr8BDzTJY47LJhkJ8UB7WEGuduB"
BIP32_CHILD_0 = "xpub69H7F5d8KSRgmmdJg2KhpAK8SR3DjMwAdkxj3ZuxV27CprR9LgpeyGmXUbC6wb7ERfvrnKZjXoUmmDznezpbZb7ap6r1D3tgFxHmwMkQTPH"


class TestDerivation:
    def test_bip84_zpub_receive_and_change(self) -> None:
        """A zpub derives BIP-84's published P2WPKH receive and change addresses."""
        wallet = parse_key_wallet(ZPUB)
        assert {k: derive(wallet, *k) for k in BIP84} == BIP84

    def test_bip86_taproot_descriptor(self) -> None:
        """tr(xpub) derives BIP-86's published taproot addresses (key tweaked, bech32m)."""
        wallet = parse_key_wallet(f"tr({BIP86_XPUB}/<0;1>/*)")
        assert {k: derive(wallet, *k) for k in BIP86} == BIP86

    def test_ypub_and_sh_wpkh_descriptor_agree(self) -> None:
        """A ypub and sh(wpkh(...)) of the same key are one wallet with the BIP-49 P2SH-P2WPKH addresses."""
        ypub = parse_key_wallet(YPUB)
        described = parse_key_wallet(f"sh(wpkh([73c5da0a/49h/0h/0h]{ypub.xpub}/<0;1>/*))#qwertyui")
        assert ypub == described and derive(ypub, RECEIVE, 0) == BIP49_RECEIVE_0

    def test_bip32_public_child_derivation(self) -> None:
        """The BIP-32 vector-2 master xpub's child m/0 is the published extended key."""
        from bip_utils import Bip32Secp256k1

        assert Bip32Secp256k1.FromExtendedKey(BIP32_MASTER).ChildKey(0).PublicKey().ToExtended() == BIP32_CHILD_0
        assert parse_key_wallet(BIP32_CHILD_0).script == "pkh"  # a bare xpub is P2PKH (SLIP-132)

    def test_zpub_and_wpkh_descriptor_have_one_canonical_form(self) -> None:
        """Whatever the operator pastes, the stored form is wpkh(xpub...)."""
        wallet = parse_key_wallet(ZPUB)
        assert wallet.canonical.startswith("wpkh(xpub") and parse_key_wallet(wallet.canonical) == wallet

    @pytest.mark.parametrize("text, reason", [
        ("xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi", "PUBLIC"),
        ("wpkh(tpubD6NzVbkrYhZ4XgiXtGrdW5XDAPFCL9h7we1vwNCpn8tGbBcgfVYjXyhWo4E1xkh56hjod1RhGjxbaTLV3X4FyWuejifB9jusQ46QzG87VKp)", "testnet"),
        ("wsh(multi(2,xpub1,xpub2))", "expected"),
    ])
    def test_bad_input_is_one_clear_error(self, text: str, reason: str) -> None:
        """A private key, a key of another network, or an unsupported descriptor is refused, saying why."""
        with pytest.raises(InvalidAddress, match=reason):
            parse_key_wallet(text)


class TestGapLimit:
    async def test_window_grows_as_addresses_get_used_and_all_count_as_one_wallet(
        self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher
    ) -> None:
        """Payments to receive/0, receive/19 and (beyond the first window) receive/35 are all found in one poll, as one wallet."""
        key = parse_key_wallet(ZPUB)
        wid = await watch(db, key.canonical)
        paid = {i: fake.add_tx(make_tx([(fake_address(500 + i), 60_000)], [(derive(key, RECEIVE, i), 50_000 + i)])) for i in (0, 19, 35)}
        fake.mine()
        report = await watcher.poll()
        assert report.ok, report.errors
        rows = await transfers(db, wid)
        assert sorted(t.txid for t in rows) == sorted(paid.values())
        async with db.session() as s:
            addresses = await derived_addresses(s, wid)
            (total,) = await totals(s, wallet_id=wid)
            unused = await next_unused_receive_address(s, wid)
        assert max(a.index for a in addresses if a.branch == RECEIVE) == 35 + 20
        assert max(a.index for a in addresses if a.branch == CHANGE) == 19
        assert total.with_pending == 50_000 * 3 + 0 + 19 + 35
        assert unused == derive(key, RECEIVE, 36)

    async def test_own_change_is_not_a_donation(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """A transaction from one derived address to the wallet's change address is the wallet's own, not a donation."""
        key = parse_key_wallet(ZPUB)
        wid = await watch(db, key.canonical)
        donation = fake.add_tx(make_tx([(fake_address(600), 90_000)], [(derive(key, RECEIVE, 0), 80_000)]))
        fake.add_tx(make_tx([(derive(key, RECEIVE, 0), 80_000)], [(fake_address(601), 30_000), (derive(key, CHANGE, 0), 49_000)]))
        fake.mine()
        assert (await watcher.poll()).ok
        assert [t.txid for t in await transfers(db, wid)] == [donation]

    async def test_quiet_poll_costs_one_request_per_address(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """Once synced, a poll with nothing new asks each of the 40 window addresses once and derives nothing more."""
        key = parse_key_wallet(ZPUB)
        await watch(db, key.canonical)
        assert (await watcher.poll()).ok
        report = await watcher.poll()
        assert report.ok and report.requests <= 40 + 2
