"""The page in a real browser (Debian's chromium, headless): figures, QR codes, goal bar, no outside requests,
no JavaScript needed, no horizontal scroll on a 390-px phone. Screenshots are kept in test-artefacts/page/."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.bot.web import seed
from tests.bot.web.browser import ARTEFACTS, chromium
from tests.bot.web.conftest import Served
from tests.fakes.esplora import EsploraFake, fake_address, make_tx
from tests.watchers.bitcoin.conftest import fake, watch, watcher, watcher_factory  # noqa: F401 (fixtures)
from tests.watchers.bitcoin.test_key_wallets import ZPUB
from watchers.bitcoin import BitcoinWatcher
from watchers.descriptors import RECEIVE, derive, parse_key_wallet

# The page's rendering does not depend on the database: one is enough here (the API tests run on both).
pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


def text_of(html_text: str) -> str:
    return " ".join(html_text.split())


class TestFigures:
    async def test_page_shows_the_seeded_ledger(self, served: Served, tmp_path: Path) -> None:
        """Per-asset confirmed and pending sums, counts, donors, first/latest, goal and listed count appear."""
        async with chromium(tmp_path / "profile") as browser:
            page = await browser.new_page()
            await page.goto(served.url + "/")
            for asset, (confirmed, pending, count) in seed.EXPECTED.items():
                row = page.locator(f'tr[data-asset="{asset}"]')
                assert await row.locator('[data-field="confirmed"]').inner_text() == confirmed
                assert await row.locator('[data-field="pending"]').inner_text() == pending
                assert await row.locator('[data-field="count"]').inner_text() == str(count)
            assert await page.locator('[data-field="donations"]').inner_text() == "6"
            assert await page.locator('[data-field="unique-donors"]').inner_text() == str(seed.UNIQUE_DONORS)
            assert await page.locator('[data-field="first"]').inner_text() == "2026-11-01 12:00 UTC"
            assert await page.locator('[data-field="latest"]').inner_text() == "2026-11-13 12:00 UTC"
            assert await page.locator('[data-field="goal-percent"]').inner_text() == "87.50%"
            assert await page.locator('[data-field="fiat-confirmed"]').inner_text() == "112,250.03 USD"
            assert await page.locator('[data-field="unvalued"]').inner_text() == str(seed.UNVALUED)
            assert "90,000.00 USD" in await page.locator("#recent").inner_text()
            assert "Donations from listed addresses: 1" in text_of(await page.locator("#screening").inner_text())
            assert await page.locator("#recent tbody tr").count() == 6
            assert await page.title() == "Relief fund"

    async def test_labels_are_escaped_text(self, served: Served, tmp_path: Path) -> None:
        """A label holding markup is shown as its text, not as markup."""
        async with chromium(tmp_path / "profile") as browser:
            page = await browser.new_page()
            await page.goto(served.url + "/")
            assert await page.locator(".wallet h3").first.inner_text() == "Fund <b>BTC</b>"
            assert await page.locator(".wallet h3 b").count() == 0


class TestQrCodes:
    async def test_each_qr_decodes_to_its_address(self, served: Served, tmp_path: Path) -> None:
        """A screenshot of each wallet's QR code decodes (zxing-cpp) to exactly that wallet's address."""
        import zxingcpp
        from PIL import Image

        async with chromium(tmp_path / "profile") as browser:
            page = await browser.new_page()
            await page.goto(served.url + "/")
            wallets = page.locator(".wallet")
            decoded = []
            for i in range(await wallets.count()):
                png = await wallets.nth(i).locator(".qr-box svg").screenshot()
                results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
                decoded.append([r.text for r in results])
        assert decoded == [[seed.BTC_ADDRESS], [seed.ETH_ADDRESS]]

    async def test_a_key_wallets_qr_decodes_to_its_next_unused_address(
        self, served: Served, fake: EsploraFake, watcher: BitcoinWatcher, tmp_path: Path
    ) -> None:
        """An xpub wallet's QR code decodes to receive/0, and after receive/0 is paid, to receive/1."""
        import zxingcpp
        from PIL import Image

        key = parse_key_wallet(ZPUB)
        await watch(served.db, key.canonical)
        assert (await watcher.poll()).ok
        decoded = []
        async with chromium(tmp_path / "profile") as browser:
            page = await browser.new_page()
            for paid in (False, True):
                if paid:
                    fake.add_tx(make_tx([(fake_address(900), 60_000)], [(derive(key, RECEIVE, 0), 50_000)]))
                    assert (await watcher.poll()).ok
                await page.goto(served.url + "/")
                png = await page.locator(".wallet", has=page.locator(".key")).locator(".qr-box svg").screenshot()
                decoded.append([r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))])
        assert decoded == [[derive(key, RECEIVE, 0)], [derive(key, RECEIVE, 1)]]


