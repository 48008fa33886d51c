"""The chain families the bot knows, by ``kind``: a new family is one module plus one line here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.chains import bitcoin, ethereum
from bot.chains.family import ChainFamily

if TYPE_CHECKING:
    from bot.settings import Settings
    from ledger.database import Database
    from watchers.base import Watcher

# The registration: kind -> family.
FAMILIES: dict[str, ChainFamily] = {f.kind: f for f in (bitcoin.FAMILY, ethereum.FAMILY)}


def family_of(spec: Any) -> ChainFamily:
    """The family of a validated ``[chains.NAME]`` table."""
    return FAMILIES[spec.kind]


def build_watchers(settings: Settings, db: Database) -> list[Watcher]:
    """One watcher per configured chain."""
    return [family_of(spec).build(name, spec, db) for name, spec in settings.chains.items()]
