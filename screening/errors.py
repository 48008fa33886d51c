"""Errors of the screening room, each naming the list or address, what is wrong, and the fix."""

from __future__ import annotations

from datetime import date


class ScreeningError(Exception):
    """Base of every error raised by the screening room."""


class ScreeningListError(ScreeningError):
    """A sanctions list could not be used: download failed, file truncated, malformed or empty.

    The last good version of the list stays in force; ``reason`` says why this one was refused.
    """

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = reason
        super().__init__(f"{source}: {reason}")


class InvalidScreeningAddress(ScreeningError, ValueError):
    """A string cannot be screened as an address (empty, not ASCII, unknown format, bad checksum)."""

    def __init__(self, value: str, reason: str) -> None:
        self.value = value
        self.reason = reason
        shown = value if len(value) <= 100 else f"{value[:70]}... ({len(value):,} characters)"
        super().__init__(f'"{shown}" cannot be screened as an address ({reason})')


class OlderListRefused(ScreeningListError):
    """A list published before the version in force: putting it in force would undo newer listings.

    An operator may still install it with ``--force`` (recorded on the version: who and when).
    """

    def __init__(self, source: str, origin: str, published: date, in_force: date, *, removed: int, added: int) -> None:
        self.origin = origin
        self.published = published
        self.in_force = in_force
        self.removed = removed
        self.added = added
        super().__init__(
            source,
            f"{origin} is the list of {published.isoformat()}, older than the list of {in_force.isoformat()} in force "
            f"(it would remove {removed} and add {added} listed addresses); the list of {in_force.isoformat()} stays in force",
        )
