"""A backfill's ranges scanned in a child process (watchers.scan_process): the same transfers as a scan in
this process, its failures raised here as one clear error, and nothing lost or doubled when it dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import fields, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from ledger.database import Database
from ledger.sightings import TransferIn, TransferStatus
from tests.fakes.anvil import free_port
from tests.watchers.ethereum.conftest import WatcherFactory, add_wallet, stored
from tests.watchers.ethereum.devchain import ETH, DevChain, fresh_address
from watchers.block_scan import BackfillProgress
from watchers.errors import WatcherError
from watchers.evm_config import TokenSpec
from watchers.evm_rpc import RpcError
from watchers.scan_process import ScanProcess, _portable
from watchers.scanned import BlockHeader

ROOT = Path(__file__).resolve().parents[3]


class TestScanProcess:
    async def test_backfill_through_a_scan_process_stores_every_donation_once(
        self, db: Database, dev: DevChain, make_watcher: WatcherFactory
    ) -> None:
        """Native and token donations over several ranges, scanned in the child, are stored as an in-process scan stores them."""
        usdc = dev.deploy_token("USDC", 6)
        wallet, donor = fresh_address(70), dev.accounts[2]
        await add_wallet(db, wallet)
        dev.mint(usdc, donor, 10**9)
        sent = [dev.send(dev.accounts[1], wallet, ETH + i) for i in range(3)]
        dev.mine(60)
        sent += [dev.transfer_token(usdc, donor, wallet, 1_000 + i) for i in range(2)]
        dev.mine(60)
        watcher = make_watcher(tokens=(TokenSpec("USDC", usdc, 6),), blocks_per_range=20)
        child = ScanProcess(replace(watcher.config, transport="aiohttp"))
        try:
            seen: list[BackfillProgress] = []
            assert await watcher.backfill(1, progress=seen.append, scans=child.scans) == (1, dev.height())
        finally:
            await child.close()
        rows = await stored(db)
        assert sorted(t.txid for t in rows) == sorted(sent)
        assert {t.asset for t in rows} == {"ETH", "USDC"} and all(t.status == TransferStatus.CONFIRMED for t in rows)
        assert seen[-1].done == seen[-1].end and sum(p.found for p in seen) == 5
        assert child.requests > 0  # the child fetched; it reports its requests when done

    async def test_a_wrong_expectation_only_wastes_the_early_fetch(
        self, db: Database, dev: DevChain, make_watcher: WatcherFactory
    ) -> None:
        """The child fetches the blocks of the ranges it expects before its job; a backfill that asks for
        other ranges (here: from another start) still gets exactly its own, and the scan process is its
        whole chain source (head included)."""
        from watchers.block_scan import BlockScanner

        wallet = fresh_address(73)
        await add_wallet(db, wallet)
        sent = [dev.send(dev.accounts[1], wallet, ETH + i) for i in range(2)]
        dev.mine(40)
        config = replace(make_watcher(blocks_per_range=10).config, transport="aiohttp")
        for expect in ((7, None), (1, 25)):
            child = ScanProcess(config, expect=expect)
            try:
                assert await BlockScanner(db, child, batch_blocks=10).backfill(1, scans=child.scans) == (1, dev.height())
            finally:
                await child.close()
            assert sorted(t.txid for t in await stored(db)) == sorted(sent)

    async def test_a_node_error_in_the_child_is_raised_here_with_its_message(
        self, db: Database, dev: DevChain, make_watcher: WatcherFactory
    ) -> None:
        """The child's node is unreachable: the backfill ends with the same kind of error an in-process scan raises."""
        await add_wallet(db, fresh_address(71))
        dev.mine(30)
        watcher = make_watcher()
        dead = f"http://127.0.0.1:{free_port()}"
        child = ScanProcess(replace(watcher.config, rpc_urls=(dead,), transport="aiohttp"))
        try:
            with pytest.raises(WatcherError, match="127.0.0.1"):
                await watcher.backfill(1, scans=child.scans)
        finally:
            await child.close()
        assert await stored(db) == []

    async def test_a_child_that_dies_ends_the_backfill_and_a_rerun_stores_everything_once(
        self, db: Database, dev: DevChain, make_watcher: WatcherFactory
    ) -> None:
        """SIGKILL of the child before it got its job: one clear error, nothing stored; the next run stores it all.
        (A kill of the whole command mid-way is test_backfill.py's TestCrashSafety.)"""
        wallet = fresh_address(72)
        await add_wallet(db, wallet)
        sent = []
        for i in range(6):
            sent.append(dev.send(dev.accounts[1], wallet, ETH + i))
            dev.mine(20)
        watcher = make_watcher(blocks_per_range=10)
        child = ScanProcess(replace(watcher.config, transport="aiohttp"), ahead=1)
        end = dev.height()

        def kill_at_start(step: BackfillProgress) -> None:
            if step.done < step.start and child.pid is not None:
                os.kill(child.pid, signal.SIGKILL)

        try:
            with pytest.raises(WatcherError, match="scan process stopped unexpectedly"):
                await watcher.backfill(1, end, progress=kill_at_start, scans=child.scans)
        finally:
            await child.close()
        assert await stored(db) == []
        await make_watcher(blocks_per_range=10).backfill(1, end)
        assert sorted(t.txid for t in await stored(db)) == sorted(sent)

    async def test_the_child_logs_as_this_process_does(
        self, db: Database, dev: DevChain, make_watcher: WatcherFactory, capfd: pytest.CaptureFixture[str]
    ) -> None:
        """An operator who chose JSON logs gets the child's lines (here: its failover to the second node) as JSON too."""
        import json
        import logging

        from bot.logs import JsonFormatter
        from watchers.block_scan import BlockScanner

        await add_wallet(db, fresh_address(75))
        dev.mine(5)
        config = replace(make_watcher().config, rpc_urls=(f"http://127.0.0.1:{free_port()}", dev.url), transport="aiohttp")
        root, handler = logging.getLogger(), logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        saved = root.handlers[:]
        root.handlers[:] = [handler]
        try:
            child = ScanProcess(config)
        finally:
            root.handlers[:] = saved
        try:
            await BlockScanner(db, child).backfill(1, scans=child.scans)
        finally:
            await child.close()
        lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
        assert any(line["logger"].startswith("watchers.") and "answered instead" in line["msg"] for line in lines), lines

    def test_the_child_imports_no_database_code(self) -> None:
        """What the child imports to scan (config, source, transport, results) pulls in neither SQLAlchemy nor eth_utils,
        so it is ready before the parent has opened the ledger."""
        code = (
            "import sys\n"
            "import watchers.scan_process, watchers.evm_config, watchers.evm_rpc, watchers.evm_source, watchers.scans_ahead\n"
            "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'sqlmodel', 'eth_utils', 'web3', 'pydantic'})\n"
            "print(','.join(heavy))\n"
        )
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
        assert done.stdout.strip() == ""


