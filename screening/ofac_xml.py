"""A streaming reader of OFAC's SDN_ADVANCED.XML that keeps only the digital currency addresses.

The file (~121 MB) is parsed by libxml2 through ``lxml.etree.iterparse`` with a tag filter on the
top-level records only; each record is read and then cleared, with its finished siblings, so
memory stays at a few records whatever the file size. The whole document is still parsed, so
truncation or damage anywhere is reported, never half-loaded.

What is read, following OFAC's advanced data model:
- ``ReferenceValueSets``: every ``FeatureType`` whose text is ``Digital Currency Address - <ASSET>``
  (the assets are discovered, never a fixed list), the ``SanctionsType`` named "Program", and the
  ``List`` names.
- each ``DistinctParty``: its ``Feature`` elements of those types, their ``VersionDetail`` text (the
  address), and through ``IdentityReference`` the name of the identity (its primary alias).
- each ``SanctionsEntry`` of such a party (by ``ProfileID``): programmes and the listing date.
"""

from __future__ import annotations

import bz2
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from lxml import etree

from screening.errors import InvalidScreeningAddress, ScreeningListError
from screening.model import ListedAddress, ParsedList
from screening.normalize import comparison_key, detect

log = logging.getLogger(__name__)

SOURCE = "ofac-sdn"
NAMESPACES = {
    "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/ADVANCED_XML": "current",
    "http://www.un.org/sanctions/1.0": "pre-May-2024",
}
FEATURE_PREFIX = "Digital Currency Address - "
# Children of the root and of its sections: the only elements the parser is woken for.
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
    """A binary file wrapper that hashes and counts every byte lxml reads."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(_CHUNK if n is None or n < 0 else max(n, _CHUNK))
        self.sha256.update(data)
        self.size += len(data)
        return data


@dataclass
class _Party:
    profile_id: str
    party_ref: str
    found: list[tuple[str, str, str]]  # (address, asset, party name)


@dataclass
class _State:
    ns: str = ""
    issued: date | None = None
    assets: dict[str, str] = field(default_factory=dict)  # FeatureType ID -> asset
    program_type: str | None = None
    lists: dict[str, str] = field(default_factory=dict)
    name_part_types: dict[str, str] = field(default_factory=dict)  # NamePartType ID -> "First Name"...
    parties: dict[str, _Party] = field(default_factory=dict)  # Profile ID -> party
    entries: dict[str, tuple[tuple[str, ...], date | None]] = field(default_factory=dict)
    reference_seen: bool = False


def parse_file(path: str | Path, *, source: str = SOURCE, origin: str | None = None) -> ParsedList:
    """Parse an SDN_ADVANCED.XML file (plain or .bz2) into its listed addresses."""
    p = Path(path)
    origin = origin or f"file {p}"
    try:
        if p.suffix == ".bz2":
            with bz2.open(p, "rb") as raw:
                return parse_stream(raw, source=source, origin=origin)
        with open(p, "rb") as raw:
            digest = hashlib.file_digest(raw, "sha256").hexdigest()
            size = raw.tell()
    except OSError as exc:
        raise ScreeningListError(source, f"cannot read {p}: {exc.strerror or exc}") from None
    # libxml2 reads a plain file itself, faster than through Python reads.
    return _parse(str(p), digest, size, source, origin)


def parse_stream(raw: IO[bytes], *, source: str = SOURCE, origin: str = "stream") -> ParsedList:
    """Parse SDN_ADVANCED.XML from a binary stream; ScreeningListError says what is wrong with it."""
    reader = _HashingReader(raw)
    return _parse(reader, None, None, source, origin)


def _parse(input: str | _HashingReader, digest: str | None, size: int | None, source: str, origin: str) -> ParsedList:
    state = _State()
    try:
        _run(input, state, source)
    except etree.XMLSyntaxError as exc:
        if (size if size is not None else getattr(input, "size", 0)) == 0:
            raise ScreeningListError(source, "the file is empty (0 bytes); expected OFAC's SDN_ADVANCED.XML") from None
        line = f" at line {exc.lineno}" if exc.lineno else ""
        raise ScreeningListError(
            source, f"not well-formed XML{line} ({exc.msg}); the file is truncated or damaged, download it again"
        ) from None
    except EOFError:
        raise ScreeningListError(source, "the compressed file ends early; it is truncated") from None
    except OSError as exc:  # bz2 damage and read errors
        raise ScreeningListError(source, f"cannot read the file: {exc}") from None
    if state.issued is None:
        raise ScreeningListError(source, "no DateOfIssue: this is not OFAC's SDN_ADVANCED.XML")
    if not state.reference_seen or not state.assets:
        raise ScreeningListError(
            source, f'no FeatureType "{FEATURE_PREFIX}<ASSET>" in ReferenceValueSets: this is not OFAC\'s SDN_ADVANCED.XML'
        )
    entries, skipped = _entries(state)
    return ParsedList(
        source=source,
        origin=origin,
        published=state.issued,
        sha256=digest or input.sha256.hexdigest(),  # type: ignore[union-attr]
        entries=tuple(entries),
        skipped=tuple(skipped),
    )


def _run(input: str | _HashingReader, state: _State, source: str) -> None:
    tags = [f"{{*}}{t}" for t in _RECORDS]
    ctx = etree.iterparse(input, events=("end",), tag=tags, resolve_entities=False, no_network=True, huge_tree=True)
    for _, el in ctx:
        tag: str = el.tag
        if not state.ns:
            state.ns = _namespace(tag, source)
        parent = el.getparent()
        grand = parent.getparent() if parent is not None else None
        if grand is not None and grand.getparent() is not None:
            continue  # a nested element of the same name; its record is handled whole
        local = tag[len(state.ns) :]
        if local == "DistinctParty":
            _party(el, state)
        elif local == "SanctionsEntry":
            _sanctions_entry(el, state)
        elif local == "ReferenceValueSets":
            _reference(el, state)
        elif local == "DateOfIssue":
            state.issued = _date(el, state.ns)
        el.clear(keep_tail=False)
        while el.getprevious() is not None:
            del parent[0]
    root = ctx.root
    if root is None or root.tag != f"{state.ns}Sanctions":
        found = root.tag if root is not None else "nothing"
        raise ScreeningListError(source, f"root element is <{found}>, expected <Sanctions>: this is not OFAC's SDN_ADVANCED.XML")


def _namespace(tag: str, source: str) -> str:
    ns = tag[1 : tag.index("}")] if tag.startswith("{") else ""
    if ns not in NAMESPACES:
        known = " or ".join(NAMESPACES)
        raise ScreeningListError(source, f"unknown XML namespace {ns!r}; expected {known}")
    return "{" + ns + "}"


def _date(el: Any, ns: str) -> date | None:
    try:
        return date(int(el.findtext(f"{ns}Year")), int(el.findtext(f"{ns}Month") or 1), int(el.findtext(f"{ns}Day") or 1))
    except (TypeError, ValueError):
        return None


def _reference(el: Any, state: _State) -> None:
    ns = state.ns
    state.reference_seen = True
    for ft in el.iter(f"{ns}FeatureType"):
        text = (ft.text or "").strip()
        if text.startswith(FEATURE_PREFIX):
            state.assets[ft.get("ID")] = text[len(FEATURE_PREFIX) :].strip()
    for st in el.iter(f"{ns}SanctionsType"):
        if (st.text or "").strip() == "Program":
            state.program_type = st.get("ID")
    for lv in el.iter(f"{ns}List"):
        state.lists[lv.get("ID")] = (lv.text or "").strip()
    for npt in el.iter(f"{ns}NamePartType"):
        state.name_part_types[npt.get("ID")] = (npt.text or "").strip()


# Name parts in reading order ("Ali Khorashadizadeh"); entity, vessel and other names keep file order.
_NAME_ORDER = {"First Name": 0, "Middle Name": 1, "Patronymic": 2, "Matronymic": 3, "Last Name": 4, "Maiden Name": 5}


def _identity_name(identity: Any, state: _State) -> str:
    """The identity's primary alias, its name parts in reading order."""
    ns = state.ns
    aliases = identity.findall(f"{ns}Alias")
    chosen = next((a for a in aliases if a.get("Primary") == "true"), aliases[0] if aliases else None)
    # An alias may be written in several scripts, one DocumentedName each; the first is the Latin one.
    documented = chosen.find(f"{ns}DocumentedName") if chosen is not None else None
    if documented is None:
        return ""
    group_type = {
        g.get("ID"): state.name_part_types.get(g.get("NamePartTypeID") or "", "")
        for g in identity.iter(f"{ns}NamePartGroup")
    }
    parts = [
        (_NAME_ORDER.get(group_type.get(v.get("NamePartGroupID") or "", ""), 6), (v.text or "").strip())
        for v in documented.iter(f"{ns}NamePartValue")
    ]
    return " ".join(text for _, text in sorted(parts, key=lambda p: p[0]) if text)


