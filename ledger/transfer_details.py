"""One transfer as people are told about it: the row, its wallet, its senders, how it arrived."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import Event, EventKind, Transfer, Wallet
from ledger.queries import senders_of


@dataclass(frozen=True, slots=True)
class TransferDetails:
    """A stored transfer with the wallet it paid and the addresses that sent it."""

    transfer: Transfer
    wallet: Wallet
    senders: list[str]
    history: bool  # stored by a backfill or first sync: counted, never announced one by one


async def transfer_details(session: AsyncSession, transfer_id: int) -> TransferDetails | None:
    """The transfer with this id and its wallet, senders and arrival kind; None when unknown."""
    transfer = await session.get(Transfer, transfer_id)
    if transfer is None:
        return None
    wallet = await session.get(Wallet, transfer.wallet_id)
    assert wallet is not None  # a foreign key
    first = await session.scalar(
        select(Event.detail).where(Event.transfer_id == transfer_id, Event.kind == str(EventKind.TRANSFER_NEW)).order_by(Event.id).limit(1)
    )
    history = bool((first or {}).get("history"))
    return TransferDetails(transfer, wallet, await senders_of(session, transfer_id), history)


async def transfers_by_txid(session: AsyncSession, txid: str) -> list[TransferDetails]:
    """Every stored transfer of one transaction id (any chain), in position order."""
    ids = (await session.execute(select(Transfer.id).where(Transfer.txid == txid).order_by(Transfer.chain, Transfer.position))).scalars()
    out = []
    for transfer_id in list(ids):
        details = await transfer_details(session, transfer_id)
        if details is not None:
            out.append(details)
    return out
