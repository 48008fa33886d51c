"""A Bitcoin wallet's history, imported page by page through Esplora at the source's rate limit.

Esplora lists an address's confirmed transactions newest first, 25 a page, each page after the
last txid of the one before. The import walks that list down to the wallet's start height or
date (or the first transaction), storing each page as history together with its place in the list,
so a first sync of 10,000 transactions (400 pages, 200 s at 2 requests a second) reports progress
as it goes and continues where it stopped. The next page is asked for while one is stored, so the
pace is the source's rate limit (benchmarks/bench_bitcoin.py --case first-sync measures how close). Meanwhile the live watcher reads only the newest page
of this wallet (see ``watchers.bitcoin``). At the end, the wallet's cursor is set to what the
import saw first, so the live watcher then reads only what came after.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from ledger.database import Database
from ledger.history_import import finish_import, get_import, record_progress
from ledger.history_tables import ImportState, WalletImport
from ledger.models import Wallet, WalletCursor
from ledger.types import utcnow
from ledger.writes import record_transfers
from watchers.descriptors import looks_like_key_wallet
from watchers.errors import MalformedResponse, WatcherError
from watchers.esplora_client import CHAIN_PAGE, EsploraClient
from watchers.esplora_mapping import block_time, read_tx, to_transfer
from watchers.evm_history import ImportOutcome, ImportProgress, Progress

log = logging.getLogger(__name__)


class BitcoinHistory:
    """Imports the confirmed history of single wallets of one Bitcoin chain."""

    def __init__(self, db: Database, client: EsploraClient, chain: str, *, confirmations: int = 6) -> None:
        self.db = db
        self.client = client
        self.chain = chain
        self.confirmations = confirmations

    async def close(self) -> None:
        """The client belongs to the live watcher (one rate limit per source); nothing to close here."""

    async def run(self, wallet_id: int, *, progress: Progress | None = None) -> ImportOutcome:
        """Import (or continue importing) one wallet's confirmed history."""
        async with self.db.session() as s:
            imp = await get_import(s, wallet_id)
            wallet = await s.get(Wallet, wallet_id)
        if imp is None or wallet is None:
            raise WatcherError(f"{self.chain}: wallet {wallet_id} has no history import planned")
        outcome = ImportOutcome(wallet_id)
        if imp.state == ImportState.DONE:
            outcome.finished = True
            return outcome
        address = wallet.address
        if looks_like_key_wallet(address):
            # An xpub wallet's addresses are each read whole by the live watcher's first sync of them.
            async with self.db.session() as s:
                await finish_import(s, wallet_id)
            outcome.finished = True
            return outcome
        stats = await self.client.address_stats(address)
        tip = await self.client.tip_height()
        total = stats.chain_tx_count
        # resume is "last txid read:newest txid of the first page" (the newest becomes the live cursor).
        last_seen, _, kept = (imp.resume or "").partition(":")
        newest: str | None = kept or None
        seen = imp.done if last_seen else 0
        last_seen = last_seen or None
        if progress:
            progress(ImportProgress(wallet_id, "transactions", seen, total))
        first_page = last_seen is None
        # Each page is stored while the next one is asked for: the source's rate limit, not our
        # writes, sets the pace (a page's successor is named by its last txid, known on arrival).
        ahead = asyncio.ensure_future(self.client.chain_txs(address, last_seen))
        try:
            while True:
                page = await ahead
                if not page and last_seen is not None and seen < total:
                    # The page anchor left the best chain (a reorg): start again from the newest page.
                    async with self.db.session() as s:
                        await record_progress(s, wallet_id, resume=None, done=0, total=total)
                    raise MalformedResponse(self.client.source, f"/address/{address}/txs/chain lost its place at {last_seen}; the import starts over")
                views = [read_tx(self.client.source, tx, address) for tx in page]
                if first_page and views:
                    newest = views[0].txid
                    first_page = False
                below = False
                items = []
                for view in views:
                    if _before(imp, view.status.block_height, block_time(view.status)):
                        below = True
                        break
                    item = to_transfer(view, chain=self.chain, wallet_id=wallet_id, tip=tip, confirmations=self.confirmations)
                    if item is not None:
                        items.append(item)
                seen += len(views)
                end = below or len(page) < CHAIN_PAGE
                last_seen = page[-1]["txid"] if page else last_seen
                if not end:
                    ahead = asyncio.ensure_future(self.client.chain_txs(address, last_seen))
                async with self.db.session() as s:
                    result = await record_transfers(s, items, history=True)
                    await record_progress(s, wallet_id, resume=None if end else f"{last_seen}:{newest or ''}", done=seen,
                                          total=max(total, seen), stored=len(result.inserted))
                    if end:
                        await self._hand_over(s, imp, wallet_id, stats.chain_tx_count, newest)
                        await finish_import(s, wallet_id)
                outcome.stored += len(result.inserted)
                outcome.transfer_ids += result.inserted
                if progress:
                    progress(ImportProgress(wallet_id, "transactions", seen, max(total, seen), outcome.stored))
                if end:
                    outcome.finished = True
                    return outcome
        finally:
            # A failed write, or an interrupt, leaves a page in flight: it is not needed any more.
            if not ahead.done():
                ahead.cancel()
            await asyncio.gather(ahead, return_exceptions=True)

    async def _hand_over(self, s, imp: WalletImport, wallet_id: int, chain_tx_count: int, newest: str | None) -> None:  # type: ignore[no-untyped-def]
        """Give the live watcher a cursor at what this import saw first, unless it has one already."""
        row = await s.get(WalletCursor, wallet_id)
        if row is not None:
            return
        # mempool count -1: the live watcher's next poll reads the mempool and anything newer.
        s.add(WalletCursor(wallet_id=wallet_id, chain_tx_count=chain_tx_count, mempool_tx_count=-1, newest_txid=newest, updated_at=utcnow()))


def _before(imp: WalletImport, height: int | None, when: datetime | None) -> bool:
    """Whether a transaction lies before the wallet's start height or date."""
    if imp.since_height is not None and height is not None and height < imp.since_height:
        return True
    return imp.since_time is not None and when is not None and when < imp.since_time
