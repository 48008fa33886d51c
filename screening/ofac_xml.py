"""A streaming reader of OFAC's SDN_ADVANCED.XML that keeps only the digital currency addresses.

The file (~121 MB) is read in one pass of 1 MB chunks (``ofac_scan``): libxml2 checks the whole
document while only the records that carry addresses are parsed into elements, so memory stays
at a chunk and a record whatever the file size, and truncation or damage anywhere fails the load
instead of half-loading it. If the bytes hold constructs that make cutting at tags unsafe
(CDATA, a DTD, processing instructions, comments containing markup), the file is read again
with ``lxml.etree.iterparse``, tag-filtered to the top-level records, each cleared once read.
Both paths give the same result; ``ofac_records`` turns the elements into listed addresses.
"""

from __future__ import annotations

import bz2
import hashlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from lxml import etree

from screening.errors import ScreeningListError
from screening.model import ParsedList
from screening.ofac_records import (
    FEATURE_PREFIX,
    NAMESPACES,
    ReadState,
    build_entries,
    namespace_of,
    read_date,
    read_party,
    read_reference,
    read_sanctions_entry,
)
from screening.ofac_scan import NeedsFullParse, scan

log = logging.getLogger(__name__)

SOURCE = "ofac-sdn"
__all__ = ["NAMESPACES", "SOURCE", "parse_file", "parse_stream"]
# Children of the root and of its sections: the only elements the fallback reader is woken for.
_RECORDS = (
    "DateOfIssue",
    "ReferenceValueSets",
    "Location",
    "IDRegDocument",
    "DistinctParty",
    "ProfileRelationship",
    "SanctionsEntry",
    "SanctionsEntryLink",
)
_CHUNK = 1 << 20


class _HashingReader:
    """A binary file wrapper that hashes and counts every byte read through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(_CHUNK if n is None or n < 0 else max(n, _CHUNK))
        self.sha256.update(data)
        self.size += len(data)
        return data

    def chunks(self) -> Iterator[bytes]:
        return iter(lambda: self.read(_CHUNK), b"")


def parse_file(path: str | Path, *, source: str = SOURCE, origin: str | None = None) -> ParsedList:
    """Parse an SDN_ADVANCED.XML file (plain or .bz2) into its listed addresses."""
    p = Path(path)
    opener: Callable[[], IO[bytes]] = (lambda: bz2.open(p, "rb")) if p.suffix == ".bz2" else (lambda: open(p, "rb"))
    return _parse(opener, source, origin or f"file {p}", str(p))


def parse_stream(raw: IO[bytes], *, source: str = SOURCE, origin: str = "stream") -> ParsedList:
    """Parse SDN_ADVANCED.XML from a seekable binary stream (it is read twice if the fast path cannot be used)."""
    start = raw.tell()

    class _Reopened:
        def __enter__(self) -> IO[bytes]:
            raw.seek(start)
            return raw

        def __exit__(self, *exc: object) -> None:
            return None

    return _parse(lambda: _Reopened(), source, origin, origin)  # type: ignore[arg-type,return-value]


def _parse(opener: Callable[[], IO[bytes]], source: str, origin: str, shown: str) -> ParsedList:
    state = ReadState()
    reader: _HashingReader | None = None
    try:
        try:
            with opener() as raw:
                reader = _HashingReader(raw)
                scan(reader.chunks(), state, source)
        except NeedsFullParse as why:
            log.info("OFAC file %s read with the element-tree reader: %s", shown, why)
            state = ReadState()
            with opener() as raw:
                reader = _HashingReader(raw)
                _run_tree(reader, state, source)
    except etree.XMLSyntaxError as exc:
        if reader is not None and reader.size == 0:
            raise ScreeningListError(source, "the file is empty (0 bytes); expected OFAC's SDN_ADVANCED.XML") from None
        line = f" at line {exc.lineno}" if exc.lineno else ""
        raise ScreeningListError(
            source, f"not well-formed XML{line} ({exc.msg}); the file is truncated or damaged, download it again"
        ) from None
    except EOFError:
        raise ScreeningListError(source, "the compressed file ends early; it is truncated") from None
    except OSError as exc:  # bz2 damage and read errors
        raise ScreeningListError(source, f"cannot read {shown}: {exc.strerror or exc}") from None
    assert reader is not None
    if state.issued is None:
        raise ScreeningListError(source, "no DateOfIssue: this is not OFAC's SDN_ADVANCED.XML")
    if not state.reference_seen or not state.assets:
        raise ScreeningListError(
            source, f'no FeatureType "{FEATURE_PREFIX}<ASSET>" in ReferenceValueSets: this is not OFAC\'s SDN_ADVANCED.XML'
        )
    entries, skipped = build_entries(state)
    return ParsedList(
        source=source,
        origin=origin,
        published=state.issued,
        sha256=reader.sha256.hexdigest(),
        entries=tuple(entries),
        skipped=tuple(skipped),
    )


def _run_tree(reader: _HashingReader, state: ReadState, source: str) -> None:
    """The fallback: iterparse over the top-level records, each cleared with its finished siblings."""
    tags = [f"{{*}}{t}" for t in _RECORDS]
    ctx = etree.iterparse(reader, events=("end",), tag=tags, resolve_entities=False, no_network=True, huge_tree=True)
    for _, el in ctx:
        tag: str = el.tag
        if not state.ns:
            state.ns = namespace_of(tag, source)
        parent = el.getparent()
        grand = parent.getparent() if parent is not None else None
        if grand is not None and grand.getparent() is not None:
            continue  # a nested element of the same name; its record is handled whole
        local = tag[len(state.ns) :]
        if local == "DistinctParty":
            read_party(el, state)
        elif local == "SanctionsEntry":
            read_sanctions_entry(el, state)
        elif local == "ReferenceValueSets":
            read_reference(el, state)
        elif local == "DateOfIssue":
            state.issued = read_date(el, state.ns)
        el.clear(keep_tail=False)
        while el.getprevious() is not None:
            del parent[0]
    root = ctx.root
    if root is None or root.tag != f"{state.ns}Sanctions":
        found = root.tag if root is not None else "nothing"
        raise ScreeningListError(source, f"root element is <{found}>, expected <Sanctions>: this is not OFAC's SDN_ADVANCED.XML")
