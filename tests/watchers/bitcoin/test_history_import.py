"""A Bitcoin wallet's history imported page by page from Esplora: once, as history, resumably, beside the live watcher."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from ledger.database import Database
from ledger.history_import import get_import, plan_import
from ledger.history_tables import ImportState
from ledger.models import Event, Transfer, Wallet, WalletCursor
from tests.fakes.esplora import EsploraFake, fake_address, make_tx
from tests.watchers.bitcoin.conftest import FAST_RETRY, transfers, watch
from watchers.bitcoin import BitcoinWatcher
from watchers.bitcoin_history import BitcoinHistory
from watchers.errors import SourceUnavailable
from watchers.evm_history import ImportProgress


def _donations(fake: EsploraFake, address: str, count: int, *, per_block: int = 10) -> list[str]:
    txids = []
    for i in range(count):
        txids.append(fake.add_tx(make_tx([(fake_address(10_000 + i), 20_000 + i)], [(address, 10_000 + i)])))
        if (i + 1) % per_block == 0:
            fake.mine()
    fake.mine()
    return txids


async def _plan(db: Database, wallet_id: int) -> None:
    async with db.session() as s:
        wallet = await s.get(Wallet, wallet_id)
        assert wallet is not None
        await plan_import(s, wallet, unit="transactions")


async def _history_flags(db: Database) -> dict[str, bool]:
    async with db.session() as s:
        rows = await s.execute(
            select(Transfer.txid, Event.detail).join(Event, Event.transfer_id == Transfer.id).where(Event.kind == "transfer.new")
        )
        return {txid: bool(detail.get("history")) for txid, detail in rows}


class TestBitcoinHistoryImport:
    async def test_wallet_added_later_gets_its_history_once_beside_live_polls(
        self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher
    ) -> None:
        """The live poll reads only the newest page while the import reads all 60; a later donation is news; each once."""
        await watch(db, fake_address(1))
        assert (await watcher.poll()).ok  # the chain is followed
        late = fake_address(2)
        past = _donations(fake, late, 60)
        wid = await watch(db, late)
        await _plan(db, wid)
        pages_before = fake.requests["/address/{address}/txs/chain/{last_seen}"]
        assert (await watcher.poll()).ok
        assert fake.requests["/address/{address}/txs/chain/{last_seen}"] == pages_before  # newest page only
        assert len(await transfers(db, wid)) == 25
        outcome = await BitcoinHistory(db, watcher.client, watcher.chain).run(wid)
        assert outcome.finished and outcome.stored == 35
        new = fake.add_tx(make_tx([(fake_address(3), 90_000)], [(late, 80_000)]))
        fake.mine()
        assert (await watcher.poll()).ok
        rows = await transfers(db, wid)
        assert sorted(t.txid for t in rows) == sorted(past + [new])
        flags = await _history_flags(db)
        assert all(flags[t] for t in past) and flags[new] is False

    async def test_import_without_live_cursor_hands_over_to_the_live_watcher(
        self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher
    ) -> None:
        """After an import run alone, the wallet's cursor is set, so the next live poll reads no history pages."""
        late = fake_address(4)
        _donations(fake, late, 30)
        wid = await watch(db, late)
        await _plan(db, wid)
        await BitcoinHistory(db, watcher.client, watcher.chain).run(wid)
        async with db.session() as s:
            assert (await s.get(WalletCursor, wid)) is not None
        chain_pages = fake.requests["/address/{address}/txs/chain"]
        assert (await watcher.poll()).ok
        assert fake.requests["/address/{address}/txs/chain"] == chain_pages
        assert len(await transfers(db, wid)) == 30

    async def test_import_stopped_midway_continues_after_the_last_stored_page(
        self, db: Database, fake: EsploraFake, watcher_factory: Callable[..., BitcoinWatcher]
    ) -> None:
        """A source outage after two pages keeps them (though the third was asked for while they were stored); the next
        run reads only the third page, and progress reaches 60 of 60."""
        watcher = watcher_factory()
        late = fake_address(5)
        past = _donations(fake, late, 60)
        wid = await watch(db, late)
        await _plan(db, wid)
        history = BitcoinHistory(db, watcher.client, watcher.chain)
        pages = f"/address/{late}/txs/chain/"  # the pages after the first
        # The source goes down from the third page on (set while it answers the second).
        fake.before_next(pages, lambda: fake.fail_next(503, times=FAST_RETRY.attempts, path=pages))

        def _progress(p: ImportProgress) -> None:
            pass

        with pytest.raises(SourceUnavailable):
            await history.run(wid, progress=_progress)
        assert len(await transfers(db, wid)) == 50
        async with db.session() as s:
            imp = await get_import(s, wid)
            assert imp is not None and imp.state == ImportState.PENDING and imp.done == 50
        pages = fake.requests["/address/{address}/txs/chain/{last_seen}"] + fake.requests["/address/{address}/txs/chain"]
        final: list[ImportProgress] = []
        await history.run(wid, progress=final.append)
        after = fake.requests["/address/{address}/txs/chain/{last_seen}"] + fake.requests["/address/{address}/txs/chain"]
        assert after - pages == 1
        assert sorted(t.txid for t in await transfers(db, wid)) == sorted(past)
        assert (final[-1].done, final[-1].total) == (60, 60)

    async def test_the_next_page_is_asked_for_while_one_is_stored(
        self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher
    ) -> None:
        """When a page's progress is reported (after it is stored), the next page was already requested: the
        import's pace is the source's, not its writes'."""
        import threading

        late = fake_address(6)
        past = _donations(fake, late, 60)
        wid = await watch(db, late)
        await _plan(db, wid)
        requested = [threading.Event(), threading.Event()]  # pages 2 and 3 reached the source
        fake.before_next(f"/address/{late}/txs/chain/", requested[0].set)
        fake.before_next(f"/address/{late}/txs/chain/", requested[1].set)
        ahead: list[bool] = []

        def _progress(p: ImportProgress) -> None:
            if p.done in (25, 50):  # page 1 or 2 stored: is the one after it already on its way?
                ahead.append(requested[p.done // 25 - 1].wait(timeout=10))

        outcome = await BitcoinHistory(db, watcher.client, watcher.chain).run(wid, progress=_progress)
        assert outcome.finished and ahead == [True, True]
        assert sorted(t.txid for t in await transfers(db, wid)) == sorted(past)
