"""Address formats and comparison keys: what matches what, and what is refused."""

from __future__ import annotations

import pytest

from screening.errors import InvalidScreeningAddress
from screening.normalize import AddressFormat, comparison_key, detect, fast_key, validate_query


class TestComparisonKey:
    def test_evm_compares_lowercase(self) -> None:
        """An EIP-55 mixed-case and an all-lowercase spelling of one EVM address share a key."""
        mixed = "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"
        assert comparison_key(mixed) == comparison_key(mixed.lower()) == mixed.lower()

    def test_bech32_compares_lowercase(self) -> None:
        """A bech32 address typed in capitals (as QR codes do) matches its lowercase form."""
        low = "bc1q05aktddf9ce4p7hh3stgsf253m4vweu7nkhtmw"
        assert comparison_key(low.upper()) == low

    def test_base58_compares_exactly(self) -> None:
        """Base58 keeps its case: changing one letter's case is another address."""
        addr = "149w62rY42aZBox8fGcmqNsXUzSStKeq8C"
        assert comparison_key(addr) == addr
        assert comparison_key(addr.lower()) != addr

    def test_surrounding_whitespace_is_stripped(self) -> None:
        """Spaces, tabs and CR/LF around an address do not change its key."""
        assert comparison_key(" \t149w62rY42aZBox8fGcmqNsXUzSStKeq8C\r\n") == "149w62rY42aZBox8fGcmqNsXUzSStKeq8C"

    def test_non_ascii_look_alike_is_refused(self) -> None:
        """An address with a Cyrillic 'а' (U+0430) is refused, naming the character."""
        with pytest.raises(InvalidScreeningAddress, match="U\\+0430"):
            comparison_key("0x098B716B8\u0430af21512996dC57EB0615e2383E2f96")

    def test_inner_space_and_empty_are_refused(self) -> None:
        """Empty text and text with inner spaces are no address."""
        for bad in ("", "   ", "149w62rY42a ZBox8fGcmqNsXUzSStKeq8C"):
            with pytest.raises(InvalidScreeningAddress):
                comparison_key(bad)


class TestFormats:
    def test_formats_are_detected(self) -> None:
        """EVM, bech32, TRON, base58 and other formats are told apart by their text."""
        assert detect("0x098B716B8Aaf21512996dC57EB0615e2383E2f96") is AddressFormat.EVM
        assert detect("bc1q05aktddf9ce4p7hh3stgsf253m4vweu7nkhtmw") is AddressFormat.BECH32
        assert detect("TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq") is AddressFormat.TRON
        assert detect("149w62rY42aZBox8fGcmqNsXUzSStKeq8C") is AddressFormat.BASE58
        assert detect("rPT1Sjq2YGrBMTttX4GZHjKu9dyfzbpAYe") is AddressFormat.BASE58
        assert detect("0x12") is AddressFormat.OTHER

    def test_fast_key_agrees_with_comparison_key(self) -> None:
        """The lookup fast path gives the same key, and None instead of raising."""
        for text in ("0x098B716B8Aaf21512996dC57EB0615e2383E2f96", "BC1Q05AKTDDF9CE4P7HH3STGSF253M4VWEU7NKHTMW",
                     "149w62rY42aZBox8fGcmqNsXUzSStKeq8C", " 149w62rY42aZBox8fGcmqNsXUzSStKeq8C "):
            assert fast_key(text) == comparison_key(text)
        assert fast_key("0x098B716B8\u0430af21512996dC57EB0615e2383E2f96") is None


class TestQueries:
    def test_bad_evm_checksum_is_refused_with_a_hint(self) -> None:
        """A mixed-case EVM address failing EIP-55 is refused and the right spelling suggested."""
        with pytest.raises(InvalidScreeningAddress, match="did you mean 0x098B716B8Aaf21512996dC57EB0615e2383E2f96"):
            validate_query("0x098b716B8Aaf21512996dC57EB0615e2383E2f96")

    def test_short_hex_and_bad_base58_checksum_are_refused(self) -> None:
        """0x12 is no EVM address, and a base58 typo fails its checksum."""
        with pytest.raises(InvalidScreeningAddress, match="0x \\+ 40 hex"):
            validate_query("0x12")
        with pytest.raises(InvalidScreeningAddress, match="checksum"):
            validate_query("149w62rY42aZBox8fGcmqNsXUzSStKeq8D")

    def test_valid_queries_pass(self) -> None:
        """Real EVM, bech32, base58 and TRON addresses are accepted with their key."""
        assert validate_query("0x098b716b8aaf21512996dc57eb0615e2383e2f96")[1] is AddressFormat.EVM
        assert validate_query("bc1q05aktddf9ce4p7hh3stgsf253m4vweu7nkhtmw")[1] is AddressFormat.BECH32
        assert validate_query("149w62rY42aZBox8fGcmqNsXUzSStKeq8C")[1] is AddressFormat.BASE58
        assert validate_query("TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq")[1] is AddressFormat.TRON
