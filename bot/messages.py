"""What the bot says about each stored event, rendered once into a neutral message.

A ``Message`` has no chat markup: plain title, lines, fields and links, an optional image, a
severity and a subject (the thing it is about, so a channel can edit its earlier message about
the same subject instead of posting again). Console, Discord and later channels turn it into
their own form and escape what they must.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.format import amount
from ledger.models import Event, EventKind, TransferStatus
from ledger.transfer_details import TransferDetails, transfer_details

if TYPE_CHECKING:
    from bot.settings import Settings

# Kinds that the guards/reorg work adds; compared as strings so this module loads before they land.
TRANSFER_UNCONFIRMED = "transfer.unconfirmed"
LIST_STALE = "sanctions.list_stale"
LIST_UPDATE_FAILED = "sanctions.update_failed"
LIST_OK = "sanctions.list_ok"
SUMMARY_DUE = "summary.due"
TRANSFER_KINDS = {
    str(EventKind.TRANSFER_NEW), str(EventKind.TRANSFER_CONFIRMED), str(EventKind.TRANSFER_ORPHANED),
    str(EventKind.TRANSFER_REINCLUDED), TRANSFER_UNCONFIRMED,
}


class Severity(StrEnum):
    """How loudly a channel should say it."""

    INFO = "info"
    WARNING = "warning"
    ALERT = "alert"


@dataclass(frozen=True, slots=True)
class Image:
    """A picture sent with a message (the summary chart)."""

    data: bytes
    filename: str


@dataclass(frozen=True, slots=True)
class MessageField:
    """A named value; inline fields may sit side by side."""

    name: str
    value: str
    inline: bool = True


@dataclass
class Message:
    """One thing to tell people, free of any chat's markup."""

    title: str
    lines: list[str] = field(default_factory=list)
    fields: list[MessageField] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (text, url)
    image: Image | None = None
    severity: Severity = Severity.INFO
    subject: str | None = None  # e.g. "transfer:42": later messages on it edit the first
    mentions_operators: bool = False
    timestamp: datetime | None = None


def short(text: str, keep: int = 10) -> str:
    """A long id shortened for reading: 0x1234ab…9f3c."""
    return text if len(text) <= 2 * keep + 1 else f"{text[:keep]}…{text[-6:]}"


def tx_url(settings: Settings, chain: str, txid: str) -> str | None:
    explorer = settings.explorer_for(chain)
    return explorer.tx.format(txid=txid) if explorer else None


def address_url(settings: Settings, chain: str, address: str) -> str | None:
    explorer = settings.explorer_for(chain)
    return explorer.address.format(address=address) if explorer else None


def announced(details: TransferDetails, settings: Settings) -> bool:
    """Whether a transfer is told one by one: not history, and at or above the asset's minimum."""
    t = details.transfer
    return not details.history and t.amount >= settings.alerts.min_base_units(t.asset, t.decimals)


_TRANSFER_TITLES = {
    str(EventKind.TRANSFER_NEW): "New donation",
    str(EventKind.TRANSFER_CONFIRMED): "Donation confirmed",
    str(EventKind.TRANSFER_ORPHANED): "Donation dropped from the chain",
    str(EventKind.TRANSFER_REINCLUDED): "Donation back in the chain",
    TRANSFER_UNCONFIRMED: "Donation back in the mempool",
}


def transfer_status_text(details: TransferDetails, status: str | None = None, block_height: int | None = None) -> str:
    """The transfer's status and where it is: as it stands now, or as an event recorded it."""
    t = details.transfer
    status = status or str(t.status)
    if status == TransferStatus.ORPHANED:
        return "dropped from the chain (not counted)"
    height = block_height if block_height is not None else t.block_height
    where = f"block {height:,}" if height is not None else "mempool"
    return f"{status} ({where})"


def status_at(event: Event) -> tuple[str | None, int | None]:
    """The status (and block height, when recorded) a transfer event moved its transfer to."""
    d: dict[str, Any] = event.detail or {}
    status = d.get("status") if str(event.kind) == EventKind.TRANSFER_NEW else d.get("to")
    height = d.get("block_height")
    return (str(status) if status else None), (int(height) if isinstance(height, int) else None)


