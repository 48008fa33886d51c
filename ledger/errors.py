"""Errors of the storage room, each with a message that names the thing and the fix."""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every error raised by the ledger."""


class DatabaseUnavailable(LedgerError):
    """The database URL could not be opened or reached."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"database {url}: cannot connect ({reason})")


class DatabaseDamaged(LedgerError):
    """The SQLite file's pages fail the integrity check: the ledger must be restored, not used."""

    def __init__(self, path: str, problem: str, *, more: int = 0) -> None:
        self.path = path
        self.problem = problem
        also = f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else ""
        super().__init__(
            f"database {path} is damaged ({problem[:200]}{also}); the bot will not run on it: "
            f"move it aside and copy back your last backup (made with sqlite3 {path} \".backup FILE\"), "
            f"or salvage what is readable with sqlite3 {path} .recover | sqlite3 NEW.db"
        )


class UnknownWallet(LedgerError):
    """A wallet named by chain and address is not in the ledger."""

    def __init__(self, chain: str, address: str) -> None:
        self.chain = chain
        self.address = address
        super().__init__(f"no {chain} wallet {address} is in the ledger (see `donation-watch wallets list`)")


class WalletProtected(LedgerError):
    """A wallet defined in the config file cannot be removed or relabelled from chat."""

    def __init__(self, chain: str, address: str) -> None:
        self.chain = chain
        self.address = address
        super().__init__(f"the {chain} wallet {address} is defined in the config file; change it there, not from chat")


class WalletAlreadyWatched(LedgerError):
    """Adding a wallet that is already watched."""

    def __init__(self, chain: str, address: str, label: str) -> None:
        self.chain = chain
        self.address = address
        super().__init__(f"the {chain} wallet {address} is already watched" + (f" as \"{label}\"" if label else ""))
