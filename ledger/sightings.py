"""A transfer as a watcher saw it, before the ledger stores it: plain values, no database.

Watchers build these (in a scan process too: see watchers.scan_process), so this module imports
nothing of SQLAlchemy; ``ledger.models`` and ``ledger.writes`` take their names from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class TransferStatus(StrEnum):
    """Where a transfer stands: seen, buried deep enough, or dropped from the best chain."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    ORPHANED = "orphaned"


# (chain, txid, wallet_id, asset, position): see ledger.models.Transfer.
NaturalKey = tuple[str, str, int, str, int]


@dataclass(frozen=True, slots=True)
class TransferIn:
    """A transfer as a watcher saw it, before it is stored."""

    chain: str
    txid: str
    position: int
    wallet_id: int
    asset: str
    decimals: int
    amount: int
    senders: tuple[str, ...] = ()
    token: str | None = None
    block_height: int | None = None
    block_hash: str | None = None
    block_time: datetime | None = None
    status: TransferStatus = TransferStatus.PENDING
    # EVM token transfers: the log's index in its block now (it moves when a reorg re-includes it).
    log_index: int | None = None

    @property
    def key(self) -> NaturalKey:
        return (self.chain, self.txid, self.wallet_id, self.asset, self.position)

    def with_status(self, status: TransferStatus) -> TransferIn:
        """The same sighting with another status (``dataclasses.replace``, at a fraction of its cost)."""
        return TransferIn(
            self.chain, self.txid, self.position, self.wallet_id, self.asset, self.decimals, self.amount, self.senders,
            self.token, self.block_height, self.block_hash, self.block_time, status, self.log_index,
        )

    def __reduce__(self) -> tuple[type[TransferIn], tuple[object, ...]]:
        # Sightings cross a process boundary by the thousand (watchers.scan_process): rebuilt from
        # their fields in order, several times faster than a slots dataclass's default state.
        return TransferIn, (
            self.chain, self.txid, self.position, self.wallet_id, self.asset, self.decimals, self.amount, self.senders,
            self.token, self.block_height, self.block_hash, self.block_time, self.status, self.log_index,
        )
