"""The bundled snapshot's file: each address OFAC lists, with its party, programmes and listing date.

Written once from an SDN_ADVANCED.XML (``python -m screening.snapshot SDN_ADVANCED.XML[.bz2] OUT``)
and read at first start without the 121 MB XML: a sorted CSV, gzip-compressed with no timestamp so
the same XML always gives the same bytes (about 25 kB for the 760 addresses of 2025-11-19).
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
from datetime import date
from pathlib import Path

from screening.errors import InvalidScreeningAddress
from screening.model import ListedAddress, ParsedList
from screening.normalize import comparison_key, detect

HEADER = ["address", "asset", "party_ref", "party", "programmes", "listed_on"]


def dump(parsed: ParsedList) -> bytes:
    """The snapshot file's bytes for a parsed OFAC list (programmes joined by ';')."""
    text = io.StringIO()
    out = csv.writer(text, lineterminator="\n")
    out.writerow(HEADER)
    for e in sorted(parsed.entries, key=lambda e: (e.asset, e.address, e.party_ref)):
        out.writerow([e.address, e.asset, e.party_ref, e.party, ";".join(e.programmes),
                      e.listed_on.isoformat() if e.listed_on else ""])
    return gzip.compress(text.getvalue().encode("utf-8"), mtime=0)


def load(data: bytes, where: str) -> tuple[list[ListedAddress], list[str]]:
    """The listed addresses of a snapshot file, and the reasons any row was skipped."""
    rows = csv.reader(io.StringIO(gzip.decompress(data).decode("utf-8")))
    if next(rows, None) != HEADER:
        raise ValueError(f"{where}: not a snapshot file (expected the header {','.join(HEADER)})")
    entries: list[ListedAddress] = []
    skipped: list[str] = []
    for number, row in enumerate(rows, 2):
        address, asset, party_ref, party, programmes, listed_on = row
        try:
            key = comparison_key(address)
        except InvalidScreeningAddress as exc:
            skipped.append(f"{where} line {number}: {exc}")
            continue
        entries.append(ListedAddress(
            address=address, key=key, format=detect(address), asset=asset, party=party, party_ref=party_ref,
            programmes=tuple(p for p in programmes.split(";") if p),
            listed_on=date.fromisoformat(listed_on) if listed_on else None,
        ))
    return entries, skipped


def main(argv: list[str]) -> int:
    """Write the snapshot of one SDN_ADVANCED.XML: ``python -m screening.snapshot XML OUT``."""
    from screening.ofac_xml import parse_file

    if len(argv) != 2:
        print("usage: python -m screening.snapshot SDN_ADVANCED.XML[.bz2] OUT.csv.gz", file=sys.stderr)
        return 2
    parsed = parse_file(argv[0])
    Path(argv[1]).write_bytes(dump(parsed))
    print(f"{argv[1]}: {len(parsed.entries)} addresses of the list published {parsed.published} (XML sha256 {parsed.sha256})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
