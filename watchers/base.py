"""What every watcher offers the bot: one poll, and a report of what it stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class PollReport:
    """What one poll did: transfers stored or changed, requests made, errors met."""

    chain: str
    new: int = 0
    confirmed: int = 0
    orphaned: int = 0
    requests: int = 0
    height: int | None = None
    errors: list[str] = field(default_factory=list)
    # True when another instance held this chain's poll lock, so this poll did nothing.
    skipped: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


class Watcher(Protocol):
    """A chain watcher: each call to ``poll`` brings the ledger up to date with the chain."""

    chain: str

    async def poll(self) -> PollReport:
        """Fetch what is new, store it (with the cursor, in one transaction) and report."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
