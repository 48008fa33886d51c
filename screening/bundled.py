"""The snapshot shipped with the package: OFAC's addresses of 2025-11-19, in force until a real download."""

from __future__ import annotations

import hashlib
from datetime import date
from importlib import resources

from screening.model import ListedAddress, ParsedList
from screening.ofac_xml import SOURCE
from screening.plain_list import parse_lines

SNAPSHOT_DATE = date(2025, 11, 19)
ORIGIN = f"bundled snapshot of {SNAPSHOT_DATE.isoformat()}"
ASSETS = ("XBT", "ETH", "USDT", "USDC")


def load_bundled() -> ParsedList:
    """The bundled snapshot as a version of the OFAC SDN source."""
    digest = hashlib.sha256()
    entries: list[ListedAddress] = []
    skipped: list[str] = []
    folder = resources.files("screening") / "data"
    for asset in ASSETS:
        data = (folder / f"sanctioned_addresses_{asset}.txt").read_bytes()
        digest.update(data)
        found, bad = parse_lines(data.decode("ascii").splitlines(), source=SOURCE, asset=asset, where=f"bundled {asset}")
        entries.extend(found)
        skipped.extend(bad)
    return ParsedList(
        source=SOURCE,
        origin=ORIGIN,
        published=SNAPSHOT_DATE,
        sha256=digest.hexdigest(),
        entries=tuple(entries),
        skipped=tuple(skipped),
    )
