"""Reading OFAC's advanced-format records, once parsed into elements, into listed addresses.

What is read, following OFAC's advanced data model:
- ``ReferenceValueSets``: every ``FeatureType`` whose text is ``Digital Currency Address - <ASSET>``
  (the assets are discovered, never a fixed list), the ``SanctionsType`` named "Program", the
  ``List`` names and the ``NamePartType`` names.
- each ``DistinctParty``: its ``Feature`` elements of those types, their ``VersionDetail`` text
  (the address), and through ``IdentityReference`` the name of the identity (its primary alias).
- each ``SanctionsEntry`` of such a party (by ``ProfileID``): programmes and the listing date.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from screening.errors import InvalidScreeningAddress, ScreeningListError
from screening.model import ListedAddress
from screening.normalize import comparison_key, detect

log = logging.getLogger(__name__)

NAMESPACES = {
    "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/ADVANCED_XML": "current",
    "http://www.un.org/sanctions/1.0": "pre-May-2024",
}
FEATURE_PREFIX = "Digital Currency Address - "
# Name parts in reading order ("Ali Khorashadizadeh"); entity, vessel and other names keep file order.
_NAME_ORDER = {"First Name": 0, "Middle Name": 1, "Patronymic": 2, "Matronymic": 3, "Last Name": 4, "Maiden Name": 5}


@dataclass
class Party:
    """A party with digital currency addresses: (address, asset, identity name) triples."""

    profile_id: str
    party_ref: str
    found: list[tuple[str, str, str]]


@dataclass
class ReadState:
    """What has been read so far from one file."""

    ns: str = ""
    issued: date | None = None
    assets: dict[str, str] = field(default_factory=dict)  # FeatureType ID -> asset
    program_type: str | None = None
    lists: dict[str, str] = field(default_factory=dict)
    name_part_types: dict[str, str] = field(default_factory=dict)
    parties: dict[str, Party] = field(default_factory=dict)  # Profile ID -> party
    entries: dict[str, tuple[tuple[str, ...], date | None]] = field(default_factory=dict)
    reference_seen: bool = False


def namespace_of(tag: str, source: str) -> str:
    """``{ns}`` of a Clark-notation tag; ScreeningListError unless it is one of OFAC's namespaces."""
    ns = tag[1 : tag.index("}")] if tag.startswith("{") else ""
    if ns not in NAMESPACES:
        known = " or ".join(NAMESPACES)
        raise ScreeningListError(source, f"unknown XML namespace {ns!r}; expected {known}")
    return "{" + ns + "}"


def read_date(el: Any, ns: str) -> date | None:
    """A Year/Month/Day element as a date (None when incomplete)."""
    if el is None:
        return None
    try:
        return date(int(el.findtext(f"{ns}Year")), int(el.findtext(f"{ns}Month") or 1), int(el.findtext(f"{ns}Day") or 1))
    except (TypeError, ValueError):
        return None


def read_reference(el: Any, state: ReadState) -> None:
    """The reference values this reader needs."""
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


def _identity_name(identity: Any, state: ReadState) -> str:
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


def read_party(el: Any, state: ReadState) -> None:
    """A DistinctParty's digital currency addresses, if it has any."""
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
            state.parties[pid] = Party(pid, el.get("FixedRef") or pid, found)


def read_sanctions_entry(el: Any, state: ReadState) -> None:
    """Programmes and listing date of a party read before (by ProfileID); others are ignored."""
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
    dates = [d for d in (read_date(ev.find(f"{ns}Date"), ns) for ev in el.iterfind(f"{ns}EntryEvent")) if d]
    old = state.entries.get(pid)
    if old is not None:  # a party on two lists: merge
        programmes = list(dict.fromkeys([*old[0], *programmes]))
        dates = [d for d in (*dates, old[1]) if d]
    state.entries[pid] = (tuple(programmes), min(dates) if dates else None)


def build_entries(state: ReadState) -> tuple[list[ListedAddress], list[str]]:
    """The listed addresses read, deduplicated and sorted, and the reasons any value was skipped."""
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