def transfer_message(
    details: TransferDetails, settings: Settings, kind: str, at: datetime | None = None,
    status: str | None = None, block_height: int | None = None,
) -> Message:
    """A donation with the status its event recorded (by default as it stands now); every later event
    about it renders the whole message again. Each message so says something new: a "new donation"
    read after its confirmation still says pending, and the "confirmed" one that follows is news."""
    t, w = details.transfer, details.wallet
    status = status or str(t.status)
    value = f"{amount(t.amount, t.decimals)} {t.asset}"
    senders = details.senders
    frm = ", ".join(senders[:3]) + (f" and {len(senders) - 3} more" if len(senders) > 3 else "") if senders else "unknown"
    message = Message(
        title=f"{_TRANSFER_TITLES.get(kind, 'Donation')}: {value}",
        lines=[f"{value} to {w.label or short(w.address)} on {t.chain}"],
        fields=[
            MessageField("Amount", value),
            MessageField("Wallet", w.label or w.address),
            MessageField("Status", transfer_status_text(details, status, block_height)),
            MessageField("From", frm, inline=False),
            MessageField("Transaction", t.txid, inline=False),
        ],
        severity=Severity.WARNING if status == TransferStatus.ORPHANED else Severity.INFO,
        subject=f"transfer:{t.id}",
        timestamp=at,
    )
    url = tx_url(settings, t.chain, t.txid)
    if url:
        message.links.append(("transaction", url))
    return message


async def render_event(session: AsyncSession, event: Event, settings: Settings) -> Message | None:
    """The message for one stored event, or None when it is not told (history, below the minimum)."""
    kind = str(event.kind)
    d: dict[str, Any] = event.detail or {}
    if kind in TRANSFER_KINDS:
        details = await transfer_details(session, event.transfer_id) if event.transfer_id else None
        if details is None or not announced(details, settings):
            return None
        status, height = status_at(event)
        return transfer_message(details, settings, kind, event.created_at, status, height)
    if kind == EventKind.SANCTIONS_HIT:
        return await _sanctions_hit(session, event, settings)
    if kind == EventKind.SANCTIONS_DELISTED:
        published = d.get("list_published") or "an undated version"
        return Message(
            title=f"Sanctions hit delisted: {d.get('address')}",
            lines=[f"{d.get('party') or 'The party'} is no longer on {d.get('source')} (version of {published}).",
                   "The earlier hit is kept as history."],
            subject=f"hit:{d.get('hit_id')}", timestamp=event.created_at,
        )
    if kind == EventKind.WATCHER_FAILED:
        return Message(
            title=f"The {event.chain} watcher stopped working",
            lines=[str(d.get("error") or "unknown error"), "It keeps retrying with back-off; donations are not lost."],
            severity=Severity.WARNING, subject=f"watcher:{event.chain}", timestamp=event.created_at,
        )
    if kind == EventKind.WATCHER_RECOVERED:
        after = d.get("after_failures")
        return Message(
            title=f"The {event.chain} watcher works again",
            lines=[f"after {after} failed poll{'s' if after != 1 else ''}" if after else "polling normally"],
            subject=f"watcher:{event.chain}", timestamp=event.created_at,
        )
    if kind == EventKind.CHAIN_DEGRADED:
        return Message(
            title=f"The {event.chain} watcher cannot check internal transfers",
            lines=[f"{d.get('reason') or 'the node gives no traces'}.",
                   f"Blocks from {d.get('from_height')} on are stored with payments made by contracts unchecked; "
                   "they are checked as soon as a node with the trace API answers.",
                   "Point rpc_urls at such a node (or set traces = false if you do not need them)."],
            severity=Severity.WARNING, subject=f"gaps:{event.chain}", timestamp=event.created_at,
        )
    if kind == EventKind.CHAIN_RESTORED:
        return Message(
            title=f"The {event.chain} watcher checks internal transfers again",
            lines=[f"Every block stored without them has been checked (through block {d.get('through_height')})."],
            subject=f"gaps:{event.chain}", timestamp=event.created_at,
        )
    if kind in (LIST_STALE, LIST_UPDATE_FAILED, LIST_OK):
        return _list_health(kind, d, event.created_at)
    if kind in ("wallet.added", "wallet.removed"):
        added = kind == "wallet.added"
        message = Message(
            title=f"Watched address {'added' if added else 'removed'}: {d.get('label') or d.get('address')}",
            lines=[f"{event.chain} {d.get('address')}", f"by {d.get('actor')}" + ("" if added else "; its donations stay in the ledger")],
            severity=Severity.WARNING, subject=f"wallet:{event.chain}:{d.get('address')}", timestamp=event.created_at,
        )
        url = address_url(settings, event.chain or "", str(d.get("address")))
        if url:
            message.links.append(("address", url))
        return message
    if kind == SUMMARY_DUE:
        from bot.summary import render_summary

        return await render_summary(session, settings, now=event.created_at)
    return Message(title=kind, lines=[f"{k}: {v}" for k, v in sorted(d.items())], timestamp=event.created_at)


