"""Re-screening stored past senders against the addresses a new list version added."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import Transfer, TransferSender
from ledger.screening_tables import ScreeningHit
from screening.hits import Candidate, store_hits
from screening.index import ScreeningIndex
from screening.normalize import fast_key


async def rescreen_senders(
    session: AsyncSession, index: ScreeningIndex, added: Collection[str], source: str, *, now: datetime
) -> list[ScreeningHit]:
    """Every stored sender now matching an added key of ``source`` becomes a hit dated now on its old transfer.

    Senders are read in full and keyed in Python, so a sender stored in any spelling (EIP-55 or
    lowercase) is found.
    """
    if not added:
        return []
    candidates: list[Candidate] = []
    rows = await session.stream(
        select(TransferSender.transfer_id, TransferSender.address, Transfer.chain).join(
            Transfer, Transfer.id == TransferSender.transfer_id
        )
    )
    async for transfer_id, address, chain in rows:
        key = fast_key(address)
        if key is None or key not in added:
            continue
        for match in index.lookup_key(key):
            if match.list.source == source:
                candidates.append(Candidate(transfer_id, chain, address, match))
    return await store_hits(session, candidates, cause="rescreen", now=now)
