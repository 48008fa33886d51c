"""Which wallets get a history import when added, and the importer built for each chain family."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ledger.database import Database
from ledger.history_import import get_import
from ledger.models import ChainCursor, WalletCursor
from ledger.wallets import upsert_wallet
from bot.history_wiring import build_importer, plan_for_new_wallet
from bot.settings import Settings, load_settings
from tests.fakes.esplora import fake_address
from watchers.bitcoin_history import BitcoinHistory
from watchers.evm_history import EvmHistory

ETH = "0x0000000000000000000000000000000000d00501"


def settings_for(db: Database, tmp_path: Path, explorer: bool = False) -> Settings:
    path = tmp_path / "bot.toml"
    table = '\n[chains.eth.explorer]\nkind = "blockscout"\nurl = "http://127.0.0.1:9/api"\n' if explorer else ""
    path.write_text(f"""
data_dir = "{tmp_path / 'data'}"
[database]
url = "{db.url.render_as_string(hide_password=False)}"
[chains.btc]
kind = "bitcoin"
esplora_urls = ["http://127.0.0.1:9/api"]
[chains.eth]
kind = "evm"
chain_id = 31337
rpc_urls = ["http://127.0.0.1:9"]
{table}
""")
    return load_settings(path)


async def _add(db: Database, settings: Settings, chain: str, address: str, start: int | None = None, since: date | None = None) -> int:
    async with db.session() as s:
        wallet, _ = await upsert_wallet(s, chain, address, start_height=start)
        await plan_for_new_wallet(s, settings, wallet, since=since)
        assert wallet.id is not None
        return wallet.id


async def _planned(db: Database, wallet_id: int) -> bool:
    async with db.session() as s:
        return await get_import(s, wallet_id) is not None


class TestPlanning:
    async def test_evm_wallet_added_to_a_followed_chain_is_imported(self, db: Database, tmp_path: Path) -> None:
        """An EVM wallet with a start height, added after the chain's first poll, gets an import from that height."""
        settings = settings_for(db, tmp_path)
        async with db.session() as s:
            s.add(ChainCursor(chain="eth", height=100))
        wid = await _add(db, settings, "eth", ETH, start=5)
        async with db.session() as s:
            imp = await get_import(s, wid)
        assert imp is not None and imp.since_height == 5 and imp.unit == "blocks"

    async def test_evm_wallet_on_a_chain_not_yet_polled_is_left_to_the_first_poll(self, db: Database, tmp_path: Path) -> None:
        """Before the chain's first poll (no explorer), the first poll scans from the start height itself."""
        wid = await _add(db, settings_for(db, tmp_path), "eth", ETH, start=5)
        assert not await _planned(db, wid)

    async def test_evm_wallet_with_an_explorer_is_imported_from_the_start(self, db: Database, tmp_path: Path) -> None:
        """With an explorer configured, even the first wallets' history comes by import (the first poll starts at the tip)."""
        wid = await _add(db, settings_for(db, tmp_path, explorer=True), "eth", ETH, since=date(2022, 2, 26))
        assert await _planned(db, wid)

    async def test_evm_wallet_without_start_has_no_history_to_import(self, db: Database, tmp_path: Path) -> None:
        """An EVM wallet added with neither a start height nor a date is watched from now on."""
        wid = await _add(db, settings_for(db, tmp_path, explorer=True), "eth", ETH)
        assert not await _planned(db, wid)

    async def test_bitcoin_wallet_added_to_a_followed_chain_imports_its_whole_history(self, db: Database, tmp_path: Path) -> None:
        """A Bitcoin wallet added after the chain's first poll gets its whole address history imported."""
        settings = settings_for(db, tmp_path)
        first = await _add(db, settings, "btc", fake_address(1))
        async with db.session() as s:
            s.add(WalletCursor(wallet_id=first, chain_tx_count=1))
        later = await _add(db, settings, "btc", fake_address(2))
        assert not await _planned(db, first) and await _planned(db, later)


class TestImporter:
    async def test_one_importer_per_chain_family(self, db: Database, tmp_path: Path) -> None:
        """Each configured chain gets its family's importer, sharing the live watcher's client."""
        from bot.chains import build_watchers

        settings = settings_for(db, tmp_path, explorer=True)
        watchers = {w.chain: w for w in build_watchers(settings, db)}
        importer = build_importer(settings, db, watchers)
        try:
            assert isinstance(importer.chains["btc"], BitcoinHistory) and importer.chains["btc"].client is watchers["btc"].client  # type: ignore[attr-defined]
            assert isinstance(importer.chains["eth"], EvmHistory) and importer.chains["eth"].explorer is not None
        finally:
            await importer.close()
            for w in watchers.values():
                await w.close()
