"""The addresses derived from an extended-key wallet (xpub / descriptor), each with its own Esplora cursor."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from ledger.types import UTCDateTime, utcnow


class WalletAddress(SQLModel, table=True):
    """One address of an extended-key wallet: branch 0 receive or 1 change, its index, whether it was used.

    Transfers to it belong to the wallet (``wallet_id``): every derived address counts as the same
    wallet. The counts and newest txid are its address-history cursor, as ``wallet_cursor`` is
    for a single-address wallet.
    """

    __tablename__ = "wallet_address"
    __table_args__ = (Index("ix_wallet_address_address", "address"),)

    wallet_id: int = Field(sa_column=Column(Integer, ForeignKey("wallet.id"), primary_key=True))
    branch: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    index: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    address: str = Field(max_length=128)
    used: bool = Field(default=False)
    chain_tx_count: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    mempool_tx_count: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    newest_txid: Optional[str] = Field(default=None, max_length=80)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
