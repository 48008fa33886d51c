"""The snapshot shipped with the package: OFAC's list of 2025-11-19, in force until a real download.

Generated from that day's SDN_ADVANCED.XML (see data/SOURCE.md and screening.snapshot), so a hit
on it names the party, the programmes and the listing date like a hit on a downloaded list.
"""

from __future__ import annotations

import hashlib
from datetime import date
from importlib import resources

from screening.model import ParsedList
from screening.ofac_xml import SOURCE
from screening.snapshot import load

SNAPSHOT_DATE = date(2025, 11, 19)
ORIGIN = f"bundled snapshot of {SNAPSHOT_DATE.isoformat()}"
FILE = f"ofac_sdn_{SNAPSHOT_DATE.isoformat()}.csv.gz"


def load_bundled() -> ParsedList:
    """The bundled snapshot as a version of the OFAC SDN source."""
    data = (resources.files("screening") / "data" / FILE).read_bytes()
    entries, skipped = load(data, where=f"bundled {FILE}")
    return ParsedList(
        source=SOURCE,
        origin=ORIGIN,
        published=SNAPSHOT_DATE,
        sha256=hashlib.sha256(data).hexdigest(),
        entries=tuple(entries),
        skipped=tuple(skipped),
    )
