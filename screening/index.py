"""The in-memory lookup every screening goes through: comparison key -> the list entries that match.

An index is immutable; a new list version builds a new index that replaces the old one with a
single reference assignment, so a lookup sees either the old lists or the new ones, never a mix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType

from screening.model import ListedAddress
from screening.normalize import fast_key


@dataclass(frozen=True, slots=True)
class ListVersionInfo:
    """Which version of a list an index holds: enough to cite it in a hit."""

    source: str
    version_id: int | None
    origin: str
    published: date | None
    sha256: str
    count: int
    loaded_at: datetime | None = None

    def describe(self) -> str:
        """E.g. "ofac-sdn of 2025-11-19 (sha256 36c517bd...)"."""
        when = self.published.isoformat() if self.published else "unknown date"
        return f"{self.source} of {when} (sha256 {self.sha256[:12]}, {self.origin})"


@dataclass(frozen=True, slots=True)
class Match:
    """One list entry an address matched, with the list version that holds it."""

    list: ListVersionInfo
    entry: ListedAddress


class ScreeningIndex:
    """An immutable lookup over the current version of every list."""

    __slots__ = ("_by_key", "lists")

    def __init__(self, lists: Iterable[tuple[ListVersionInfo, Iterable[ListedAddress]]] = ()) -> None:
        by_key: dict[str, tuple[Match, ...]] = {}
        infos: dict[str, ListVersionInfo] = {}
        for info, entries in lists:
            infos[info.source] = info
            for entry in entries:
                by_key[entry.key] = (*by_key.get(entry.key, ()), Match(info, entry))
        self._by_key: Mapping[str, tuple[Match, ...]] = MappingProxyType(by_key)
        self.lists: Mapping[str, ListVersionInfo] = MappingProxyType(infos)

    def __len__(self) -> int:
        return len(self._by_key)

    def lookup(self, address: str) -> tuple[Match, ...]:
        """Every entry matching ``address`` on any list; () when none or when it is no address."""
        key = fast_key(address)
        if key is None:
            return ()
        return self._by_key.get(key, ())

    def lookup_key(self, key: str) -> tuple[Match, ...]:
        """Every entry for an already computed comparison key."""
        return self._by_key.get(key, ())

    def keys(self) -> frozenset[str]:
        return frozenset(self._by_key)
