"""The page's HTML as served: escaping of operator text, the screening section with and without details, paging,
an xpub wallet's next unused address."""

from __future__ import annotations

import pytest

from tests.bot.web import seed
from tests.bot.web.conftest import Served
from tests.fakes.esplora import EsploraFake, fake_address, make_tx
from tests.watchers.bitcoin.conftest import fake, watch, watcher, watcher_factory  # noqa: F401 (fixtures)
from tests.watchers.bitcoin.test_key_wallets import ZPUB
from watchers.bitcoin import BitcoinWatcher
from watchers.descriptors import RECEIVE, derive, parse_key_wallet

MARKUP = '<script>alert("x")</script>'


async def page(served: Served, path: str = "/") -> str:
    async with served.http.get(served.url + path) as r:
        assert r.status == 200 and r.content_type == "text/html"
        return await r.text()


async def next_address(served: Served, wallet: str) -> str | None:
    """The wallet's next_address in /api/v1/wallets."""
    async with served.http.get(served.url + "/api/v1/wallets") as r:
        assert r.status == 200
        [item] = [w for w in (await r.json())["wallets"] if w["address"] == wallet]
    return item["next_address"]  # type: ignore[no-any-return]


class TestEscaping:
    @pytest.mark.parametrize("page_settings", [seed.settings(title=f"Fund {MARKUP}", description=f"About {MARKUP}",
                                                             published_at=[f"https://x.org/{MARKUP}"])])
    async def test_title_description_and_places_are_escaped(self, served: Served) -> None:
        """Markup in the title, description and published_at arrives as text, never as markup."""
        html = await page(served)
        assert MARKUP not in html
        assert html.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") >= 3


class TestScreening:
    async def test_count_without_details_by_default(self, served: Served) -> None:
        """Lists in force with their date, and the count of listed donations; no sender or party shown."""
        html = await page(served)
        assert "ofac-sdn" in html and "version of 2025-11-19" in html
        assert "Donations from listed addresses: <strong>1</strong>" in html
        assert seed.LISTED_SENDER not in html and "TORNADO CASH" not in html

    @pytest.mark.parametrize("page_settings", [seed.settings(show_hits=True)])
    async def test_details_only_with_show_hits(self, served: Served) -> None:
        """With page.show_hits = true the listed sender and party are shown."""
        html = await page(served)
        assert seed.LISTED_SENDER in html and "TORNADO CASH" in html


class TestRecentDonations:
    async def test_older_link_pages_by_keyset(self, served: Served) -> None:
        """Page one links to ?before=<id>; that page holds the older donations and a link back to the newest."""
        first = await page(served)
        assert 'href="/?before=' not in first  # six donations fit on one page of 20
        older = await page(served, "/?before=3")
        assert older.count('class="status status-') == 2 and 'href="/#recent">Newest</a>' in older

    async def test_bad_cursor_is_400(self, served: Served) -> None:
        """A cursor that is not an id is refused with a 400, not a traceback."""
        async with served.http.get(served.url + "/?before=x' OR 1=1") as r:
            assert r.status == 400 and "Traceback" not in await r.text()


class TestKeyWallet:
    async def test_the_next_unused_address_is_shown_and_moves_on_once_paid(
        self, served: Served, fake: EsploraFake, watcher: BitcoinWatcher
    ) -> None:
        """An xpub wallet shows receive/0 (its QR labelled with it) and the key; after receive/0 is paid, receive/1.
        /api/v1/wallets gives the same address as the wallet's next_address."""
        key = parse_key_wallet(ZPUB)
        await watch(served.db, key.canonical)
        html = await page(served)
        assert "after the watcher&#39;s first sync" in html and "QR code of wpkh(" not in html  # nothing derived yet
        assert (await watcher.poll()).ok
        html = await page(served)
        first_address, second = derive(key, RECEIVE, 0), derive(key, RECEIVE, 1)
        assert f"<code>{first_address}</code>" in html and f'aria-label="QR code of {first_address}"' in html
        assert f"<code>{key.canonical}</code>" in html and f"QR code of {key.canonical}" not in html
        assert await next_address(served, key.canonical) == first_address
        fake.add_tx(make_tx([(fake_address(800), 60_000)], [(first_address, 50_000)]))
        fake.mine()
        assert (await watcher.poll()).ok
        html = await page(served)
        assert f"<code>{second}</code>" in html and f'aria-label="QR code of {second}"' in html
        assert await next_address(served, key.canonical) == second
        assert first_address not in html.split('id="totals"')[0]
