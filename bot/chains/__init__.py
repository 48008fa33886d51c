"""Building each configured chain's watcher from settings (one module per chain family)."""

from __future__ import annotations

from bot.settings import BitcoinChain, Settings
from ledger.database import Database
from watchers.base import Watcher


def build_watchers(settings: Settings, db: Database) -> list[Watcher]:
    """One watcher per configured chain."""
    from bot.chains import bitcoin, ethereum

    out: list[Watcher] = []
    for name, spec in settings.chains.items():
        if isinstance(spec, BitcoinChain):
            out.append(bitcoin.build(name, spec, db))
        else:
            out.append(ethereum.build(name, spec, db))
    return out
