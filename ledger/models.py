"""The ledger's tables: wallets, transfers and their senders, cursors, totals and events.

Every state change a user may be told about (a new transfer, its confirmation, its orphaning, a
sanctions hit) is written as an ``Event`` row in the same transaction as the change itself, so
the notifier can deliver it later, exactly once, even across restarts.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Optional

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, UniqueConstraint, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Field, SQLModel

from ledger.sightings import TransferStatus
from ledger.types import BigSum, BigUInt, UTCDateTime, utcnow

if TYPE_CHECKING:
    from ledger.events import StreamPosition


class EventKind(StrEnum):
    """The kinds of state change the bot can tell people about."""

    TRANSFER_NEW = "transfer.new"
    TRANSFER_CONFIRMED = "transfer.confirmed"
    TRANSFER_ORPHANED = "transfer.orphaned"
    TRANSFER_REINCLUDED = "transfer.reincluded"
    # Confirmed, then back to pending (its block left the best chain; it waits again).
    TRANSFER_UNCONFIRMED = "transfer.unconfirmed"
    SANCTIONS_HIT = "sanctions.hit"
    SANCTIONS_DELISTED = "sanctions.delisted"
    # A list source: its update failed, the list in force is too old, or both have cleared.
    SANCTIONS_UPDATE_FAILED = "sanctions.update_failed"
    SANCTIONS_LIST_STALE = "sanctions.list_stale"
    SANCTIONS_LIST_OK = "sanctions.list_ok"
    WATCHER_FAILED = "watcher.failed"
    WATCHER_RECOVERED = "watcher.recovered"
    # A node did not give optional data the config asks for (traces): blocks stored unchecked.
    CHAIN_DEGRADED = "chain.degraded"
    CHAIN_RESTORED = "chain.restored"


def _utc_column(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class Wallet(SQLModel, table=True):
    """A watched donation address on one chain."""

    __tablename__ = "wallet"
    __table_args__ = (UniqueConstraint("chain", "address", name="uq_wallet_chain_address"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    chain: str = Field(max_length=32, index=True)
    # Canonical form: EIP-55 for EVM chains, lowercase for bech32, as-is for base58.
    address: str = Field(max_length=128)
    label: str = Field(default="", max_length=200)
    start_height: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Transfer(SQLModel, table=True):
    """One incoming transfer to a watched wallet, identified by (chain, txid, wallet_id, asset, position).

    The identity survives a reorg that re-includes the transaction elsewhere: ``position`` is the
    output index (Bitcoin: the lowest output paying the wallet), for an EVM token transfer its
    ordinal among the transaction's own Transfer logs of that token to that wallet (0, 1, ...),
    -1 for an EVM transaction's own value, or -2 minus the trace's index in the transaction's
    trace list for internal EVM transfers. ``log_index`` is a token transfer's log index in its
    current block (explorers link by it); it moves with the transfer.
    """

    __tablename__ = "transfer"
    __table_args__ = (
        UniqueConstraint("chain", "txid", "wallet_id", "asset", "position", name="uq_transfer_natural_key"),
        Index("ix_transfer_asset_amount", "asset", "amount"),
        Index("ix_transfer_chain_height", "chain", "block_height"),
        Index("ix_transfer_first_seen", "first_seen"),
        # Pending transfers only: confirming by depth reads these, never the whole history below.
        Index("ix_transfer_pending", "chain", "block_height",
              sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'")),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    chain: str = Field(max_length=32)
    txid: str = Field(max_length=80)
    position: int = Field(sa_column=Column(Integer, nullable=False))
    wallet_id: int = Field(sa_column=Column(Integer, ForeignKey("wallet.id"), nullable=False, index=True))
    asset: str = Field(max_length=16)
    # Token contract for token transfers; None for the chain's native coin.
    token: Optional[str] = Field(default=None, max_length=64)
    decimals: int
    amount: int = Field(sa_column=Column(BigUInt(), nullable=False))
    block_height: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    block_hash: Optional[str] = Field(default=None, max_length=80)
    block_time: Optional[datetime] = _utc_column()
    status: str = Field(default=TransferStatus.PENDING, max_length=16)
    first_seen: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    confirmed_at: Optional[datetime] = _utc_column()
    orphaned_at: Optional[datetime] = _utc_column()
    log_index: Optional[int] = Field(default=None, sa_column=Column(Integer, nullable=True))


class TransferSender(SQLModel, table=True):
    """One sending address of a transfer (a Bitcoin transaction can have several)."""

    __tablename__ = "transfer_sender"

    transfer_id: int = Field(
        sa_column=Column(Integer, ForeignKey("transfer.id", ondelete="CASCADE"), primary_key=True)
    )
    address: str = Field(max_length=128, primary_key=True, index=True)


class WalletTotal(SQLModel, table=True):
    """Running count and sum per (wallet, asset, status), kept in step with every transfer write.

    It makes totals a read of a few rows instead of a sum over every transfer.
    """

    __tablename__ = "wallet_total"

    wallet_id: int = Field(sa_column=Column(Integer, ForeignKey("wallet.id"), primary_key=True))
    asset: str = Field(max_length=16, primary_key=True)
    status: str = Field(max_length=16, primary_key=True)
    decimals: int
    count: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    amount: int = Field(default=0, sa_column=Column(BigSum(), nullable=False))


class ChainCursor(SQLModel, table=True):
    """How far a block-scanning watcher has stored a chain."""

    __tablename__ = "chain_cursor"

    chain: str = Field(max_length=32, primary_key=True)
    height: int = Field(sa_column=Column(BigInteger, nullable=False))
    block_hash: Optional[str] = Field(default=None, max_length=80)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # The tip when the chain was first polled: transfers in blocks up to it are the wallets' past (history).
    history_until: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class RecentBlock(SQLModel, table=True):
    """A recently scanned block's hash and parent, kept to detect reorgs."""

    __tablename__ = "recent_block"

    chain: str = Field(max_length=32, primary_key=True)
    height: int = Field(sa_column=Column(BigInteger, primary_key=True))
    block_hash: str = Field(max_length=80)
    parent_hash: Optional[str] = Field(default=None, max_length=80)