class TestGoalBar:
    async def test_segment_widths_match_the_percentages(self, served: Served, tmp_path: Path) -> None:
        """The confirmed segment is 87.5 % of the bar's drawn width and the pending one 0.5 %."""
        async with chromium(tmp_path / "profile") as browser:
            page = await browser.new_page()
            await page.goto(served.url + "/")
            track = await page.locator(".goal-bar .bar-track").bounding_box()
            confirmed = await page.locator(".goal-bar .bar-confirmed").bounding_box()
            pending = await page.locator(".goal-bar .bar-pending").bounding_box()
        assert track and confirmed and pending and track["width"] > 300
        assert confirmed["width"] == pytest.approx(track["width"] * 0.875, abs=1.0)
        assert pending["width"] == pytest.approx(track["width"] * 0.005, abs=1.0)
        assert pending["x"] == pytest.approx(confirmed["x"] + confirmed["width"], abs=1.0)


class TestSelfContained:
    async def test_no_request_leaves_the_server(self, served: Served, tmp_path: Path) -> None:
        """Every request the page makes (document, stylesheet, script, icons) goes to the bot itself."""
        async with chromium(tmp_path / "profile") as browser:
            page = await browser.new_page()
            seen: list[str] = []
            page.on("request", lambda request: seen.append(request.url))
            await page.goto(served.url + "/", wait_until="networkidle")
        assert any(u.endswith("/static/style.css") for u in seen) and any(u.endswith("/static/refresh.js") for u in seen)
        outside = [u for u in seen if not (u.startswith(served.url + "/") or u.startswith("data:"))]
        assert outside == []

    async def test_no_content_security_policy_violation(self, served: Served, tmp_path: Path) -> None:
        """The browser reports no CSP violation or console error while loading the page."""
        async with chromium(tmp_path / "profile") as browser:
            page = await browser.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            await page.goto(served.url + "/", wait_until="networkidle")
        assert errors == []


class TestWithoutJavaScript:
    async def test_page_and_paging_work_with_javascript_off(self, served: Served, tmp_path: Path) -> None:
        """With JavaScript disabled the figures are there and "Older donations" pages by keyset."""
        async with chromium(tmp_path / "profile", javascript=False) as browser:
            page = await browser.new_page()
            await page.goto(served.url + "/")
            assert await page.locator('[data-field="donations"]').inner_text() == "6"
            await page.locator(".goal-bar").wait_for()
            assert await page.locator("#chart svg path.line").count() == 3


class TestRefreshScript:
    async def test_figures_refresh_from_the_json_every_30_seconds(self, served: Served, tmp_path: Path) -> None:
        """After a new donation is stored, the open page shows the new count once 30 s have passed."""
        from ledger.writes import TransferIn, record_transfers
        from ledger.wallets import get_wallet

        async with chromium(tmp_path / "profile") as browser:
            page = await browser.new_page()
            await page.clock.install()
            await page.goto(served.url + "/", wait_until="networkidle")
            async with served.db.session() as s:
                wallet = await get_wallet(s, "bitcoin", seed.BTC_ADDRESS)
                await record_transfers(s, [TransferIn(chain="bitcoin", txid="ee" * 32, position=0, wallet_id=wallet.id,
                                                      asset="BTC", decimals=8, amount=5_000_000)])
            assert await page.locator('[data-field="donations"]').inner_text() == "6"
            await page.clock.fast_forward(31_000)
            # Polled from here, not with wait_for_function: a string predicate is evaluated in the page,
            # which its own CSP (no eval) may refuse.
            await expect(page.locator('[data-field="donations"]')).to_have_text("7")
            assert await page.locator('tr[data-asset="BTC"] [data-field="pending"]').inner_text() == "0.06"


class TestPhone:
    async def test_390_px_has_no_horizontal_scroll(self, served: Served, tmp_path: Path) -> None:
        """At 390 px wide nothing is wider than the screen; the screenshots are kept as artefacts."""
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        async with chromium(tmp_path / "profile", width=390, height=844) as browser:
            page = await browser.new_page()
            await page.goto(served.url + "/", wait_until="networkidle")
            widths = await page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth,"
                                         " document.body.scrollWidth]")
            await page.screenshot(path=str(ARTEFACTS / "page-390.png"), full_page=True)
        async with chromium(tmp_path / "wide", width=1280, height=900) as browser:
            page = await browser.new_page()
            await page.goto(served.url + "/", wait_until="networkidle")
            await page.screenshot(path=str(ARTEFACTS / "page-1280.png"), full_page=True)
        assert widths[0] <= 390 and widths[1] == 390 and widths[2] <= 390