async def _sanctions_hit(session: AsyncSession, event: Event, settings: Settings) -> Message:
    d: dict[str, Any] = event.detail or {}
    details = await transfer_details(session, event.transfer_id) if event.transfer_id else None
    source = d.get("source") or "a sanctions list"
    version = f"published {d.get('list_published') or 'undated'}, sha256 {str(d.get('list_sha256') or '')[:12]}"
    message = Message(
        title=f"Sanctions hit: a donor is on {source}",
        lines=[f"Sender {d.get('address')} is listed" + (" (found when the list changed)" if d.get("cause") == "rescreen" else "") + "."],
        fields=[
            MessageField("Party", str(d.get("party") or "not named")),
            MessageField("Programme", str(d.get("programmes") or "not named")),
            MessageField("List", f"{source} ({version})", inline=False),
            MessageField("Listed on", str(d.get("listed_on") or "unknown")),
            MessageField("Sender", str(d.get("address")), inline=False),
        ],
        severity=Severity.ALERT,
        subject=f"hit:{d.get('hit_id')}",
        mentions_operators=True,
        timestamp=event.created_at,
    )
    if details is not None:
        t, w = details.transfer, details.wallet
        message.fields.append(MessageField(
            "Transfer", f"{amount(t.amount, t.decimals)} {t.asset} to {w.label or w.address}, {transfer_status_text(details)}, tx {t.txid}",
            inline=False))
        url = tx_url(settings, t.chain, t.txid)
        if url:
            message.links.append(("transaction", url))
    message.fields.append(MessageField("Policy", settings.alerts.sanctions_policy, inline=False))
    return message


def _moment(value: Any) -> str:
    """An event's ISO time as people read it (minutes, UTC); anything else as it is."""
    try:
        return f"{datetime.fromisoformat(str(value)):%Y-%m-%d %H:%M} UTC"
    except ValueError:
        return str(value)


def _list_health(kind: str, d: dict[str, Any], at: datetime) -> Message:
    """Sentences from a list-health event's detail, never its raw keys (ISO times, float day counts)."""
    source = d.get("source") or "a sanctions list"
    facts: list[str] = []
    if d.get("error"):
        facts.append(f"Error: {d['error']}")
    if d.get("failed_at"):
        facts.append(f"Failed at: {_moment(d['failed_at'])}")
    if d.get("in_force"):
        sha = f", sha256 {str(d['sha256'])[:12]}" if d.get("sha256") else ""
        published = f", published {d['published']}" if d.get("published") else ""
        facts.append(f"In force: {d['in_force']}{published}{sha}")
    if kind == LIST_STALE:
        days = d.get("max_age_days")
        if days is not None:
            facts.append(f"Older than {float(days):g} days (screening.max_list_age_days), and no check within them confirmed it current.")
        facts.append(f"Last successful check: {_moment(d['last_checked']) if d.get('last_checked') else 'never'}")
    if kind == LIST_OK:
        cleared = {"update_failed": "updates work again", "list_stale": "the list is current again"}
        facts += [cleared.get(str(k), str(k)).capitalize() + "." for k in d.get("after") or ()]
        return Message(title=f"The {source} list is current again", lines=facts, subject=f"list:{source}", timestamp=at)
    title = f"The {source} list is out of date" if kind == LIST_STALE else f"Updating the {source} list failed"
    return Message(title=title, lines=facts + ["Screening goes on with the version in force."],
                   severity=Severity.WARNING, subject=f"list:{source}", timestamp=at)
