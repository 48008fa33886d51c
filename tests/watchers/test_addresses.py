"""Address validation by chain family: checksums, networks and canonical forms."""

from __future__ import annotations

import pytest

from watchers.addresses import bitcoin_address, canonical, evm_address
from watchers.errors import InvalidAddress


class TestBitcoinAddresses:
    @pytest.mark.parametrize(
        "address",
        [
            "357a3So9CbsNfBBgFYACGvxxS6tMaDoa1P",  # P2SH, Ukraine's published donation address
            "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",  # P2PKH, the genesis coinbase address
            "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",  # P2WPKH
            "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",  # P2WSH (BIP173)
            "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297",  # P2TR (BIP86)
        ],
    )
    def test_valid_mainnet_addresses_pass(self, address: str) -> None:
        """Every mainnet address type with a good checksum is accepted as it is."""
        assert bitcoin_address(address) == address

    def test_bech32_upper_case_is_lowered(self) -> None:
        """An all-upper bech32 address is valid and stored lowercase."""
        assert bitcoin_address("BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ") == "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"

    @pytest.mark.parametrize(
        ("address", "reason"),
        [
            ("357a3So9CbsNfBBgFYACGvxxS6tMaDoa1Q", "checksum"),
            ("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdx", "bech32"),
            ("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", "testnet address, and this chain watches mainnet"),
            ("0x165CD37b4C644C2921454429E7F9358d18A45e14", "base58check"),
            ("", "empty"),
        ],
    )
    def test_invalid_addresses_say_why(self, address: str, reason: str) -> None:
        """A bad checksum, the wrong network or another chain's address is refused with a reason."""
        with pytest.raises(InvalidAddress, match=reason):
            bitcoin_address(address)


class TestEvmAddresses:
    def test_checksummed_address_passes(self) -> None:
        """A mixed-case address with a valid EIP-55 checksum is accepted as it is."""
        assert evm_address("0x165CD37b4C644C2921454429E7F9358d18A45e14") == "0x165CD37b4C644C2921454429E7F9358d18A45e14"

    def test_lowercase_address_is_checksummed(self) -> None:
        """An all-lowercase address carries no checksum and comes back in EIP-55 form."""
        assert evm_address("0x165cd37b4c644c2921454429e7f9358d18a45e14") == "0x165CD37b4C644C2921454429E7F9358d18A45e14"

    def test_bad_checksum_is_refused_with_the_right_form(self) -> None:
        """A mixed-case address with a wrong checksum is refused and the fix is named."""
        with pytest.raises(InvalidAddress, match="EIP-55.*0x165CD37b4C644C2921454429E7F9358d18A45e14"):
            evm_address("0x165cD37b4C644C2921454429E7F9358d18A45e14")

    @pytest.mark.parametrize("address", ["0x12", "165CD37b4C644C2921454429E7F9358d18A45e14", "0x" + "g" * 40])
    def test_not_an_address(self, address: str) -> None:
        """Short, unprefixed or non-hex strings are refused as not 0x + 40 hex digits."""
        with pytest.raises(InvalidAddress, match="0x \\+ 40 hex digits"):
            evm_address(address)

    def test_canonical_dispatches_by_kind(self) -> None:
        """canonical() picks the validator from the chain family."""
        assert canonical("evm", "0x165cd37b4c644c2921454429e7f9358d18a45e14").startswith("0x165CD")
        assert canonical("bitcoin", "357a3So9CbsNfBBgFYACGvxxS6tMaDoa1P") == "357a3So9CbsNfBBgFYACGvxxS6tMaDoa1P"