class WalletCursor(SQLModel, table=True):
    """Per-address progress of an address-polling watcher (Bitcoin via Esplora)."""

    __tablename__ = "wallet_cursor"

    wallet_id: int = Field(sa_column=Column(Integer, ForeignKey("wallet.id"), primary_key=True))
    chain_tx_count: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    mempool_tx_count: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    newest_txid: Optional[str] = Field(default=None, max_length=80)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class CurrentXact(FunctionElement[int]):
    """The writing transaction's id as a column default: ``pg_current_xact_id()`` on PostgreSQL, 0 elsewhere.

    On SQLite every transaction is BEGIN IMMEDIATE, so ids already commit in order and 0 suffices.
    """

    type = BigInteger()
    inherit_cache = True


@compiles(CurrentXact)
def _current_xact_default(element: CurrentXact, compiler: Any, **kw: Any) -> str:
    return "0"


@compiles(CurrentXact, "postgresql")
def _current_xact_postgresql(element: CurrentXact, compiler: Any, **kw: Any) -> str:
    return "(pg_current_xact_id()::text::bigint)"


class Event(SQLModel, table=True):
    """A stored state change the bot may tell people about.

    Read it through ``ledger.events.read_events``, in (xact, id) order: on PostgreSQL ids are
    handed out at insert and commit out of order, so "id greater than the last one" can skip.
    """

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_xact_id", "xact", "id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    # The writing transaction (PostgreSQL xid8 as a number; 0 on SQLite). Left None on insert so
    # the database fills it in.
    xact: Optional[int] = Field(
        default=None, sa_column=Column(BigInteger, nullable=False, server_default=CurrentXact())
    )
    kind: str = Field(max_length=32)
    chain: Optional[str] = Field(default=None, max_length=32)
    transfer_id: Optional[int] = Field(
        default=None, sa_column=Column(Integer, ForeignKey("transfer.id"), nullable=True, index=True)
    )
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))

    @property
    def position(self) -> "StreamPosition":
        """Where this event stands in the stream."""
        from ledger.events import StreamPosition

        assert self.id is not None and self.xact is not None
        return StreamPosition(int(self.xact), int(self.id))


from ledger import screening_tables  # noqa: E402,F401
from ledger import ethereum_tables  # noqa: E402,F401
from ledger import stream_tables  # noqa: E402,F401
from ledger import scan_gaps  # noqa: E402,F401
from ledger import valuation_tables  # noqa: E402,F401
from ledger import chat_tables  # noqa: E402,F401
from ledger import history_tables  # noqa: E402,F401
from ledger import derived_tables  # noqa: E402,F401
from ledger import chain_health  # noqa: E402,F401
