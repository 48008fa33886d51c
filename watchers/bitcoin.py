"""The Bitcoin watcher: donations to watched addresses through Esplora, one cheap request per quiet address.

Each poll, per active wallet of the chain: ``GET /address/:addr``; when its confirmed and mempool
transaction counts are what the wallet's cursor remembers (and no stored donation waits in the
mempool), that one request is the whole poll for it. Otherwise the mempool list is read, then the
confirmed history newest first, page by page, only until a transaction already seen; the
address's transfers and its cursor are committed in one transaction. One failing address never
stops the others. Before the addresses, transfers in recent blocks are re-checked against the
best chain (``watchers.bitcoin_reorg``); after them, pending ones deep enough are confirmed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import select

from ledger.database import Database
from ledger.derived_addresses import save_address_cursor
from ledger.history_import import importing_wallet_ids
from ledger.locks import chain_lock
from ledger.models import Transfer, TransferStatus, Wallet, WalletCursor
from ledger.types import utcnow
from ledger.wallets import list_wallets
from ledger.writes import TransferIn, WriteResult, confirm_up_to, record_transfers, set_status
from watchers.base import PollReport
from watchers.bitcoin_reorg import recheck_recent_blocks
from watchers.errors import MalformedResponse, WatcherError
from watchers.key_wallets import AddressTarget, ensure_window, key_wallet_of, targets_of
from watchers.esplora_client import CHAIN_PAGE, MEMPOOL_CAP, AddressStats, EsploraClient
from watchers.esplora_mapping import TxView, read_tx, to_transfer
from watchers.retry import RetryPolicy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BitcoinChainConfig:
    """What the Bitcoin watcher is told (the bot converts its settings into this)."""

    name: str
    esplora_urls: tuple[str, ...]
    network: str = "mainnet"
    confirmations: int = 6
    requests_per_second: float = 2.0
    timeout_seconds: float = 20.0
    # Addresses synced at once; the per-source rate limit still bounds the request rate.
    concurrency: int = 4
    # Blocks below the tip whose transfers are re-checked against the best chain each poll.
    reorg_window: int = 10
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # Extended-key wallets: unused addresses kept derived past the last used one, per branch.
    gap_limit: int = 20


class _Cursor(NamedTuple):
    chain_tx_count: int
    mempool_tx_count: int
    newest_txid: str | None
    synced: bool = True  # False before the address's first sync: what it finds confirmed then is its past


_NO_CURSOR = _Cursor(0, 0, None, synced=False)


class BitcoinWatcher:
    """Watches every active wallet of one Bitcoin chain through Esplora."""

    def __init__(self, config: BitcoinChainConfig, db: Database, client: EsploraClient | None = None) -> None:
        self.config = config
        self.chain = config.name
        self.db = db
        self.client = client or EsploraClient(
            list(config.esplora_urls),
            requests_per_second=config.requests_per_second,
            timeout_seconds=config.timeout_seconds,
            retry=config.retry,
        )
        self._tip: int | None = None  # this poll's tip, fetched at most once, when needed
        self._tip_lock = asyncio.Lock()
        self.last_tip: int | None = None  # the last tip seen, kept between polls
        # The highest tip any source has shown: a source below it lags (a failover to a server
        # still catching up), and its silence about a transaction proves nothing this poll.
        self.best_tip: int | None = None
        self.lagging = False
        # This poll's best-chain block hashes by height (re-checked blocks, confirmed sightings):
        # a pending transfer is confirmed only when its stored block is the one here.
        self._hashes: dict[int, str] = {}

    async def close(self) -> None:
        await self.client.close()

    async def tip(self) -> int:
        """The best chain's height, asked once per poll and only by a poll that needs it."""
        async with self._tip_lock:
            if self._tip is None:
                self._tip = await self.client.tip_height()
                self.last_tip = self._tip
                self.lagging = self.best_tip is not None and self._tip < self.best_tip
                if self.lagging:
                    log.warning("esplora source lags chain=%s tip=%d best=%s: nothing is moved back this poll",
                                self.chain, self._tip, self.best_tip)
                self.best_tip = max(self._tip, self.best_tip or 0)
            return self._tip

    async def poll(self) -> PollReport:
        """Bring every active wallet of this chain up to date; errors are per address, in the report.

        Only one instance polls a chain at a time: when another holds the chain's lock, the
        report says ``skipped`` and nothing was read or written.
        """
        async with chain_lock(self.db, self.chain) as held:
            if not held:
                log.info("poll skipped chain=%s: another instance is polling it", self.chain)
                return PollReport(chain=self.chain, skipped=True)
            return await self._poll()

    def note_block(self, height: int | None, block_hash: str | None) -> None:
        """Remember the best chain's block at ``height`` as the source said during this poll."""
        if height is not None and block_hash is not None:
            self._hashes.setdefault(height, block_hash)

    async def _poll(self) -> PollReport:
        report = PollReport(chain=self.chain)
        before = self.client.requests
        self._tip = None
        self.lagging = False
        self._hashes = {}
        # Blocks first: a transfer moved or orphaned by a reorg marks its wallet for a re-read,
        # which the address pass below then does in this same poll.
        checked = False
        try:
            _count(report, await recheck_recent_blocks(self))
            checked = True
        except WatcherError as exc:
            # In the report, as every failure of a poll: the runner says it once per streak.
            log.debug("bitcoin block re-check failed chain=%s error=%s", self.chain, exc)
            report.errors.append(f"re-check of recent blocks: {exc}")
        wallets, cursors, waiting, importing = await self._load()
        gate = asyncio.Semaphore(max(1, self.config.concurrency))
        keyed = [w for w in wallets if key_wallet_of(w, self.config.network) is not None]
        wallets = [w for w in wallets if w not in keyed]

        async def one(wallet: Wallet | AddressTarget) -> None:
            assert wallet.id is not None
            cursor = (_Cursor(wallet.chain_tx_count, wallet.mempool_tx_count, wallet.newest_txid) if isinstance(wallet, AddressTarget)
                      else cursors.get(wallet.id, _NO_CURSOR))
            async with gate:
                try:
                    await self._sync_address(
                        wallet, cursor, {} if isinstance(wallet, AddressTarget) else waiting.get(wallet.id, {}), report,
                        newest_page_only=wallet.id in importing,
                    )
                except WatcherError as exc:
                    log.debug("bitcoin address sync failed chain=%s wallet=%s error=%s", self.chain, wallet.address, exc)
                    report.errors.append(f"{wallet.address}: {exc}")
                except Exception as exc:  # noqa: BLE001 - one address's surprise must not stop the others
                    log.exception("bitcoin address sync crashed chain=%s wallet=%s", self.chain, wallet.address)
                    report.errors.append(f"{wallet.address}: {type(exc).__name__}: {exc}")

        await asyncio.gather(*(one(w) for w in wallets))
        await self._sync_key_wallets(keyed, one)
        if checked and self._tip is not None:
            # Every pending transfer's block was checked this poll (or just read), so depth is safe to apply.
            async with self.db.session() as s:
                depth = self._tip - self.config.confirmations + 1
                _count(report, await confirm_up_to(s, self.chain, depth, self._hashes))
        report.requests = self.client.requests - before
        report.height = self._tip
        return report

    async def _sync_key_wallets(self, wallets: list[Wallet], one) -> None:  # type: ignore[no-untyped-def]
        """Sync every derived address of the extended-key wallets, growing each window as addresses get used."""
        synced: set[tuple[int, str]] = set()
        for _ in range(100):  # each round extends a window by up to gap_limit addresses
            todo: list[AddressTarget] = []
            async with self.db.session() as s:
                for wallet in wallets:
                    key = key_wallet_of(wallet, self.config.network)
                    assert key is not None
                    await ensure_window(s, wallet, key, self.config.gap_limit)
                    todo += [t for t in await targets_of(s, wallet) if (t.id, t.address) not in synced]
            if not todo:
                return
            await asyncio.gather(*(one(t) for t in todo))
            synced.update((t.id, t.address) for t in todo)

    async def _load(self) -> tuple[list[Wallet], dict[int, _Cursor], dict[int, dict[str, int]], set[int]]:
        """Wallets, their cursors, their donations still waiting in the mempool (txid -> transfer id),
        and the wallets whose history an import is still reading (watchers.bitcoin_history)."""
        async with self.db.session() as s:
            wallets = list(await list_wallets(s, chain=self.chain))
            importing = await importing_wallet_ids(s, self.chain, unfinished_only=True)
            ids = [w.id for w in wallets]
            cursors: dict[int, _Cursor] = {}
            waiting: dict[int, dict[str, int]] = {}
            if ids:
                for c in (await s.execute(select(WalletCursor).where(WalletCursor.wallet_id.in_(ids)))).scalars():
                    cursors[c.wallet_id] = _Cursor(c.chain_tx_count, c.mempool_tx_count, c.newest_txid)
                rows = await s.execute(
                    select(Transfer.wallet_id, Transfer.txid, Transfer.id).where(
                        Transfer.chain == self.chain,
                        Transfer.status == TransferStatus.PENDING,
                        Transfer.block_height.is_(None),
                    )
                )
                for wallet_id, txid, tid in rows:
                    waiting.setdefault(wallet_id, {})[txid] = tid
        return wallets, cursors, waiting, importing

    async def _sync_address(
        self, wallet: Wallet | AddressTarget, cursor: _Cursor, waiting: dict[str, int], report: PollReport, *, newest_page_only: bool = False
    ) -> None:
        assert wallet.id is not None
        address = wallet.address
        stats = await self.client.address_stats(address)
        counts_same = (stats.chain_tx_count, stats.mempool_tx_count) == (cursor.chain_tx_count, cursor.mempool_tx_count)
        if counts_same and not waiting and cursor.synced:
            return  # (an address never synced gets its cursor even when it is empty: its first donation is news)
        # The mempool first, then the chain (electrs' own order): a transaction confirmed between
        # the two reads is then in at least one of them.
        mempool: list[TxView] = []
        if stats.mempool_tx_count > 0:
            raw = await self.client.mempool_txs(address)
            mempool = [read_tx(self.client.source, tx, address) for tx in raw]
        mempool_complete = stats.mempool_tx_count < MEMPOOL_CAP and len(mempool) < MEMPOOL_CAP
        confirmed: list[TxView] = []
        newest = cursor.newest_txid
        if stats.chain_tx_count != cursor.chain_tx_count:
            confirmed, newest = await self._new_confirmed(wallet, cursor, stats, newest_page_only=newest_page_only)

        views: dict[str, TxView] = {v.txid: v for v in mempool}
        views.update({v.txid: v for v in confirmed})  # a confirmed sighting wins
        items: list[TransferIn] = []
        for view in views.values():
            self.note_block(view.status.block_height, view.status.block_hash)
            tip = await self.tip() if view.status.confirmed and view.position is not None else None
            item = to_transfer(view, chain=self.chain, wallet_id=wallet.id, tip=tip, confirmations=self.config.confirmations)
            if item is not None and not (isinstance(wallet, AddressTarget) and wallet.own.intersection(item.senders)):
                items.append(item)  # (a payment from the wallet's own addresses is its change, not a donation)
        orphans: list[int] = []
        for txid, tid in waiting.items():
            if txid in views or not mempool_complete:
                continue
            # Gone from the address's (complete) mempool list and not in new blocks: confirmed in a
            # block whose history page we did not need, or replaced, dropped, or reorged out and
            # double-spent. Ask for the transaction itself: unknown (404), or known but in no block
            # of the best chain (electrs keeps serving transactions of stale blocks, unconfirmed),
            # it is orphaned.
            tx = await self.client.tx(txid)
            view = read_tx(self.client.source, tx, address) if tx is not None else None
            if view is None or not view.status.confirmed:
                await self.tip()
                if not self.lagging:
                    orphans.append(tid)
                continue
            self.note_block(view.status.block_height, view.status.block_hash)
            item = to_transfer(view, chain=self.chain, wallet_id=wallet.id, tip=await self.tip(), confirmations=self.config.confirmations)
            if item is not None:
                items.append(item)
        async with self.db.session() as s:
            if (newest_page_only and cursor.newest_txid is None) or not cursor.synced:
                # A wallet's first sync (or its first while its import runs): what is already confirmed
                # is its past, counted and screened but not announced one by one; the mempool is news.
                past = [i for i in items if i.block_height is not None]
                result = await record_transfers(s, past, history=True)
                result.merge(await record_transfers(s, [i for i in items if i.block_height is None]))
            else:
                result = await record_transfers(s, items)
            if orphans:
                result.merge(await set_status(s, orphans, TransferStatus.ORPHANED))
            if isinstance(wallet, AddressTarget):
                await save_address_cursor(s, wallet.id, wallet.address, stats.chain_tx_count, stats.mempool_tx_count, newest)
            else:
                row = await s.get(WalletCursor, wallet.id)
                if row is None:
                    row = WalletCursor(wallet_id=wallet.id)
                    s.add(row)
                row.chain_tx_count = stats.chain_tx_count
                row.mempool_tx_count = stats.mempool_tx_count
                row.newest_txid = newest
                row.updated_at = utcnow()
        _count(report, result)

    async def _new_confirmed(
        self, wallet: Wallet | AddressTarget, cursor: _Cursor, stats: AddressStats, *, newest_page_only: bool = False
    ) -> tuple[list[TxView], str | None]:
        """Confirmed transactions newer than the last one seen, newest first, and the newest txid.

        Pages are read only until the cursor's newest transaction, a stored transfer's transaction,
        or a block below the wallet's start height; while an import reads the wallet's history, only
        the newest page (``newest_page_only``). A history that ends early ([] for a page
        anchor a reorg removed, fewer transactions than the address's count) is an error for
        this poll, never "nothing new".
        """
        assert wallet.id is not None
        address = wallet.address
        anchor = cursor.newest_txid
        stored: set[str] | None = None
        new: list[TxView] = []
        newest: str | None = None
        seen = 0
        last_seen: str | None = None
        while True:
            page = await self.client.chain_txs(address, last_seen)
            views = [read_tx(self.client.source, tx, address) for tx in page]
            if newest is None and views:
                newest = views[0].txid
            for view in views:
                if view.txid == anchor or (stored is not None and view.txid in stored):
                    return new, newest
                if not view.status.confirmed:
                    raise MalformedResponse(self.client.source, f"/address/{address}/txs/chain: tx {view.txid} is not confirmed")
                if wallet.start_height is not None and (view.status.block_height or 0) < wallet.start_height:
                    return new, newest
                new.append(view)
            seen += len(views)
            if newest_page_only and anchor is None:
                return new, newest  # the older pages are the import's
            if len(page) < CHAIN_PAGE:
                if seen < stats.chain_tx_count:
                    raise MalformedResponse(
                        self.client.source,
                        f"/address/{address}/txs/chain ended after {seen} of {stats.chain_tx_count} transactions "
                        "(a reorg while paging?); will read it again next poll",
                    )
                # The whole history was read: its newest transaction is the anchor (None when it is
                # empty now, e.g. the old anchor was reorged out and double-spent).
                return new, newest
            if stored is None and anchor is not None:
                # The anchor was not on the first page: stop at any transaction already stored too.
                stored = await self._stored_txids(wallet.id)
                for i, view in enumerate(new):
                    if view.txid in stored:
                        return new[:i], newest
            last_seen = page[-1]["txid"]

    async def _stored_txids(self, wallet_id: int) -> set[str]:
        """Transactions of the wallet stored in blocks too deep to be reorged: safe places to stop paging."""
        if self.last_tip is None:
            return set()
        deep = self.last_tip - self.config.reorg_window
        async with self.db.session() as s:
            rows = await s.execute(
                select(Transfer.txid).where(
                    Transfer.chain == self.chain,
                    Transfer.wallet_id == wallet_id,
                    Transfer.block_height.is_not(None),
                    Transfer.block_height < deep,
                )
            )
            return set(rows.scalars())


def _count(report: PollReport, result: WriteResult) -> None:
    report.new += len(result.inserted)
    report.confirmed += len(result.confirmed)
    report.orphaned += len(result.orphaned)
