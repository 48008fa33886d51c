"""Segwit address decoding with bech32 (BIP-173) and bech32m (BIP-350) checksums.

Written after BIP-350's reference code because the `bech32` package on PyPI stops at BIP-173
(no bech32m, so no taproot) and bip_utils costs ~0.3 s of import on every command.
"""

from __future__ import annotations

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_CONST = 1
_BECH32M_CONST = 0x2BC830A3
_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _polymod(values: list[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            chk ^= _GEN[i] if (top >> i) & 1 else 0
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]


def _convertbits(data: list[int], frombits: int, tobits: int) -> list[int]:
    acc, bits, out, maxv = 0, 0, [], (1 << tobits) - 1
    for value in data:
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if bits >= frombits or ((acc << (tobits - bits)) & maxv):
        raise ValueError("non-zero padding")
    return out


def encode(hrp: str, version: int, program: bytes) -> str:
    """The segwit address of (version, program): bech32 for v0, bech32m for v1+."""
    data = [version] + _convertbits_pad(list(program))
    const = _BECH32_CONST if version == 0 else _BECH32M_CONST
    poly = _polymod(_hrp_expand(hrp) + data + [0] * 6) ^ const
    checksum = [(poly >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(CHARSET[d] for d in data + checksum)


def _convertbits_pad(data: list[int]) -> list[int]:
    acc, bits, out = 0, 0, []
    for value in data:
        acc = (acc << 8) | value
        bits += 8
        while bits >= 5:
            bits -= 5
            out.append((acc >> bits) & 31)
    if bits:
        out.append((acc << (5 - bits)) & 31)
    return out


def decode(hrp: str, address: str) -> tuple[int, bytes]:
    """(witness version, program) of a lowercase segwit address of `hrp`; ValueError saying what is wrong."""
    if any(ord(c) < 33 or ord(c) > 126 for c in address) or address.lower() != address:
        raise ValueError("must be lowercase printable characters")
    pos = address.rfind("1")
    if pos < 1 or pos + 7 > len(address) or len(address) > 90:
        raise ValueError("separator or length out of range")
    if address[:pos] != hrp:
        raise ValueError(f"prefix {address[:pos]!r} is not {hrp!r}")
    if any(c not in CHARSET for c in address[pos + 1:]):
        raise ValueError("character outside the bech32 alphabet")
    data = [CHARSET.find(c) for c in address[pos + 1:]]
    const = _polymod(_hrp_expand(hrp) + data)
    if const not in (_BECH32_CONST, _BECH32M_CONST):
        raise ValueError("checksum does not match")
    version, program = data[0], bytes(_convertbits(data[1:-6], 5, 8))
    if version > 16 or not 2 <= len(program) <= 40:
        raise ValueError("witness version or program length out of range")
    if (version == 0) != (const == _BECH32_CONST):
        raise ValueError("v0 must use bech32 and v1+ bech32m (BIP-350)")
    return version, program
