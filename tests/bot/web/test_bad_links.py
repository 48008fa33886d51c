"""A mistyped page link: a browser gets a small HTML page with one line and a way back, a script the JSON error."""

from __future__ import annotations

from tests.bot.web.conftest import Served


class TestBadLinks:
    async def test_a_browser_gets_an_html_page_with_one_line(self, served: Served) -> None:
        """/?before=abc from a browser answers 400 with an HTML page saying what is wrong and linking to the newest."""
        headers = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
        async with served.http.get(served.url + "/?before=abc", headers=headers) as r:
            body = await r.text()
            assert r.status == 400 and r.content_type == "text/html"
        assert "<p role=\"alert\">before=&#39;abc&#39; is not a place in the list of donations" in body
        assert '<a href="/">The newest donations</a>' in body and served.settings.page.title in body

    async def test_a_script_still_gets_json(self, served: Served) -> None:
        """The same link fetched without asking for HTML answers the 400 as JSON with the same line."""
        async with served.http.get(served.url + "/?before=abc", headers={"Accept": "application/json"}) as r:
            assert r.status == 400 and (await r.json())["error"].startswith("before='abc' is not a place in the list")
