"""Faults: rate limiting, server errors, truncated and garbage bodies, stalls, failover, bad addresses."""

from __future__ import annotations

from ledger.database import Database
from ledger.models import WalletCursor
from tests.fakes.esplora import EsploraFake, fake_address, make_tx
from tests.watchers.bitcoin.conftest import transfers, watch
from watchers.bitcoin import BitcoinWatcher

WALLET = fake_address(1)
DONOR = fake_address(2)
OTHER = fake_address(3)


def _donation(to: str = WALLET, amount: int = 50_000) -> dict:  # type: ignore[type-arg]
    return make_tx([(DONOR, amount + 10_000)], [(to, amount), (DONOR, 9_000)])


class TestRetries:
    async def test_429_then_success(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """A 429 (with Retry-After: 0) is retried and the poll completes with nothing lost."""
        wid = await watch(db, WALLET)
        fake.add_tx(_donation())
        fake.fail_next(429, retry_after="0", path="/address/")
        report = await watcher.poll()
        assert report.ok, report.errors
        assert len(await transfers(db, wid)) == 1
        assert fake.requests["/address/{address}"] == 2

    async def test_500_then_success(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """A 500 on the mempool list is retried with backoff."""
        wid = await watch(db, WALLET)
        fake.add_tx(_donation())
        fake.fail_next(500, path=f"/address/{WALLET}/txs/mempool")
        report = await watcher.poll()
        assert report.ok and len(await transfers(db, wid)) == 1

    async def test_stalled_answer_times_out_and_is_retried(self, db: Database, fake: EsploraFake, watcher_factory) -> None:  # type: ignore[no-untyped-def]
        """An answer that stalls past the timeout is a retryable failure, and the retry succeeds."""
        wid = await watch(db, WALLET)
        fake.add_tx(_donation())
        fake.stall_next(1.0, path="/address/")
        report = await watcher_factory(timeout_seconds=0.2).poll()
        assert report.ok, report.errors
        assert len(await transfers(db, wid)) == 1

    async def test_persistent_errors_fail_only_that_address(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """An address whose requests keep failing is reported; the other address is stored."""
        bad = await watch(db, WALLET)
        good = await watch(db, OTHER)
        fake.add_tx(_donation(WALLET))
        fake.add_tx(_donation(OTHER))
        fake.fail_next(500, times=10, path=f"/address/{WALLET}")
        report = await watcher.poll()
        assert len(report.errors) == 1 and WALLET in report.errors[0]
        assert await transfers(db, bad) == [] and len(await transfers(db, good)) == 1


class TestBadBodies:
    async def test_truncated_body_is_an_error_for_that_address_and_poll(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """A history page cut in half stores nothing for its address this poll; the next poll stores it all."""
        wid = await watch(db, WALLET)
        other = await watch(db, OTHER)
        for _ in range(3):
            fake.add_tx(_donation(WALLET))
        fake.add_tx(_donation(OTHER))
        fake.mine()
        fake.truncate_next(path=f"/address/{WALLET}/txs/chain")
        report = await watcher.poll()
        assert len(report.errors) == 1 and "malformed" in report.errors[0]
        assert await transfers(db, wid) == [] and len(await transfers(db, other)) == 1
        async with db.session() as s:
            assert await s.get(WalletCursor, wid) is None  # progress moves only with its transfers
        report = await watcher.poll()
        assert report.ok and len(await transfers(db, wid)) == 3

    async def test_unconfirmed_transaction_in_confirmed_history_is_refused(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """A body of the wrong shape (a status without block fields claiming to be confirmed) stores nothing."""
        wid = await watch(db, WALLET)
        fake.add_tx(_donation())
        fake.mine()
        original = fake._status

        def broken(txid: str) -> dict:  # type: ignore[type-arg]
            return {"confirmed": True}

        fake._status = broken  # type: ignore[method-assign]
        report = await watcher.poll()
        fake._status = original  # type: ignore[method-assign]
        assert len(report.errors) == 1 and await transfers(db, wid) == []

    async def test_invalid_address_is_reported_and_others_go_on(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """An address the server refuses (400, plain text) is an error for it only."""
        await watch(db, "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx")
        good = await watch(db, WALLET)
        fake.add_tx(_donation())
        report = await watcher.poll()
        assert len(report.errors) == 1 and "400" in report.errors[0] and "Invalid Bitcoin address" in report.errors[0]
        assert len(await transfers(db, good)) == 1


class TestPagingAnchor:
    async def test_empty_page_after_a_reorg_mid_paging_is_not_nothing_new(self, db: Database, fake: EsploraFake, watcher: BitcoinWatcher) -> None:
        """When the next page's anchor is reorged away between two pages ([]), nothing is committed and the next poll catches up."""
        wid = await watch(db, WALLET)
        txids = []
        for i in range(40):
            txids.append(fake.add_tx(_donation(amount=1_000 + i)))
            fake.mine()
        anchor = txids[15]  # the oldest of the first page (the 25 newest)

        def reorg_the_anchor_away() -> None:
            moved = fake.reorg(30)
            fake.drop(anchor)
            for txid in moved:
                if txid != anchor:
                    fake.mine([txid])

        fake.before_next(f"/address/{WALLET}/txs/chain/", reorg_the_anchor_away)
        report = await watcher.poll()
        assert fake.requests["/address/{address}/txs/chain/{last_seen}"] == 1
        assert len(report.errors) == 1 and "ended after 25 of 40" in report.errors[0]
        assert await transfers(db, wid) == []
        report = await watcher.poll()
        assert report.ok and len(await transfers(db, wid)) == 39


class TestFailover:
    async def test_dead_first_source_fails_over_to_the_second(self, db: Database, fake: EsploraFake, watcher_factory) -> None:  # type: ignore[no-untyped-def]
        """With the first base URL refusing connections, the second one answers and the poll succeeds."""
        wid = await watch(db, WALLET)
        fake.add_tx(_donation())
        w = watcher_factory(esplora_urls=("http://127.0.0.1:9", fake.url))
        report = await w.poll()
        assert report.ok, report.errors
        assert len(await transfers(db, wid)) == 1

    async def test_429_on_primary_fails_over_to_backup(self, db: Database, fake: EsploraFake, watcher_factory) -> None:  # type: ignore[no-untyped-def]
        """A rate-limited primary is passed over for the backup source."""
        backup = EsploraFake()
        await backup.start()
        try:
            wid = await watch(db, WALLET)
            backup.add_tx(_donation())
            fake.fail_next(429, times=50)
            w = watcher_factory(esplora_urls=(fake.url, backup.url))
            report = await w.poll()
            assert report.ok, report.errors
            assert len(await transfers(db, wid)) == 1
            assert fake.total_requests() == 1
        finally:
            await backup.stop()
