"""The operator's own list: a CSV file with the columns address, label, reason.

These are addresses a fund chooses to flag. It is the operator's file, so a bad row is an error
that names the line and stops the load (the previous version stays in force) rather than a row
silently dropped.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

from screening.errors import InvalidScreeningAddress, ScreeningListError
from screening.model import ListedAddress, ParsedList
from screening.normalize import comparison_key, detect

HEADER = ("address", "label", "reason")


def source_name(path: str | Path) -> str:
    """The source name an own list is stored under."""
    return f"own:{Path(path).name}"


def parse_own_list(path: str | Path, *, source: str | None = None) -> ParsedList:
    """Read an own-list CSV; an optional header row ``address,label,reason`` is skipped."""
    p = Path(path)
    source = source or source_name(p)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ScreeningListError(source, f"cannot read {p}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScreeningListError(source, f"{p} is not UTF-8 text (byte {exc.start})") from None
    entries: list[ListedAddress] = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), 1):
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if number == 1 and tuple(c.lower() for c in cells[:3]) == HEADER:
            continue
        if len(cells) > 3:
            raise ScreeningListError(source, f"{p} line {number}: {len(cells)} columns; expected address,label,reason (quote commas)")
        address, label, reason = (cells + ["", ""])[:3]
        try:
            key = comparison_key(address)
        except InvalidScreeningAddress as exc:
            raise ScreeningListError(source, f"{p} line {number}: {exc}; fix or remove the row") from None
        entries.append(
            ListedAddress(
                address=address, key=key, format=detect(address), party=label, programmes=(reason,) if reason else ()
            )
        )
    return ParsedList(
        source=source, origin=f"file {p}", published=None, sha256=hashlib.sha256(data).hexdigest(), entries=tuple(entries)
    )
