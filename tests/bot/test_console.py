"""The console channel: it resumes from its stored position, so nothing is lost or said twice across restarts,
and history is not announced as news."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select

from bot.console import ConsoleNotifier, announces
from bot.settings import Settings
from ledger.database import Database
from ledger.outbox import claim, fan_out
from ledger.types import utcnow
from ledger.wallets import upsert_wallet
from ledger.models import Transfer, TransferStatus
from ledger.writes import TransferIn, record_transfers, set_status
from screening.ofac_xml import parse_file
from screening.screener import Screener
from screening.versions import install
from tests.screening.conftest import EXCERPT_1119, ETH_WALLET, LAZARUS_ETH, T0


async def _store(db: Database, n: int = 1, *, history: bool = False, sender: str = LAZARUS_ETH) -> None:
    async with db.session() as s:
        wallet, _ = await upsert_wallet(s, "ethereum", ETH_WALLET, label="Relief")
        await record_transfers(s, [TransferIn(
            chain="ethereum", txid=f"0x{n:064x}", position=-1, wallet_id=wallet.id, asset="ETH",  # type: ignore[arg-type]
            decimals=18, amount=10**18, senders=(sender,), block_height=100, block_hash="0x01", block_time=T0)],
            history=history)


async def _started(db: Database) -> tuple[ConsoleNotifier, io.StringIO]:
    out = io.StringIO()
    notifier = ConsoleNotifier(db, Settings(), out)
    await notifier.start()
    return notifier, out


class TestResumesAfterRestart:
    async def test_event_stored_before_a_kill_is_printed_after_restart(self, db: Database) -> None:
        """An event stored while the console ran but before it printed is printed by the next process, once."""
        await _started(db)  # the first process: started, then killed before its next flush
        await _store(db)
        notifier, out = await _started(db)
        assert await notifier.flush() == 1 and await notifier.flush() == 0
        assert out.getvalue().count("New donation: 1 ETH\n    1 ETH to Relief") == 1

    async def test_hit_raised_while_the_bot_was_down_is_printed(self, db: Database) -> None:
        """A sanctions hit raised by a list update while no bot ran is printed when the bot starts again."""
        first, _ = await _started(db)
        await _store(db)
        await first.flush()
        async with db.session() as s:  # `sanctions update` while the bot is down
            assert (await install(s, parse_file(EXCERPT_1119))).new_hits == 1
        notifier, out = await _started(db)
        await notifier.flush()
        assert out.getvalue().count(f"Sender {LAZARUS_ETH} is listed") == 1
        assert "New donation" not in out.getvalue()

    async def test_brand_new_channel_starts_from_its_creation(self, db: Database) -> None:
        """A console started for the first time does not print what was stored before it existed."""
        await _store(db, 1)
        notifier, out = await _started(db)
        await _store(db, 2)
        assert await notifier.flush() == 1
        assert f"0x{2:064x}" in out.getvalue() and f"0x{1:064x}" not in out.getvalue()

    async def test_line_claimed_by_a_process_that_died_is_printed_again(self, db: Database) -> None:
        """A delivery claimed by a process killed before printing is printed once its lease ends."""
        notifier, _ = await _started(db)
        await _store(db)
        async with db.session() as s:
            await fan_out(s, ConsoleNotifier.CHANNEL, announces)
        async with db.session() as s:  # ... and the process dies before printing
            assert len(await claim(s, ConsoleNotifier.CHANNEL, lease_seconds=ConsoleNotifier.LEASE_SECONDS)) == 1
        assert await notifier.flush() == 0
        async with db.session() as s:
            [again] = await claim(s, ConsoleNotifier.CHANNEL, now=utcnow() + timedelta(seconds=ConsoleNotifier.LEASE_SECONDS + 1))
        assert again.attempts == 2


class TestHistoryIsNotNews:
    async def test_history_transfer_is_not_announced_but_its_hit_is(self, db: Database) -> None:
        """A transfer stored as history prints no "new donation" line; a sanctions hit on it does print."""
        notifier, out = await _started(db)
        async with db.session() as s:
            await install(s, parse_file(EXCERPT_1119))
        await _store(db, history=True)
        await Screener(db).screen_new()
        await notifier.flush()
        assert "New donation" not in out.getvalue()
        assert out.getvalue().count(f"Sender {LAZARUS_ETH} is listed") == 1

    async def test_live_transfer_is_announced(self, db: Database) -> None:
        """The same transfer stored live prints its "new donation" line."""
        notifier, out = await _started(db)
        await _store(db)
        await notifier.flush()
        assert "New donation: 1 ETH\n    1 ETH to Relief" in out.getvalue()


class TestEachMessageSaysSomethingNew:
    async def test_a_donation_confirmed_before_the_console_read_it_is_not_said_twice(self, db: Database) -> None:
        """A donation stored pending and confirmed before one flush prints "new ... pending" then "confirmed", not the same block twice."""
        notifier, out = await _started(db)
        await _store(db)
        async with db.session() as s:
            [transfer_id] = (await s.execute(select(Transfer.id))).scalars()
            await set_status(s, [transfer_id], TransferStatus.CONFIRMED)
        assert await notifier.flush() == 2
        new, confirmed = _blocks(out.getvalue())
        assert new.splitlines()[0].endswith("New donation: 1 ETH") and "Status: pending (block 100)" in new
        assert confirmed.splitlines()[0].endswith("Donation confirmed: 1 ETH") and "Status: confirmed (block 100)" in confirmed


def _blocks(text: str) -> list[str]:
    """The console's printed messages: each starts with an unindented line."""
    blocks: list[str] = []
    for line in text.splitlines():
        if line.startswith(" ") and blocks:
            blocks[-1] += "\n" + line
        else:
            blocks.append(line)
    return blocks
