"""Rendering events once into neutral messages: every kind, what is not told, and the console layout."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from bot.console import format_message
from bot.messages import Image, Message, MessageField, Severity, render_event
from ledger.database import Database
from ledger.models import Event, EventKind
from ledger.writes import record_event
from tests.bot.seed import DONOR, chat_settings, events, seed

AT = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


async def render(db: Database, event: Event, **alerts: object) -> Message | None:
    async with db.session() as s:
        return await render_event(s, event, chat_settings(**alerts))


async def rendered_kinds(db: Database) -> dict[str, Message | None]:
    out: dict[str, Message | None] = {}
    for event in await events(db):
        out.setdefault(f"{event.kind}:{event.transfer_id}", await render(db, event))
    return out


class TestTransferMessages:
    async def test_new_donation_names_amount_wallet_sender_and_explorer_link(self, db: Database) -> None:
        """A new ETH donation renders its amount, wallet label, status, sender and an etherscan link, about its transfer."""
        seeded = await seed(db)
        new = next(e for e in await events(db) if e.kind == EventKind.TRANSFER_NEW and e.transfer_id == seeded.transfers[4])
        message = await render(db, new)
        assert message is not None and message.title == "New donation: 3 ETH"
        assert message.subject == f"transfer:{seeded.transfers[4]}"
        fields = {f.name: f.value for f in message.fields}
        assert fields["Wallet"] == "Relief (ETH)" and fields["From"] == DONOR and fields["Status"] == "pending (block 20)"
        assert message.links == [("transaction", f"https://etherscan.io/tx/0x{5:064x}")]

    async def test_every_transfer_event_renders_the_transfer_as_it_stands(self, db: Database) -> None:
        """confirmed and orphaned events render the same subject with their own title; orphaned warns."""
        seeded = await seed(db)
        by = await rendered_kinds(db)
        orphaned = by[f"transfer.orphaned:{seeded.transfers[5]}"]
        assert orphaned is not None and orphaned.title == "Donation dropped from the chain: 7 ETH"
        assert orphaned.severity == Severity.WARNING and orphaned.subject == f"transfer:{seeded.transfers[5]}"
        assert "dropped from the chain (not counted)" in [f.value for f in orphaned.fields]

    async def test_below_the_minimum_is_not_told(self, db: Database) -> None:
        """A donation below alerts.min_amount of its asset renders nothing; one at the minimum renders."""
        seeded = await seed(db)
        new = {e.transfer_id: e for e in await events(db) if e.kind == EventKind.TRANSFER_NEW}
        assert await render(db, new[seeded.transfers[2]], min_amount={"BTC": "0.2"}) is None  # 0.1 BTC
        assert await render(db, new[seeded.transfers[1]], min_amount={"BTC": "0.25"}) is not None  # 0.25 BTC


class TestOtherMessages:
    async def test_sanctions_hit_has_party_programme_list_policy_and_mentions_operators(self, db: Database) -> None:
        """A sanctions hit is an alert naming party, programme, list version, date, transfer and the policy text."""
        seeded = await seed(db)
        async with db.session() as s:
            await record_event(s, EventKind.SANCTIONS_HIT, chain="ethereum", transfer_id=seeded.transfers[4], hit_id=7,
                               address=DONOR, source="ofac-sdn", list_published="2026-11-20", list_sha256="ab" * 32,
                               party="LAZARUS GROUP", programmes="DPRK3", listed_on="2022-04-14", cause="ingest")
        message = await render(db, (await events(db))[-1], sanctions_policy="Freeze; call counsel.")
        assert message is not None and message.severity == Severity.ALERT and message.mentions_operators
        fields = {f.name: f.value for f in message.fields}
        assert fields["Party"] == "LAZARUS GROUP" and fields["Programme"] == "DPRK3" and fields["Listed on"] == "2022-04-14"
        assert fields["List"] == "ofac-sdn (published 2026-11-20, sha256 abababababab)"
        assert fields["Transfer"].startswith("3 ETH to Relief (ETH), pending (block 20), tx 0x")
        assert fields["Policy"] == "Freeze; call counsel."

    async def test_watcher_and_list_health_read_as_sentences(self, db: Database) -> None:
        """watcher failed/recovered and list stale/failed/ok render titles naming the chain or list."""
        async with db.session() as s:
            await record_event(s, EventKind.WATCHER_FAILED, chain="bitcoin", error="http://x: HTTP 503")
            await record_event(s, EventKind.WATCHER_RECOVERED, chain="bitcoin", after_failures=3)
            for kind in ("sanctions.list_stale", "sanctions.update_failed", "sanctions.list_ok", "sanctions.delisted"):
                await record_event(s, kind, source="ofac-sdn", address=DONOR, error="timeout")  # type: ignore[arg-type]
        titles = [m.title for m in [await render(db, e) for e in await events(db)] if m]
        assert titles == [
            "The bitcoin watcher stopped working", "The bitcoin watcher works again",
            "The ofac-sdn list is out of date", "Updating the ofac-sdn list failed", "The ofac-sdn list is current again",
            f"Sanctions hit delisted: {DONOR}",
        ]


    async def test_list_health_lines_are_sentences_not_raw_keys(self, db: Database) -> None:
        """A failed update and a stale list say their error, times and age in words, not ISO stamps or "max age days: 3.0"."""
        version = {"source": "ofac-sdn", "in_force": "bundled snapshot of 2025-11-19", "published": "2025-11-19", "sha256": "ab" * 32}
        async with db.session() as s:
            await record_event(s, EventKind.SANCTIONS_UPDATE_FAILED, **version, error="cannot download (DNS)",  # type: ignore[arg-type]
                               failed_at="2026-11-29T22:40:05.869260+00:00")
            await record_event(s, EventKind.SANCTIONS_LIST_STALE, **version, last_checked=None, max_age_days=3.0)  # type: ignore[arg-type]
        failed, stale = [await render(db, e) for e in await events(db)]
        assert failed is not None and stale is not None
        assert failed.lines == ["Error: cannot download (DNS)", "Failed at: 2026-11-29 22:40 UTC",
                                "In force: bundled snapshot of 2025-11-19, published 2025-11-19, sha256 abababababab",
                                "Screening goes on with the version in force."]
        assert stale.lines == ["In force: bundled snapshot of 2025-11-19, published 2025-11-19, sha256 abababababab",
                               "Older than 3 days (screening.max_list_age_days), and no check within them confirmed it current.",
                               "Last successful check: never", "Screening goes on with the version in force."]


class TestConsoleLayout:
    def test_block_with_fields_links_and_saved_image(self, tmp_path: Path) -> None:
        """The console prints title, lines, inline fields on one line, links, and the saved image's path."""
        message = Message(title="Daily summary", lines=["3 donations."], fields=[MessageField("BTC", "0.5"), MessageField("ETH", "2"),
                          MessageField("Needs a human", "nothing", inline=False)], links=[("tx", "https://x/tx/1")],
                          image=Image(b"\x89PNG", "chart.png"), severity=Severity.WARNING, timestamp=AT)
        text = format_message(message, tmp_path)
        assert text.splitlines() == [
            "2026-11-29 12:00:00 UTC WARNING Daily summary", "    3 donations.", "    BTC: 0.5 | ETH: 2",
            "    Needs a human: nothing", "    tx: https://x/tx/1", f"    image: {(tmp_path / 'chart.png').resolve()}",
        ]
        assert (tmp_path / "chart.png").read_bytes() == b"\x89PNG"


