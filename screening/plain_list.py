"""Plain address lists: one address per line, the format of 0xB10C/ofac-sanctioned-digital-currency-addresses.

The asset label comes from the file name when it follows that project's pattern
(``sanctioned_addresses_ETH.txt`` -> ETH); it is a label only, since matching goes by format.
Blank lines and ``#`` comments are ignored; a value that cannot be an address (non-ASCII
look-alikes, inner spaces) is skipped and reported, never silently matched.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from screening.errors import InvalidScreeningAddress, ScreeningListError
from screening.model import ListedAddress, ParsedList
from screening.normalize import comparison_key, detect

log = logging.getLogger(__name__)

_ASSET_FROM_NAME = re.compile(r"sanctioned_addresses_([A-Za-z0-9]+)\.txt\Z")


def asset_from_name(name: str) -> str:
    """The asset label a file name carries, or "" when it carries none."""
    m = _ASSET_FROM_NAME.search(name)
    return m.group(1).upper() if m else ""


def parse_lines(
    lines: Iterable[str], *, source: str, asset: str = "", where: str = "", party: str = ""
) -> tuple[list[ListedAddress], list[str]]:
    """Listed addresses of one list's lines, and the reasons any line was skipped."""
    out: list[ListedAddress] = []
    skipped: list[str] = []
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            key = comparison_key(text)
        except InvalidScreeningAddress as exc:
            skipped.append(f"{where or source} line {number}: {exc}")
            continue
        out.append(ListedAddress(address=text, key=key, format=detect(text), asset=asset, party=party))
    return out, skipped


def parse_text_file(path: str | Path, *, source: str | None = None, published: date | None = None) -> ParsedList:
    """A plain list from a file; ScreeningListError when it cannot be read or is not text."""
    p = Path(path)
    source = source or f"list:{p.name}"
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ScreeningListError(source, f"cannot read {p}: {exc.strerror or exc}") from None
    return parse_bytes(data, source=source, origin=f"file {p}", asset=asset_from_name(p.name), published=published)


def parse_bytes(
    data: bytes, *, source: str, origin: str, asset: str = "", published: date | None = None
) -> ParsedList:
    """A plain list from its bytes (UTF-8)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScreeningListError(source, f"{origin} is not UTF-8 text (byte {exc.start}); expected one address per line") from None
    entries, skipped = parse_lines(text.splitlines(), source=source, asset=asset, where=origin)
    for reason in skipped:
        log.warning("list entry skipped: %s", reason)
    return ParsedList(
        source=source,
        origin=origin,
        published=published,
        sha256=hashlib.sha256(data).hexdigest(),
        entries=tuple(entries),
        skipped=tuple(skipped),
    )
