"""The console channel: with no Discord token, stored events are printed as readable lines."""

from __future__ import annotations

import sys
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncSession

from bot.format import amount
from ledger.database import Database
from ledger.events import consumer_position
from ledger.outbox import claim, fan_out, mark_sent
from ledger.models import Event, EventKind, Transfer, Wallet
from ledger.queries import senders_of


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


def announces(event: Event) -> bool:
    """Whether the console tells people about ``event``: everything but history, which is not news.

    Transfers stored as history (a backfill, an import of the past) are counted and screened; a
    sanctions hit on one is its own event and is announced.
    """
    return not (event.kind == EventKind.TRANSFER_NEW and event.detail.get("history"))


async def render_line(session: AsyncSession, event_id: int) -> str:
    """The console's line for one stored event (the one place that decides what it says)."""
    event = await session.get(Event, event_id)
    assert event is not None
    transfer = await session.get(Transfer, event.transfer_id) if event.transfer_id else None
    wallet = await session.get(Wallet, transfer.wallet_id) if transfer else None
    senders = await senders_of(session, transfer.id) if transfer and transfer.id else []
    return describe(event, transfer, wallet, senders)


class ConsoleNotifier:
    """The console channel: prints each announced event once, resuming after a restart or a crash.

    It is the outbox channel ``console``: events are queued with ``fan_out`` from its stored
    stream position, claimed, printed, and marked sent one by one, so a restart prints what was
    not printed yet (a kill between a print and its mark repeats at most that one line).
    """

    CHANNEL = "console"
    BATCH = 100
    # A crash between claim and print leaves rows leased; printing is instant, so a short lease.
    LEASE_SECONDS = 10

    def __init__(self, db: Database, out: TextIO | None = None) -> None:
        self.db = db
        self.out = out or sys.stdout

    async def start(self) -> None:
        """Create the channel's stored position if it has none (a brand-new channel starts now)."""
        async with self.db.session() as s:
            await consumer_position(s, self.CHANNEL, start="now")

    start_from_now = start  # the name callers used before the position was stored

    async def flush(self) -> int:
        """Print every announced event not printed yet; returns how many lines were printed."""
        async with self.db.session() as s:
            await fan_out(s, self.CHANNEL, announces, start="now")
        printed = 0
        while True:
            async with self.db.session() as s:
                batch = await claim(s, self.CHANNEL, limit=self.BATCH, lease_seconds=self.LEASE_SECONDS)
                lines = [(d.id, await render_line(s, d.event_id)) for d in batch]
            for delivery_id, line in lines:
                self.emit(line)
                async with self.db.session() as s:
                    await mark_sent(s, delivery_id, None)
                printed += 1
            if len(batch) < self.BATCH:
                return printed

    def emit(self, line: str) -> None:
        """Write one line to the console."""
        print(line, file=self.out, flush=True)
