"""Bitcoin wallets watched by extended public key: xpub/ypub/zpub or an output descriptor, to addresses.

BTCPay's main mode: instead of one address, an account's extended public key, from which the
receive (``/0/i``) and change (``/1/i``) addresses are derived (BIP-32, non-hardened). The script
type comes from the descriptor (``pkh(...)``, ``sh(wpkh(...))``, ``wpkh(...)``, ``tr(...)``) or,
for a bare key, from its SLIP-132 version: ``xpub``/``tpub`` P2PKH, ``ypub``/``upub`` P2SH-P2WPKH,
``zpub``/``vpub`` P2WPKH. Taproot outputs use the BIP-86 key tweak. Derivation is bip-utils'.

The canonical form kept as the wallet's address is the descriptor with the key in standard
``xpub``/``tpub`` encoding and no origin or checksum, e.g. ``wpkh(xpub6C...)``: one spelling per
wallet, whatever the operator pasted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bip_utils import Base58Decoder, Base58Encoder, Bip32Secp256k1, P2PKHAddr, P2SHAddr, P2TRAddr, P2WPKHAddr

from watchers.addresses import looks_like_key_wallet  # noqa: F401 - kept importable from here
from watchers.errors import InvalidAddress

RECEIVE, CHANGE = 0, 1
SCRIPTS = ("pkh", "sh-wpkh", "wpkh", "tr")

# SLIP-132 version bytes of extended public keys: (network family, default script).
_VERSIONS: dict[bytes, tuple[str, str]] = {
    bytes.fromhex("0488b21e"): ("mainnet", "pkh"),  # xpub
    bytes.fromhex("049d7cb2"): ("mainnet", "sh-wpkh"),  # ypub
    bytes.fromhex("04b24746"): ("mainnet", "wpkh"),  # zpub
    bytes.fromhex("043587cf"): ("testnet", "pkh"),  # tpub
    bytes.fromhex("044a5262"): ("testnet", "sh-wpkh"),  # upub
    bytes.fromhex("045f1cf6"): ("testnet", "wpkh"),  # vpub
}
_STANDARD = {"mainnet": bytes.fromhex("0488b21e"), "testnet": bytes.fromhex("043587cf")}
_HRP = {"mainnet": "bc", "testnet": "tb", "regtest": "bcrt"}
_P2PKH = {"mainnet": b"\x00", "testnet": b"\x6f", "regtest": b"\x6f"}
_P2SH = {"mainnet": b"\x05", "testnet": b"\xc4", "regtest": b"\xc4"}
_WRAPPERS = {"pkh": "pkh({})", "sh-wpkh": "sh(wpkh({}))", "wpkh": "wpkh({})", "tr": "tr({})"}
_DESCRIPTOR = re.compile(
    r"^(?P<outer>pkh|wpkh|tr|sh\(wpkh)\((?:\[[0-9a-fA-F]{8}(?:/[0-9]+['hH]?)*\])?(?P<key>[1-9A-HJ-NP-Za-km-z]+)"
    r"(?P<path>(?:/<0;1>/\*|/0/\*|/\*)?)\)\)?$"
)


@dataclass(frozen=True, slots=True)
class KeyWallet:
    """An extended public key and the script its addresses use."""

    script: str
    xpub: str  # standard xpub/tpub encoding
    network: str

    @property
    def canonical(self) -> str:
        """The one spelling of this wallet, as stored: ``wpkh(xpub...)`` and the like."""
        return _WRAPPERS[self.script].format(self.xpub)


def parse_key_wallet(text: str, network: str = "mainnet") -> KeyWallet:
    """An extended public key or descriptor (with its checksum, origin and ``/<0;1>/*`` allowed), checked."""
    chain = f"Bitcoin {network}" if network != "mainnet" else "Bitcoin"
    raw = text.strip().split("#", 1)[0].replace(" ", "")
    script: str | None = None
    key = raw
    if "(" in raw:
        m = _DESCRIPTOR.match(raw)
        if m is None or (m.group("outer") == "sh(wpkh") != raw.endswith("))"):
            raise InvalidAddress(chain, text, "expected pkh(KEY), sh(wpkh(KEY)), wpkh(KEY) or tr(KEY) with KEY an xpub and at most /<0;1>/* after it")
        script = {"pkh": "pkh", "wpkh": "wpkh", "tr": "tr", "sh(wpkh": "sh-wpkh"}[m.group("outer")]
        key = m.group("key")
    try:
        payload = Base58Decoder.CheckDecode(key)
    except Exception as exc:  # noqa: BLE001 - bip_utils raises several unrelated types
        raise InvalidAddress(chain, text, f"not a base58check extended key ({exc})") from None
    if len(payload) != 78 or payload[:4] not in _VERSIONS:
        raise InvalidAddress(chain, text, "not an extended PUBLIC key (xpub, ypub, zpub, tpub, upub or vpub); never paste a private key")
    family, default_script = _VERSIONS[payload[:4]]
    if (family == "mainnet") != (network == "mainnet"):
        raise InvalidAddress(chain, text, f"a {family} key on a {network} chain")
    standard = Base58Encoder.CheckEncode(_STANDARD[family] + payload[4:])
    try:
        Bip32Secp256k1.FromExtendedKey(standard)
    except Exception as exc:  # noqa: BLE001
        raise InvalidAddress(chain, text, f"not a valid extended key ({exc})") from None
    return KeyWallet(script or default_script, standard, network)


@lru_cache(maxsize=64)
def _branch(xpub: str, branch: int) -> Bip32Secp256k1:
    return Bip32Secp256k1.FromExtendedKey(xpub, _net(xpub)).ChildKey(branch)


def _net(xpub: str):  # type: ignore[no-untyped-def]
    from bip_utils import Bip32KeyNetVersions

    return Bip32KeyNetVersions(Base58Decoder.CheckDecode(xpub)[:4], bytes.fromhex("0488ade4"))


def derive(wallet: KeyWallet, branch: int, index: int) -> str:
    """The address at ``/branch/index`` (branch 0 receive, 1 change)."""
    pub = _branch(wallet.xpub, branch).ChildKey(index).PublicKey().KeyObject()
    net = wallet.network
    if wallet.script == "wpkh":
        return P2WPKHAddr.EncodeKey(pub, hrp=_HRP[net])
    if wallet.script == "tr":
        return P2TRAddr.EncodeKey(pub, hrp=_HRP[net])
    if wallet.script == "sh-wpkh":
        return P2SHAddr.EncodeKey(pub, net_ver=_P2SH[net])
    return P2PKHAddr.EncodeKey(pub, net_ver=_P2PKH[net])


def derive_range(wallet: KeyWallet, branch: int, start: int, count: int) -> list[str]:
    """Addresses ``/branch/start .. /branch/start+count-1``."""
    return [derive(wallet, branch, i) for i in range(start, start + count)]
