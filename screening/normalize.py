"""Address formats and the comparison key sanctions lists are matched on.

Lists are matched by address FORMAT, not by the list's asset label: every 0x address is one EVM
key whatever chain or token it was filed under; bech32 compares lowercase; base58 (Bitcoin
P2PKH/P2SH, TRON, and other base58 chains) compares exactly. Non-ASCII text is refused outright,
because published lists have carried look-alike (homoglyph) characters.
"""

from __future__ import annotations

import re
from enum import StrEnum

from screening.errors import InvalidScreeningAddress
from watchers.addresses import evm_address, odd_character
from watchers.errors import InvalidAddress


class AddressFormat(StrEnum):
    """The families of address text a list can hold."""

    EVM = "evm"
    BECH32 = "bech32"
    TRON = "tron"
    BASE58 = "base58"
    OTHER = "other"


_EVM = re.compile(r"0x[0-9a-fA-F]{40}\Z")
# human-readable part, separator "1", data in the bech32 charset (checked on the lowercase form).
_BECH32 = re.compile(r"[a-z]{1,83}1[02-9ac-hj-np-z]{6,}\Z")
_BASE58 = re.compile(r"[1-9A-HJ-NP-Za-km-z]{25,}\Z")
_TRON = re.compile(r"T[1-9A-HJ-NP-Za-km-z]{33}\Z")
_OTHER = re.compile(r"[0-9A-Za-z:_.\-]{8,200}\Z")


def detect(text: str) -> AddressFormat:
    """The format of an already stripped, ASCII address."""
    if _EVM.match(text):
        return AddressFormat.EVM
    if text.startswith("0x"):
        return AddressFormat.OTHER
    lower = text.lower()
    if (text == lower or text == text.upper()) and _BECH32.match(lower):
        return AddressFormat.BECH32
    if _TRON.match(text):
        return AddressFormat.TRON
    if _BASE58.match(text):
        return AddressFormat.BASE58
    return AddressFormat.OTHER


def comparison_key(value: str) -> str:
    """The key two spellings of one address share; InvalidScreeningAddress when it cannot be one.

    Strips surrounding whitespace; refuses empty text, non-ASCII and inner whitespace.
    """
    text = value.strip()
    if not text:
        raise InvalidScreeningAddress(value, "empty")
    odd = odd_character(text)
    if odd:
        raise InvalidScreeningAddress(value, odd)
    if not _OTHER.match(text):
        raise InvalidScreeningAddress(value, "expected 8-200 letters and digits without spaces")
    fmt = detect(text)
    if fmt is AddressFormat.EVM or fmt is AddressFormat.BECH32:
        return text.lower()
    return text


def fast_key(value: str) -> str | None:
    """``comparison_key`` for the hot lookup path: None instead of an exception."""
    if value.isascii():
        if value[:2] == "0x" and len(value) == 42:
            return value.lower()
        lower = value.lower()
        if (value == lower or value == value.upper()) and _BECH32.match(lower):
            return lower
        if value.strip() == value and value:
            return value
    try:
        return comparison_key(value)
    except InvalidScreeningAddress:
        return None


def validate_query(value: str) -> tuple[str, AddressFormat]:
    """A screening query checked strictly (checksums where the format has one): (key, format).

    An operator typing an address deserves to hear about a typo rather than "not listed".
    """
    text = value.strip()
    if text.startswith(("0x", "0X")) and not _EVM.match(text):
        raise InvalidScreeningAddress(value, "an EVM address is 0x + 40 hex digits")
    key = comparison_key(value)
    fmt = detect(text)
    if fmt is AddressFormat.EVM:
        try:
            evm_address(text)  # the EIP-55 rule the config and the watchers use
        except InvalidAddress as exc:
            raise InvalidScreeningAddress(value, exc.reason) from None
    elif fmt is AddressFormat.BECH32 and key.startswith(("bc1", "tb1", "bcrt1")):
        _check_bech32(value, key)
    elif fmt in (AddressFormat.BASE58, AddressFormat.TRON) and len(text) <= 40:
        _check_base58(value, text)
    elif fmt is AddressFormat.OTHER and len(text) < 20:
        raise InvalidScreeningAddress(value, "not an EVM (0x...), bech32 or base58 address")
    return key, fmt


def _check_bech32(value: str, key: str) -> None:
    from watchers.addresses import segwit_decode

    hrp = key.split("1", 1)[0] if not key.startswith("bcrt1") else "bcrt"
    try:
        segwit_decode(hrp, key)
    except ValueError as exc:
        raise InvalidScreeningAddress(value, f"bad bech32/bech32m checksum: {exc}") from None


def _check_base58(value: str, text: str) -> None:
    from watchers.addresses import base58check_decode

    try:
        base58check_decode(text)
    except ValueError as exc:
        raise InvalidScreeningAddress(value, f"bad base58check checksum: {exc}") from None
