"""Wiring of the ethereum watcher from its settings."""

from __future__ import annotations

from typing import Any

from ledger.database import Database
from watchers.base import Watcher


def build(name: str, spec: Any, db: Database) -> Watcher:
    """The ethereum watcher for chain `name`."""
    raise NotImplementedError("the ethereum watcher is not built yet")
