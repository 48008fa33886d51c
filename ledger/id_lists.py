"""Ids for ``IN (...)`` lists, in chunks far below SQLite's and asyncpg's bound-parameter limits."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

ID_CHUNK = 1_000


def id_chunks(ids: Iterable[int], size: int = ID_CHUNK) -> Iterator[list[int]]:
    """``ids`` in order, each once, in lists of at most ``size`` (an import's thousands of transfers)."""
    unique = sorted(set(ids))
    for start in range(0, len(unique), size):
        yield unique[start : start + size]
