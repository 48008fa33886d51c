"""What a loaded sanctions list is: its listed addresses and where the list came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from screening.normalize import AddressFormat

PROGRAMME_SEPARATOR = "; "  # between programmes when an entry's are stored as one text


@dataclass(frozen=True, slots=True)
class ListedAddress:
    """One address on a list, with who it belongs to as far as the list says."""

    address: str
    key: str
    format: AddressFormat
    asset: str = ""
    party: str = ""
    party_ref: str = ""
    programmes: tuple[str, ...] = ()
    listed_on: date | None = None


@dataclass(frozen=True, slots=True)
class ParsedList:
    """A list as read from one file: entries, the date it was published, and its sha256.

    ``skipped`` explains every listed value that could not be used (e.g. non-ASCII look-alikes).
    """

    source: str
    origin: str
    published: date | None
    sha256: str
    entries: tuple[ListedAddress, ...]
    skipped: tuple[str, ...] = field(default=())

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(e.key for e in self.entries)
