"""The Esplora client against the fake: the endpoint shapes electrs serves, read as the API promises."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.esplora import EsploraFake, fake_address, make_tx
from tests.watchers.bitcoin.conftest import FAST_RETRY
from watchers.errors import MalformedResponse, SourceUnavailable
from watchers.esplora_client import EsploraClient

WALLET = fake_address(1)


@pytest.fixture
async def client(fake: EsploraFake) -> AsyncIterator[EsploraClient]:
    c = EsploraClient([fake.url], requests_per_second=1000, timeout_seconds=2, retry=FAST_RETRY)
    yield c
    await c.close()


class TestEndpoints:
    async def test_tip_height_is_plain_text(self, fake: EsploraFake, client: EsploraClient) -> None:
        """The tip height comes as a bare number and is read as an int."""
        fake.mine([])
        assert await client.tip_height() == fake.tip

    async def test_orphaned_block_status(self, fake: EsploraFake, client: EsploraClient) -> None:
        """A block reorged away says in_best_chain false with no height; its height now has another hash."""
        block = fake.mine([])
        assert (await client.block_status(block.hash)).in_best_chain
        fake.reorg(1)
        fake.mine([])
        status = await client.block_status(block.hash)
        assert (status.in_best_chain, status.height) == (False, None)
        assert await client.block_hash_at(block.height) not in (None, block.hash)
        assert await client.block_hash_at(fake.tip + 1) is None

    async def test_unknown_transaction(self, client: EsploraClient) -> None:
        """An unknown txid has status confirmed false (200) but /tx/:txid is 404, read as None."""
        assert not (await client.tx_status("ab" * 32)).confirmed
        assert await client.tx("ab" * 32) is None

    async def test_unknown_last_seen_txid_is_an_empty_page(self, fake: EsploraFake, client: EsploraClient) -> None:
        """Paging from a txid the server does not know answers [], not an error."""
        fake.add_tx(make_tx([(fake_address(2), 2_000)], [(WALLET, 1_000)]))
        fake.mine()
        assert len(await client.chain_txs(WALLET)) == 1
        assert await client.chain_txs(WALLET, "cd" * 32) == []

    async def test_mempool_list_is_oldest_first_and_capped(self, fake: EsploraFake, client: EsploraClient) -> None:
        """The address's mempool list comes in arrival order, at most 50."""
        txids = [fake.add_tx(make_tx([(fake_address(2), 2_000)], [(WALLET, 1_000 + i)])) for i in range(60)]
        listed = [t["txid"] for t in await client.mempool_txs(WALLET)]
        assert listed == txids[:50]
        stats = await client.address_stats(WALLET)
        assert (stats.chain_tx_count, stats.mempool_tx_count) == (0, 60)

    async def test_request_count(self, fake: EsploraFake, client: EsploraClient) -> None:
        """Every HTTP attempt is counted, retries included."""
        fake.fail_next(500)
        await client.tip_height()
        assert client.requests == 2 == fake.total_requests()


class TestRefusals:
    async def test_invalid_address_is_a_400_not_retried(self, fake: EsploraFake, client: EsploraClient) -> None:
        """A 400 with a plain-text reason is raised at once, with the reason."""
        with pytest.raises(SourceUnavailable, match="HTTP 400.*Invalid Bitcoin address") as info:
            await client.address_stats("not-an-address")
        assert not info.value.retryable and fake.total_requests() == 1

    async def test_truncated_json_is_malformed_and_not_retried(self, fake: EsploraFake, client: EsploraClient) -> None:
        """A JSON body cut in half is MalformedResponse after one request."""
        fake.truncate_next(path="/tx/")
        with pytest.raises(MalformedResponse, match="not JSON"):
            await client.tx_status("ab" * 32)
        assert fake.total_requests() == 1

    async def test_429_retries_exhausted_raise_source_unavailable(self, fake: EsploraFake, client: EsploraClient) -> None:
        """Three 429s in a row use up the retries and raise SourceUnavailable with status 429."""
        fake.fail_next(429, times=3)
        with pytest.raises(SourceUnavailable) as info:
            await client.tip_height()
        assert info.value.status == 429 and client.requests == 3
