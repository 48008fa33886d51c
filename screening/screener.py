"""The screening service an application holds: the current index, kept in step with the database."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from ledger.database import Database
from screening.bundled import load_bundled
from screening.index import Match, ScreeningIndex
from screening.ingest import IngestReport, screen_new_transfers
from screening.ofac_xml import SOURCE
from screening.store import current_versions, fingerprint, load_index
from screening.versions import InstallReport, install

log = logging.getLogger(__name__)


class Screener:
    """Holds the index over the lists in force; rebuilds it when any instance changes a list."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.index = ScreeningIndex()
        self._fingerprint: tuple[tuple[str, int | None], ...] | None = None

    async def refresh(self, session: AsyncSession) -> ScreeningIndex:
        """Reload the index if the versions in force changed; swap it in with one assignment."""
        fp = await fingerprint(session)
        if fp != self._fingerprint:
            index = await load_index(session)
            self.index, self._fingerprint = index, fp
        return self.index

    async def ensure_lists(self) -> InstallReport | None:
        """Put the bundled OFAC snapshot in force when no OFAC version was ever stored (first start)."""
        async with self.db.session() as s:
            if SOURCE in await current_versions(s):
                await self.refresh(s)
                return None
            report = await install(s, load_bundled(), checked=False)
            log.warning("no OFAC list stored yet: the %s is in force until an update succeeds", report.version.origin)
            await self.refresh(s)
            return report

    async def check(self, address: str) -> tuple[Match, ...]:
        """The entries ``address`` matches on the lists in force."""
        async with self.db.session() as s:
            await self.refresh(s)
        return self.index.lookup(address)

    async def screen_new(self) -> IngestReport:
        """Screen the senders of transfers stored since the last pass (run after each watcher poll)."""
        async with self.db.session() as s:
            index = await self.refresh(s)
            return await screen_new_transfers(s, index)
