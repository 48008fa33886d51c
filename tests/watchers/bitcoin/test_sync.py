"""The Bitcoin watcher against a fake Esplora: first sync, cheap polls, confirmations, senders, payouts."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from ledger.database import Database
from ledger.models import Event, EventKind, TransferStatus, WalletCursor
from tests.fakes.esplora import EsploraFake, fake_address, make_tx, recorded
from tests.watchers.bitcoin.conftest import senders, transfers, watch
from watchers.bitcoin import BitcoinWatcher

WALLET = fake_address(1)
DONOR = fake_address(2)
OTHER = fake_address(3)
OFAC_XBT = Path(__file__).resolve().parents[2] / "data" / "sanctions" / "ofac_sdn_2025-11-19" / "sanctioned_addresses_XBT.txt"


def _donation(to: str = WALLET, amount: int = 50_000, sender: str = DONOR) -> dict:  # type: ignore[type-arg]
    return make_tx([(sender, amount + 10_000)], [(to, amount), (sender, 9_000)])


class TestFirstSync:
    async def test_more_than_25_confirmed_transactions_are_all_stored(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """An address with 30 confirmed donations is read over two history pages and stored once each."""
        wid = await watch(db, WALLET)
        for i in range(30):
            fake.add_tx(_donation(amount=1_000 + i))
            if i % 4 == 3:
                fake.mine()
        fake.mine()
        for _ in range(12):
            fake.mine([])
        report = await watcher.poll()
        assert report.ok, report.errors
        stored = await transfers(db, wid)
        assert len(stored) == 30 == report.new
        assert sum(t.amount for t in stored) == sum(1_000 + i for i in range(30))
        assert all(t.status == TransferStatus.CONFIRMED and t.block_height is not None for t in stored)
        assert fake.requests["/address/{address}/txs/chain"] == 1
        assert fake.requests["/address/{address}/txs/chain/{last_seen}"] == 1

    async def test_the_confirmed_past_is_history_and_the_mempool_and_what_follows_are_news(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """A wallet's first sync records what is already confirmed as history (counted, screened, not
        announced one by one); a donation waiting in the mempool then, and everything after, is news."""
        await watch(db, WALLET)
        fake.add_tx(_donation(amount=1_000))
        fake.mine()
        fake.add_tx(_donation(amount=2_000))  # in the mempool at the first sync
        await watcher.poll()
        fake.add_tx(_donation(amount=3_000))
        fake.mine()
        await watcher.poll()
        async with db.session() as s:
            news = [(e.kind, bool((e.detail or {}).get("history"))) for e in (await s.execute(select(Event).order_by(Event.id))).scalars()
                    if e.kind == EventKind.TRANSFER_NEW]
        assert news == [(EventKind.TRANSFER_NEW, True), (EventKind.TRANSFER_NEW, False), (EventKind.TRANSFER_NEW, False)]

    async def test_an_empty_wallets_first_donation_is_news(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """A wallet with no past is synced (its cursor written) at the first poll, so a donation confirmed before the next one is news."""
        await watch(db, WALLET)
        await watcher.poll()
        fake.add_tx(_donation(amount=1_000))
        fake.mine()
        await watcher.poll()
        async with db.session() as s:
            [event] = [e for e in (await s.execute(select(Event))).scalars() if e.kind == EventKind.TRANSFER_NEW]
        assert not (event.detail or {}).get("history")

    async def test_second_sync_reads_only_what_is_new(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """After the first sync, new confirmed donations cost one history page, not the whole history."""
        wid = await watch(db, WALLET)
        for i in range(30):
            fake.add_tx(_donation(amount=1_000 + i))
        fake.mine()
        await watcher.poll()
        fake.add_tx(_donation(amount=777))
        fake.mine()
        fake.requests.clear()
        report = await watcher.poll()
        assert report.ok and report.new == 1
        assert fake.requests["/address/{address}/txs/chain"] == 1
        assert fake.requests["/address/{address}/txs/chain/{last_seen}"] == 0
        assert len(await transfers(db, wid)) == 31

    async def test_start_height_skips_older_history(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """A wallet with a start height gets no transfers from blocks below it."""
        fake.add_tx(_donation(amount=1))
        fake.mine()
        fake.add_tx(_donation(amount=2))
        block = fake.mine()
        wid = await watch(db, WALLET, start_height=block.height)
        await watcher.poll()
        assert [t.amount for t in await transfers(db, wid)] == [2]


class TestCheapPolling:
    async def test_unchanged_address_costs_exactly_one_request(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """When an address's counts are unchanged, GET /address/:addr is the poll's only request."""
        await watch(db, WALLET)
        await watch(db, OTHER)
        fake.add_tx(_donation())
        fake.mine()
        for _ in range(12):
            fake.mine([])
        await watcher.poll()
        fake.requests.clear()
        report = await watcher.poll()
        assert report.ok and report.new == 0
        assert fake.total_requests() == 2 == report.requests
        assert fake.requests["/address/{address}"] == 2

    async def test_cursor_remembers_counts_and_newest_txid(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """After a poll the wallet's cursor holds the address's counts and its newest confirmed txid."""
        wid = await watch(db, WALLET)
        fake.add_tx(_donation())
        fake.mine()
        pending = fake.add_tx(_donation(amount=5))
        newest = fake.add_tx(_donation(amount=6))
        fake.mine([newest])
        await watcher.poll()
        async with db.session() as s:
            cursor = await s.get(WalletCursor, wid)
        assert cursor is not None
        assert (cursor.chain_tx_count, cursor.mempool_tx_count, cursor.newest_txid) == (2, 1, newest)
        assert pending in {t.txid for t in await transfers(db, wid)}


class TestConfirmations:
    async def test_mempool_donation_then_block_then_depth_six(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """A donation is pending without a block, pending in a block, and confirmed at depth 6."""
        wid = await watch(db, WALLET)
        txid = fake.add_tx(_donation(amount=123_456))
        report = await watcher.poll()
        [t] = await transfers(db, wid)
        assert (report.new, t.txid, t.amount, t.status, t.block_height) == (1, txid, 123_456, "pending", None)
        block = fake.mine()
        await watcher.poll()
        [t] = await transfers(db, wid)
        assert (t.status, t.block_height, t.block_hash) == ("pending", block.height, block.hash)
        assert t.block_time is not None and t.block_time.tzinfo is not None
        for _ in range(4):
            fake.mine([])
        await watcher.poll()
        assert (await transfers(db, wid))[0].status == "pending"  # depth 5
        fake.mine([])
        report = await watcher.poll()
        assert report.confirmed == 1 and (await transfers(db, wid))[0].status == "confirmed"
        async with db.session() as s:
            kinds = [e.kind for e in (await s.execute(select(Event).order_by(Event.id))).scalars()]
        assert kinds == [EventKind.TRANSFER_NEW, EventKind.TRANSFER_CONFIRMED]

    async def test_configured_depth_is_honoured(self, db: Database, fake: EsploraFake, watcher_factory) -> None:  # type: ignore[no-untyped-def]
        """With confirmations = 1 a donation in the tip block is already confirmed."""
        wid = await watch(db, WALLET)
        fake.add_tx(_donation())
        fake.mine()
        await watcher_factory(confirmations=1).poll()
        assert (await transfers(db, wid))[0].status == "confirmed"


class TestWhatCountsAsADonation:
    async def test_wallet_paying_out_with_change_is_no_donation(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """The recorded real payout 40ba6b3c... stores nothing for its sender, and a donation for its payee."""
        payout = recorded("payout_with_change_40ba6b3c.json")
        sender, payee = "1PvVJ5FvkNnsatmD4nfkb6j59CjKq7dxxy", "bc1qeekqhvqysgqk6yn9w96tv35v6qwlvss7vuvtj0"
        wid_sender = await watch(db, sender)
        wid_payee = await watch(db, payee)
        fake.add_tx(payout)
        fake.mine()
        report = await watcher.poll()
        assert report.ok, report.errors
        assert await transfers(db, wid_sender) == []
        [t] = await transfers(db, wid_payee)
        assert (t.txid, t.position, t.amount) == (payout["txid"], 0, 6_796_193)
        assert await senders(db, t.id) == {sender}  # type: ignore[arg-type]

    async def test_multi_input_transaction_stores_distinct_senders(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """Inputs from three addresses (one twice) give three senders; outputs to the wallet are summed at the lowest index."""
        wid = await watch(db, WALLET)
        a, b, c = fake_address(10), fake_address(11), fake_address(12)
        tx = make_tx([(a, 40_000), (b, 30_000), (a, 20_000), (c, 10_000)],
                     [(None, 0), (OTHER, 5_000), (WALLET, 60_000), (WALLET, 30_000)])
        fake.add_tx(tx)
        await watcher.poll()
        [t] = await transfers(db, wid)
        assert (t.position, t.amount) == (2, 90_000)
        assert await senders(db, t.id) == {a, b, c}  # type: ignore[arg-type]

    async def test_coinbase_output_is_stored_without_senders(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """A coinbase paying the wallet (null prevout) is a transfer with no sender."""
        wid = await watch(db, WALLET)
        fake.add_tx(make_tx([], [(WALLET, 312_500_000), (None, 0)], coinbase=True))
        fake.mine()
        await watcher.poll()
        [t] = await transfers(db, wid)
        assert t.amount == 312_500_000 and await senders(db, t.id) == set()  # type: ignore[arg-type]

    async def test_ofac_listed_sender_is_stored_with_that_sender(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """A donation from a real OFAC-listed Bitcoin address keeps that address as its sender."""
        listed = next(line.strip() for line in OFAC_XBT.read_text().splitlines() if line.strip())
        wid = await watch(db, WALLET)
        fake.add_tx(_donation(amount=31_337, sender=listed))
        fake.mine()
        await watcher.poll()
        [t] = await transfers(db, wid)
        assert t.amount == 31_337 and await senders(db, t.id) == {listed}  # type: ignore[arg-type]


class TestMempoolCap:
    async def test_more_than_fifty_unconfirmed_keeps_what_it_cannot_see(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """With 55 donations waiting, the 50 oldest listed are stored, none is orphaned, and all 55 once mined."""
        wid = await watch(db, WALLET)
        for i in range(55):
            fake.add_tx(_donation(amount=100 + i))
        report = await watcher.poll()
        assert report.ok and report.new == 50 and report.orphaned == 0
        assert sorted(t.amount for t in await transfers(db, wid)) == [100 + i for i in range(50)]
        fake.mine()
        report = await watcher.poll()
        assert report.ok and report.orphaned == 0
        stored = await transfers(db, wid)
        assert len(stored) == 55 and all(t.block_height is not None for t in stored)
