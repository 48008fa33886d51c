"""What a chain family registers: its settings model, address codec and watcher builder."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

if TYPE_CHECKING:
    from ledger.database import Database
    from watchers.base import Watcher


class StrictModel(BaseModel):
    """A settings section that refuses unknown keys (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid")


def http_url(value: str) -> str:
    """An http(s) URL with a host, or a ValueError that says how to write one."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("is not an http(s) URL (write it as https://HOST/PATH)")
    return value.strip()


def block_count(value: Any, *, finalized: bool = False) -> Any:
    """A confirmation depth: a whole number of blocks >= 1 (or "finalized" where allowed)."""
    if finalized and value == "finalized":
        return value
    if isinstance(value, str) and value.strip().isdigit():  # from the environment, everything is text
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise ValueError('must be a block count ≥ 1 or "finalized"' if finalized else "must be a block count ≥ 1")


# A URL the bot reads from; a list of them fails over in order.
HttpUrl = Annotated[str, AfterValidator(http_url)]
# Blocks on top of a transfer before it counts as confirmed.
BlockCount = Annotated[int, BeforeValidator(block_count)]


@dataclass(frozen=True)
class ChainFamily:
    """One kind of chain the bot can watch (the ``kind`` of a ``[chains.NAME]`` table).

    ``settings`` is the pydantic model of its table (with ``kind: Literal[<kind>]``);
    ``address(spec, text)`` returns the canonical address on such a chain or raises
    ``watchers.errors.InvalidAddress``; ``build(name, spec, db)`` makes its watcher (import the
    heavy watcher modules inside it, so the CLI starts fast); ``sources(spec)`` lists the URLs
    it reads, for ``check-config``; ``history`` builds its importer of wallet histories.
    """

    kind: str
    settings: type[BaseModel]
    address: Callable[[Any, str], str]
    build: Callable[[str, Any, "Database"], "Watcher"]
    sources: Callable[[Any], Sequence[str]]
    # History imports (bot/history_wiring.py): ``history(name, spec, db, watcher, settings)`` makes
    # the chain's importer of single wallets' past (sharing the live watcher's client), counting
    # progress in ``history_unit``; ``history_needs_start``: a wallet without a start height or
    # date has no past to import (EVM: watched from now on; Bitcoin: its whole address history).
    history: Callable[..., Any] | None = None
    history_unit: str = "blocks"
    history_needs_start: bool = True