def _party(el: Any, state: _State) -> None:
    ns = state.ns
    assets = state.assets
    for profile in el.iterfind(f"{ns}Profile"):
        found: list[tuple[str, str, str]] = []
        names: dict[str, str] | None = None
        for feat in profile.iterfind(f"{ns}Feature"):
            asset = assets.get(feat.get("FeatureTypeID"))
            if asset is None:
                continue
            if names is None:
                names = {i.get("ID"): _identity_name(i, state) for i in profile.iterfind(f"{ns}Identity")}
            ref = feat.find(f"{ns}IdentityReference")
            name = names.get(ref.get("IdentityID"), "") if ref is not None else ""
            if not name and names:
                name = next(iter(names.values()))
            for detail in feat.iter(f"{ns}VersionDetail"):
                text = detail.text or ""
                if text.strip():
                    found.append((text, asset, name))
        if found:
            pid = profile.get("ID")
            state.parties[pid] = _Party(pid, el.get("FixedRef") or pid, found)


def _sanctions_entry(el: Any, state: _State) -> None:
    pid = el.get("ProfileID")
    if pid not in state.parties:
        return
    ns = state.ns
    programmes: list[str] = []
    for measure in el.iterfind(f"{ns}SanctionsMeasure"):
        if state.program_type is not None and measure.get("SanctionsTypeID") == state.program_type:
            text = (measure.findtext(f"{ns}Comment") or "").strip()
            if text and text not in programmes:
                programmes.append(text)
    dates = [d for d in (_date(ev.find(f"{ns}Date"), ns) for ev in el.iterfind(f"{ns}EntryEvent") if ev.find(f"{ns}Date") is not None) if d]
    old = state.entries.get(pid)
    if old is not None:  # a party on two lists: merge
        programmes = list(dict.fromkeys([*old[0], *programmes]))
        dates = [d for d in (*dates, old[1]) if d]
    state.entries[pid] = (tuple(programmes), min(dates) if dates else None)


def _entries(state: _State) -> tuple[list[ListedAddress], list[str]]:
    out: list[ListedAddress] = []
    skipped: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    for party in state.parties.values():
        programmes, listed_on = state.entries.get(party.profile_id, ((), None))
        for text, asset, name in party.found:
            try:
                key = comparison_key(text)
            except InvalidScreeningAddress as exc:
                skipped.append(f"party {party.party_ref} ({name}), {asset}: {exc}")
                continue
            if (key, asset, party.party_ref) in seen:
                continue
            seen.add((key, asset, party.party_ref))
            out.append(
                ListedAddress(
                    address=text.strip(),
                    key=key,
                    format=detect(text.strip()),
                    asset=asset,
                    party=name,
                    party_ref=party.party_ref,
                    programmes=programmes,
                    listed_on=listed_on,
                )
            )
    out.sort(key=lambda e: (e.asset, e.key, e.party_ref))
    for reason in skipped:
        log.warning("OFAC list entry skipped: %s", reason)
    return out, skipped

