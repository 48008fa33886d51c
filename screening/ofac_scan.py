"""The fast path through SDN_ADVANCED.XML: libxml2 checks the whole document, lxml parses only the records needed.

One pass over the bytes does two things with each chunk:
- it feeds libxml2's push parser with a target that builds nothing, which checks that the whole
  document is well-formed (truncation or damage anywhere fails the load) at SAX speed;
- it cuts the chunk into top-level ``DistinctParty`` and ``SanctionsEntry`` records at their tags
  and parses with lxml only the parties that carry a digital currency ``FeatureTypeID`` and the
  sanctions entries of those parties.

Cutting at tags is only sound when no comment, CDATA section, processing instruction or DTD
could hide markup; whenever the bytes hold anything of that kind (outside comments free of
``<``), ``NeedsFullParse`` sends the file to the element-tree reader instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any
from xml.sax.saxutils import quoteattr

from lxml import etree

from screening.ofac_records import ReadState, namespace_of, read_date, read_party, read_reference, read_sanctions_entry

_HEADER_LIMIT = 32 << 20
_REFERENCE_END = b"</ReferenceValueSets>"
_START = re.compile(rb"<(DistinctParty|SanctionsEntry)[\s/>]")
_CDATA = b"<![CDATA["
_PROFILE = re.compile(rb"""\sProfileID\s*=\s*["']([^"']*)["']""")
_ROOT = re.compile(rb"<([A-Za-z_][\w.\-]*(?::[\w.\-]+)?)[\s>/]")
_KEEP = 20  # bytes kept across chunks: longer than any tag prefix searched for


class NeedsFullParse(Exception):
    """The bytes hold constructs that make cutting at tags unsafe; use the element-tree reader."""


class _Sink:
    """A parser target that builds nothing, so the push parser only checks well-formedness.

    It is told about the rare constructs that could hide or fake a record tag from a byte scan:
    a DTD (entities), processing instructions, and comments containing markup.
    """

    def __init__(self) -> None:
        self.unsafe: str | None = None

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        self.unsafe = "a DOCTYPE declaration"

    def pi(self, target: str, data: str | None) -> None:
        self.unsafe = f"a processing instruction <?{target}"

    def comment(self, text: str) -> None:
        if "<" in text:
            self.unsafe = "a comment that contains markup"

    def close(self) -> None:
        return None


class _Scanner:
    def __init__(self, state: ReadState, source: str) -> None:
        self.state = state
        self.source = source
        self.header_done = False
        self.open_tag = b""
        self.close_tag = b""
        self.wanted: re.Pattern[bytes] | None = None

    def header(self, data: bytes) -> None:
        """Parse everything up to the end of ReferenceValueSets, closing the root after it."""
        m = _ROOT.search(data)  # the first element: declarations and comments start with <? or <!
        if m is None or b":" in m.group(1):
            raise NeedsFullParse("the root element is prefixed or missing")
        qname = m.group(1)
        root = etree.fromstring(data + b"</" + qname + b">", etree.XMLParser(resolve_entities=False, no_network=True))
        state = self.state
        state.ns = namespace_of(root.tag, self.source)
        if root.tag != f"{state.ns}Sanctions":
            raise NeedsFullParse("the root element is not Sanctions")
        state.issued = read_date(root.find(f"{state.ns}DateOfIssue"), state.ns)
        reference = root.find(f"{state.ns}ReferenceValueSets")
        if reference is None:
            raise NeedsFullParse("ReferenceValueSets is not a child of the root")
        read_reference(reference, state)
        declarations = "".join(
            f" xmlns{':' + prefix if prefix else ''}={quoteattr(uri)}" for prefix, uri in root.nsmap.items()
        )
        self.open_tag = b"<Sanctions" + declarations.encode() + b">"
        self.close_tag = b"</Sanctions>"
        ids = b"|".join(re.escape(i.encode()) for i in sorted(state.assets))
        self.wanted = re.compile(rb"""FeatureTypeID\s*=\s*["'](?:""" + ids + rb""")["']""") if ids else None
        self.header_done = True

    def records(self, buf: bytes) -> bytes:
        """Handle every complete record in ``buf``; return the unfinished tail.

        A comment cannot fake a tag here: one holding ``<`` sends the file to the full reader.
        """
        pos = 0
        while True:
            m = _START.search(buf, pos)
            if m is None:
                return buf[max(pos, len(buf) - _KEEP) :]
            close = b"</" + m.group(1) + b">"
            end = buf.find(close, m.end())
            if end < 0:
                return buf[m.start() :]
            end += len(close)
            if m.group(1) == b"DistinctParty":
                if self.wanted is not None and self.wanted.search(buf, m.end(), end):
                    self._parse(buf[m.start() : end], read_party)
            else:
                first = _PROFILE.search(buf, m.end() - 1, end)
                if first is not None and first.group(1).decode() in self.state.parties:
                    self._parse(buf[m.start() : end], read_sanctions_entry)
            pos = end

    def _parse(self, record: bytes, reader: Callable[[Any, ReadState], None]) -> None:
        try:
            wrapper = etree.fromstring(
                self.open_tag + record + self.close_tag, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
            )
        except etree.XMLSyntaxError:
            raise NeedsFullParse("a record that does not stand alone") from None
        for el in wrapper:
            if isinstance(el.tag, str):
                reader(el, self.state)


def scan(chunks: Iterable[bytes], state: ReadState, source: str) -> None:
    """Read ``state`` from the document's chunks; XMLSyntaxError if it is not well-formed, NeedsFullParse to fall back."""
    sink = _Sink()
    checker = etree.XMLParser(target=sink, resolve_entities=False, no_network=True, huge_tree=True)
    scanner = _Scanner(state, source)
    buf = b""
    overlap = b""
    for chunk in chunks:
        checker.feed(chunk)
        if sink.unsafe is None and _CDATA in overlap + chunk:
            sink.unsafe = "a CDATA section"
        if sink.unsafe is not None:
            raise NeedsFullParse(sink.unsafe)
        overlap = chunk[-_KEEP:]
        buf += chunk
        if not scanner.header_done:
            end = buf.find(_REFERENCE_END)
            if end < 0:
                if len(buf) > _HEADER_LIMIT:
                    raise NeedsFullParse("no ReferenceValueSets near the start")
                continue
            end += len(_REFERENCE_END)
            scanner.header(buf[:end])
            buf = buf[end:]
        buf = scanner.records(buf)
    checker.close()
    if sink.unsafe is not None:
        raise NeedsFullParse(sink.unsafe)
    if not scanner.header_done:
        raise NeedsFullParse("no ReferenceValueSets")
