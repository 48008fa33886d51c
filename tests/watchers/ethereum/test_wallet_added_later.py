"""A wallet added while the chain is followed gets exactly its history once, by import, while live polling runs."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from ledger.database import Database
from ledger.history_import import get_import, plan_import
from ledger.history_tables import ImportState
from ledger.models import Event, Transfer
from ledger.wallets import upsert_wallet
from tests.watchers.ethereum.conftest import CHAIN, WatcherFactory, add_wallet, stored
from tests.watchers.ethereum.devchain import ETH, DevChain, fresh_address
from watchers.evm_history import EvmHistory
from watchers.evm_source import EvmSource
from watchers.history_import import HistoryImporter


async def _history_flags(db: Database) -> dict[str, bool]:
    async with db.session() as s:
        rows = await s.execute(
            select(Transfer.txid, Event.detail).join(Event, Event.transfer_id == Transfer.id).where(Event.kind == "transfer.new")
        )
        return {txid: bool(detail.get("history")) for txid, detail in rows}


class TestWalletAddedLater:
    async def test_history_once_while_live_polling_runs(self, db: Database, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """Past donations arrive by import (as history), new ones by the live poll (as news), each exactly once."""
        await add_wallet(db, fresh_address(400), start_height=1)
        watcher = make_watcher()
        late = fresh_address(401)
        past = [dev.send(dev.accounts[1], late, (i + 1) * ETH) for i in range(3)]
        assert (await watcher.poll()).ok  # the chain is followed; `late` is not watched yet
        assert await stored(db) == []

        async with db.session() as s:
            wallet, _ = await upsert_wallet(s, CHAIN, late, start_height=1)
            await plan_import(s, wallet, since_height=1)
            late_id = wallet.id
        importer = HistoryImporter(db, {CHAIN: EvmHistory(db, EvmSource(watcher.config, watcher.rpc), batch_blocks=2)})
        stop = asyncio.Event()

        async def live() -> None:
            while not stop.is_set():
                assert (await watcher.poll()).ok
                await asyncio.sleep(0.01)

        task = asyncio.create_task(live())
        news = []
        for i in range(3):
            await importer.run_pending()
            await asyncio.sleep(0.03)
            news.append(dev.send(dev.accounts[2], late, (10 + i) * ETH))
        for _ in range(100):
            await importer.run_pending()
            async with db.session() as s:
                imp = await get_import(s, late_id)
                assert imp is not None
                if imp.state == ImportState.DONE:
                    break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.05)
        stop.set()
        await task
        assert (await watcher.poll()).ok

        rows = [t for t in await stored(db) if t.wallet_id == late_id]
        assert sorted(t.txid for t in rows) == sorted(past + news)
        flags = await _history_flags(db)
        assert {t: flags[t] for t in past} == dict.fromkeys(past, True)
        assert {t: flags[t] for t in news} == dict.fromkeys(news, False)
        assert imp.state == ImportState.DONE and imp.stored == 3
