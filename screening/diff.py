"""What changed between two versions of a list: addresses added and removed (by comparison key)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from screening.model import ListedAddress


@dataclass(frozen=True, slots=True)
class ListDiff:
    """Keys new in the newer version, and keys it no longer holds."""

    added: frozenset[str]
    removed: frozenset[str]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def diff(old: Iterable[ListedAddress], new: Iterable[ListedAddress]) -> ListDiff:
    """Compare two versions' entries by comparison key (labels and parties do not count)."""
    old_keys = {e.key for e in old}
    new_keys = {e.key for e in new}
    return ListDiff(added=frozenset(new_keys - old_keys), removed=frozenset(old_keys - new_keys))
