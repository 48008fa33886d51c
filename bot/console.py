"""The console notifier: with no Discord token, stored events are printed as readable lines."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

from sqlalchemy import func, select

from bot.format import amount
from ledger.database import Database
from ledger.models import Event, EventKind, Transfer, Wallet
from ledger.queries import senders_of

if TYPE_CHECKING:
    from bot.app import App


_LEADS = {
    EventKind.TRANSFER_NEW: "new donation",
    EventKind.TRANSFER_CONFIRMED: "confirmed",
    EventKind.TRANSFER_ORPHANED: "dropped from the chain (orphaned)",
    EventKind.TRANSFER_REINCLUDED: "back in the chain",
}


def describe(event: Event, transfer: Transfer | None, wallet: Wallet | None, senders: list[str]) -> str:
    """One line for one stored event."""
    when = event.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    if transfer is not None and wallet is not None:
        value = f"{amount(transfer.amount, transfer.decimals)} {transfer.asset}"
        to = wallet.label or wallet.address
        frm = ", ".join(senders[:3]) + (f" and {len(senders) - 3} more" if len(senders) > 3 else "") if senders else "unknown sender"
        where = f"block {transfer.block_height}" if transfer.block_height is not None else "mempool"
        lead = _LEADS.get(event.kind, event.kind)
        if event.kind == EventKind.SANCTIONS_HIT:
            party = event.detail.get("party") or "a listed party"
            return f"{when} SANCTIONS HIT: sender {event.detail.get('address')} of {value} to {to} is listed ({party}); tx {transfer.txid}"
        return f"{when} {lead}: {value} to {to} from {frm} [{transfer.chain} {where}, {transfer.status}] tx {transfer.txid}"
    if event.kind == EventKind.WATCHER_FAILED:
        return f"{when} the {event.chain} watcher stopped working: {event.detail.get('error')} (it keeps retrying, with back-off)"
    if event.kind == EventKind.WATCHER_RECOVERED:
        return f"{when} the {event.chain} watcher works again (after {event.detail.get('after_failures')} failed polls)"
    detail = " ".join(f"{k}={v}" for k, v in sorted(event.detail.items()))
    return f"{when} {event.kind}{' ' + event.chain if event.chain else ''} {detail}".rstrip()


class ConsoleNotifier:
    """Prints every event stored after a starting point, each once per process."""

    name = "console"

    def __init__(self, db: Database, out: TextIO | None = None) -> None:
        self.db = db
        self.out = out or sys.stdout
        self.last_id: int | None = None

    async def start_from_now(self) -> None:
        """Skip events stored before this process started."""
        async with self.db.session() as s:
            self.last_id = int(await s.scalar(select(func.coalesce(func.max(Event.id), 0))) or 0)

    async def flush(self) -> int:
        """Print the events stored since the last flush; returns how many."""
        if self.last_id is None:
            self.last_id = 0
        async with self.db.session() as s:
            events = (await s.execute(select(Event).where(Event.id > self.last_id).order_by(Event.id))).scalars().all()
            lines = []
            for event in events:
                transfer = await s.get(Transfer, event.transfer_id) if event.transfer_id else None
                wallet = await s.get(Wallet, transfer.wallet_id) if transfer else None
                senders = await senders_of(s, transfer.id) if transfer and transfer.id else []
                lines.append(describe(event, transfer, wallet, senders))
                self.last_id = event.id
        for line in lines:
            print(line, file=self.out, flush=True)
        return len(lines)

    async def close(self) -> None:
        """Nothing to release: the console stays open."""


async def setup(app: App) -> None:
    """Plugin: with no Discord token, events stored from now on are printed to the console."""
    if app.settings.discord.token is not None:
        return
    notifier = ConsoleNotifier(app.db)
    await notifier.start_from_now()
    app.add_channel(notifier, every=5)
