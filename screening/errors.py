"""Errors of the screening room, each naming the list or address, what is wrong, and the fix."""

from __future__ import annotations


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
        super().__init__(f'"{value}" cannot be screened as an address ({reason})')
