"""Running the planned history imports of every chain, one wallet at a time, failures contained.

Each chain family offers one object with ``run(wallet_id, progress=...)`` (``EvmHistory``,
``BitcoinHistory``); this module picks the unfinished imports from the ledger and runs them.
A failing import is recorded with its reason and retried on the next round from where it stopped;
it never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Protocol

from ledger.database import Database
from ledger.history_import import fail_import, unfinished
from ledger.locks import lock_name, named_lock
from watchers.errors import WatcherError
from watchers.evm_history import ImportOutcome, Progress

log = logging.getLogger(__name__)


class ChainHistory(Protocol):
    """Imports single wallets' history on one chain."""

    chain: str

    async def run(self, wallet_id: int, *, progress: Progress | None = None) -> ImportOutcome: ...

    async def close(self) -> None: ...


class HistoryImporter:
    """Runs the unfinished history imports of the chains it knows."""

    def __init__(self, db: Database, chains: Mapping[str, ChainHistory]) -> None:
        self.db = db
        self.chains = dict(chains)

    async def close(self) -> None:
        for history in self.chains.values():
            await history.close()

    async def run_one(self, chain: str, wallet_id: int, *, progress: Progress | None = None) -> ImportOutcome:
        """Run one wallet's import; a failure is recorded on the import and raised."""
        history = self.chains.get(chain)
        if history is None:
            raise WatcherError(f"chain {chain!r} has no history importer; is it configured?")
        try:
            return await history.run(wallet_id, progress=progress)
        except WatcherError as exc:
            async with self.db.session() as s:
                await fail_import(s, wallet_id, str(exc))
            raise

    async def run_pending(self) -> list[ImportOutcome]:
        """One pass over every unfinished import (oldest first); errors are logged and recorded, not raised."""
        async with self.db.session() as s:
            todo = [(imp.chain, imp.wallet_id) for imp in await unfinished(s)]
        outcomes: list[ImportOutcome] = []
        for chain, wallet_id in todo:
            if chain not in self.chains:
                continue
            try:
                # One instance imports a wallet at a time (two would only repeat each other's writes).
                async with named_lock(self.db, lock_name("import", f"{chain}-{wallet_id}")) as held:
                    if not held:
                        continue
                    outcome = await self.run_one(chain, wallet_id)
            except WatcherError as exc:
                log.warning("history import failed chain=%s wallet_id=%d: %s (retried later)", chain, wallet_id, exc)
                continue
            except Exception as exc:  # noqa: BLE001 - one wallet's surprise must not stop the others
                log.exception("history import crashed chain=%s wallet_id=%d", chain, wallet_id)
                async with self.db.session() as s:
                    await fail_import(s, wallet_id, f"{type(exc).__name__}: {exc}")
                continue
            if outcome.stored or outcome.finished:
                log.info("history import chain=%s wallet_id=%d: %d stored, %d rejected%s", chain, wallet_id,
                         outcome.stored, outcome.rejected, ", done" if outcome.finished else "")
            outcomes.append(outcome)
        return outcomes
