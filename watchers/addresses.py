"""Address validation and canonical forms, by chain family, with checksums and network."""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

from watchers.errors import InvalidAddress

# Small, single-purpose codecs (watchers.segwit: BIP-173/350; base58: base58check; eth-hash: keccak
# for EIP-55) instead of bip_utils/eth_utils, whose imports cost ~0.4 s on every command.
_HEX40 = re.compile(r"0x[0-9a-fA-F]{40}\Z")


class ChainKind(StrEnum):
    """Address families the watchers know."""

    BITCOIN = "bitcoin"
    EVM = "evm"


# Base58Check version bytes and bech32 human-readable parts per Bitcoin network.
_BASE58_VERSIONS = {
    "mainnet": {0x00: "P2PKH", 0x05: "P2SH"},
    "testnet": {0x6F: "P2PKH", 0xC4: "P2SH"},
    "regtest": {0x6F: "P2PKH", 0xC4: "P2SH"},
}
_HRP = {"mainnet": "bc", "testnet": "tb", "regtest": "bcrt"}
BITCOIN_NETWORKS = tuple(_HRP)

# Letters from other scripts that look like the ASCII letters addresses are made of.
_LOOK_ALIKES = dict(zip(
    "аеорсхуіјѕԁһӏВЕКМНОРСТХАΑΒΕΖΗΙΚΜΝΟΡΤΥΧοναι",
    "aeopcxyijsdhlBEKMHOPCTXAABEZHIKMNOPTYXovai",
))  # fmt: skip


def looks_like_key_wallet(text: str) -> bool:
    """Whether the text is meant as an extended key or descriptor rather than a single address."""
    t = text.strip()
    return "(" in t or t[:4] in ("xpub", "ypub", "zpub", "tpub", "upub", "vpub")


def odd_character(text: str) -> str | None:
    """Name the first character an address cannot hold (invisible, or a non-ASCII look-alike), or None."""
    for i, ch in enumerate(text, start=1):
        if ch.isascii() and (ch.isprintable() and not ch.isspace()):
            continue
        code = f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed character')}"
        if unicodedata.category(ch) in ("Cf", "Zs", "Zl", "Zp", "Cc") or ch.isspace():
            return f"contains an invisible character at position {i}: {code}; delete it and type the address again"
        like = _LOOK_ALIKES.get(ch) or unicodedata.normalize("NFKC", ch)
        hint = f', a look-alike of "{like}"' if like.isascii() and like.isprintable() and like != ch else ""
        return f"contains a non-ASCII character at position {i}: {code}{hint}; type the address again in plain ASCII"
    return None


def _other_network(text: str, network: str) -> str | None:
    """The Bitcoin network an address of another network belongs to, judged by its prefix or version byte."""
    lower = text.lower()
    for net, hrp in sorted(_HRP.items(), key=lambda kv: -len(kv[1])):  # bcrt before bc
        if lower.startswith(hrp + "1"):
            return net if net != network else None
    try:
        payload = base58check_decode(text)
    except ValueError:  # not base58check at all: no network to name
        return None
    if len(payload) == 21:
        nets = [n for n, versions in _BASE58_VERSIONS.items() if payload[0] in versions and n != network]
        if nets and payload[0] not in _BASE58_VERSIONS[network]:
            return "/".join(nets)
    return None


def _wrong_network(found: str, network: str) -> str:
    return (f"it is a Bitcoin {found} address, and this chain watches {network}: use a {network} address, "
            f'or set network = "{found.split("/")[0]}" on the chain')


def bitcoin_address(value: str, network: str = "mainnet") -> str:
    """The canonical form of a Bitcoin address (lowercase for bech32), or InvalidAddress.

    Accepts P2PKH and P2SH (base58check) and witness v0 (P2WPKH, P2WSH, bech32) and v1+ (P2TR,
    bech32m) addresses of the given network, with their checksums checked.
    """
    chain = f"Bitcoin {network}" if network != "mainnet" else "Bitcoin"
    if network not in _HRP:
        raise ValueError(f"unknown Bitcoin network {network!r} (one of {', '.join(_HRP)})")
    text = value.strip()
    if not text:
        raise InvalidAddress(chain, value, "empty")
    odd = odd_character(text)
    if odd:
        raise InvalidAddress(chain, value, odd)
    other = _other_network(text, network)
    if other:
        raise InvalidAddress(chain, value, _wrong_network(other, network))
    hrp = _HRP[network]
    if text.lower().startswith(hrp + "1"):
        if text != text.lower() and text != text.upper():
            raise InvalidAddress(chain, value, "bech32 must not mix upper and lower case")
        try:
            version, program = segwit_decode(hrp, text.lower())
        except ValueError as exc:
            raise InvalidAddress(chain, value, f"bad bech32/bech32m: {exc}") from None
        if version == 0 and len(program) not in (20, 32):
            raise InvalidAddress(chain, value, "witness v0 program must be 20 or 32 bytes")
        if version == 1 and len(program) != 32:
            raise InvalidAddress(chain, value, "taproot program must be 32 bytes")
        return text.lower()
    try:
        payload = base58check_decode(text)
    except ValueError as exc:
        expected = f"base58check P2PKH/P2SH or bech32 starting {hrp}1"
        raise InvalidAddress(chain, value, f"{expected}; {exc}") from None
    if len(payload) != 21 or payload[0] not in _BASE58_VERSIONS[network]:
        raise InvalidAddress(chain, value, f"base58check version byte {payload[0]:#04x} is not {network} P2PKH/P2SH")
    return text


def evm_address(value: str) -> str:
    """The EIP-55 form of an EVM address, or InvalidAddress.

    0x + 40 hex digits; a mixed-case address must carry a valid EIP-55 checksum (all-lower and
    all-upper carry none and are accepted).
    """
    text = value.strip()
    odd = odd_character(text)
    if odd:
        raise InvalidAddress("Ethereum", value, odd)
    if not _HEX40.match(text):
        raise InvalidAddress("Ethereum", value, "0x + 40 hex digits")
    body = text[2:]
    canonical_form = eip55(text)
    if body != body.lower() and body != body.upper() and text != canonical_form:
        raise InvalidAddress("Ethereum", value, f"mixed case fails the EIP-55 checksum; did you mean {canonical_form}?")
    return canonical_form


def is_evm_hex(text: str) -> bool:
    """Whether ``text`` is 0x and 40 hex digits (any case), the shape of an EVM address."""
    return _HEX40.match(text) is not None


def eip55(text: str) -> str:
    """The EIP-55 mixed-case form of a 0x + 40 hex digit address (not validated here)."""
    from eth_hash.auto import keccak

    body = text[2:].lower()
    digest = keccak(body.encode("ascii")).hex()
    return "0x" + "".join(c.upper() if int(d, 16) >= 8 else c for c, d in zip(body, digest))


def segwit_decode(hrp: str, text: str) -> tuple[int, bytes]:
    """(witness version, program) of a segwit address with its bech32/bech32m checksum checked (ValueError if bad)."""
    from watchers.segwit import decode

    return decode(hrp, text)


def base58check_decode(text: str) -> bytes:
    """The payload of a base58check string with its checksum checked (ValueError if bad)."""
    import base58

    try:
        return base58.b58decode_check(text)
    except ValueError as exc:
        raise ValueError(f"bad base58check ({exc})") from None


def canonical(kind: ChainKind | str, value: str, *, network: str = "mainnet") -> str:
    """Validate ``value`` for a chain family and return its canonical form."""
    if ChainKind(kind) is ChainKind.BITCOIN:
        return bitcoin_address(value, network)
    return evm_address(value)