class TestEarlyBlocks:
    async def test_a_scan_of_early_blocks_finds_what_a_plain_scan_finds(self, dev: DevChain, make_watcher: WatcherFactory) -> None:
        """Blocks asked for before the watched addresses are known, then scanned: the same headers and transfers."""
        usdc = dev.deploy_token("USDC", 6)
        wallet, donor = fresh_address(74), dev.accounts[2]
        dev.mint(usdc, donor, 10**9)
        start = dev.height() + 1
        dev.send(dev.accounts[1], wallet, ETH)
        dev.transfer_token(usdc, donor, wallet, 5_000)
        end = dev.height()
        watched = {wallet.lower(): 1}
        source = make_watcher(tokens=(TokenSpec("USDC", usdc, 6),)).source
        plain = await source.scan(start, end, watched)
        early = source.early_blocks(start, end)
        await early
        again = await source.scan(start, end, watched)
        assert again == plain and len(plain.transfers) == 2


class TestWhatCrossesTheProcessBoundary:
    def _sighting(self) -> TransferIn:
        values: dict[str, Any] = dict(
            chain="ethereum", txid="0x" + "ab" * 32, position=2, wallet_id=7, asset="USDC", decimals=6, amount=10**30,
            senders=("0x" + "Cd" * 20,), token="0x" + "Ef" * 20, block_height=12, block_hash="0x" + "12" * 32,
            block_time=datetime(2026, 11, 30, 1, 2, 3, 456789, timezone.utc), status=TransferStatus.CONFIRMED, log_index=9,
        )
        assert set(values) == {f.name for f in fields(TransferIn)}, "set every field: a new one must cross the boundary too"
        return TransferIn(**values)

    def test_a_sighting_and_a_header_survive_pickling_whole(self) -> None:
        import pickle

        item = self._sighting()
        assert pickle.loads(pickle.dumps(item)) == item
        header = BlockHeader(5, "0x" + "aa" * 32, "0x" + "bb" * 32, datetime(2026, 1, 1, tzinfo=timezone.utc))
        assert pickle.loads(pickle.dumps(header)) == header

    def test_with_status_is_replace(self) -> None:
        item = self._sighting()
        assert item.with_status(TransferStatus.PENDING) == replace(item, status=TransferStatus.PENDING)

    def test_an_error_that_cannot_be_rebuilt_crosses_as_a_watcher_error_with_its_message(self) -> None:
        error = RpcError("node", "eth_getLogs", -32005, "query returned more than 10000 results")
        copy = _portable(error)
        assert type(copy) is WatcherError and str(copy) == str(error)
        plain = WatcherError("node: timed out")
        assert _portable(plain) is plain
