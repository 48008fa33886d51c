"""What a scan of a block range yields: block headers, the node's head, and the transfers found.

Plain values with no database behind them, so a scan process (watchers.scan_process) imports
them cheaply and sends them back whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ledger.sightings import TransferIn


@dataclass(frozen=True, slots=True)
class BlockHeader:
    """What the loop needs of a block: where it is, what it is, and what it hangs off."""

    height: int
    hash: str
    parent_hash: str | None
    time: datetime | None = None

    def __reduce__(self) -> tuple[type[BlockHeader], tuple[object, ...]]:
        # Sent from a scan process by the thousand: see TransferIn.__reduce__.
        return BlockHeader, (self.height, self.hash, self.parent_hash, self.time)


@dataclass(frozen=True, slots=True)
class Head:
    """The node's view at the start of a poll."""

    tip: int
    # Blocks at or below this height count as confirmed.
    confirmed: int
    # The node's block at the stored cursor height, to catch a reorg that kept the tip's height.
    at_cursor: BlockHeader | None = None


@dataclass
class Scanned:
    """A fetched block range: its headers in order and the transfers into watched addresses."""

    headers: list[BlockHeader]
    transfers: list[TransferIn] = field(default_factory=list)
    # Optional data the config asks for that the node did not give for this range: kind -> why.
    unchecked: dict[str, str] = field(default_factory=dict)


def confirmed_height(tip: int, confirmations: int) -> int:
    """The highest height with at least ``confirmations`` blocks on top of (and including) it."""
    return tip - confirmations + 1
