"""Opening the application's shared pieces from settings: the database and the configured wallets."""

from __future__ import annotations

import logging

from bot.history_wiring import plan_for_new_wallet
from bot.settings import Settings
from ledger.database import Database
from ledger.wallets import upsert_wallet

log = logging.getLogger(__name__)


async def open_database(settings: Settings, *, upgrade: bool = True) -> Database:
    """Open the ledger (migrating it to the newest schema) and make sure config wallets are watched."""
    db = await Database.open(settings.database.effective_url(), upgrade=upgrade)
    async with db.session() as session:
        for wallet in settings.wallets:
            row, new = await upsert_wallet(
                session, wallet.chain, wallet.address, label=wallet.label, start_height=wallet.start_height
            )
            if new:
                log.info("watching new wallet chain=%s address=%s", wallet.chain, wallet.address)
                await plan_for_new_wallet(session, settings, row, since=wallet.since)
    return db