class TestSummaryDue:
    async def test_summary_due_renders_the_summary_with_its_chart(self, db: Database) -> None:
        """A summary.due event renders the daily summary (figures and chart) for every channel."""
        await seed(db)
        async with db.session() as s:
            await record_event(s, "summary.due", day="2026-11-29")  # type: ignore[arg-type]
        message = await render(db, (await events(db))[-1])
        assert message is not None and message.title.startswith("Daily summary") and message.image is not None


class TestChainGapMessages:
    async def test_a_degraded_chain_says_what_is_unchecked_and_what_to_do(self, db: Database) -> None:
        """chain.degraded names the chain, the reason, the first unchecked block and the fix; chain.restored closes it."""
        async with db.session() as s:
            await record_event(s, EventKind.CHAIN_DEGRADED, chain="ethereum", missing="traces", from_height=120,
                               reason="the node has no trace_filter (Method not found)")
            await record_event(s, EventKind.CHAIN_RESTORED, chain="ethereum", missing="traces", through_height=180)
        degraded, restored = [e for e in await events(db) if e.kind.startswith("chain.")]
        message = await render(db, degraded)
        assert message is not None and message.severity == Severity.WARNING
        assert message.title == "The ethereum watcher cannot check internal transfers"
        text = " ".join(message.lines)
        assert "no trace_filter" in text and "from 120 on" in text and "rpc_urls" in text
        back = await render(db, restored)
        assert back is not None and "through block 180" in back.lines[0] and back.subject == message.subject
