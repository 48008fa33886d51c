"""Safety: read-only routes, a per-client rate limit, security headers, the export token, no secret reachable."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from bot.web.guard import RateLimiter, client_of
from tests.bot.web import seed
from tests.bot.web.conftest import Served, serve

TOKEN = "s3cret-export-token-for-tests"
ROUTES = ["/", "/?before=4", "/api/v1/totals", "/api/v1/donations", "/api/v1/wallets", "/static/style.css",
          "/static/refresh.js", "/nowhere", "/static/../../bot/settings.py"]


class TestHeaders:
    @pytest.mark.parametrize("path", ["/", "/api/v1/totals", "/static/style.css", "/nowhere"])
    async def test_every_answer_carries_the_security_headers(self, served: Served, path: str) -> None:
        """CSP without inline script or style, nosniff, no-referrer, frame denial — on pages, API, files and 404s."""
        async with served.http.get(served.url + path) as r:
            h = r.headers
        csp = h["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
        assert "default-src 'none'" in csp
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["Referrer-Policy"] == "no-referrer"
        assert h["X-Frame-Options"] == "DENY"

    async def test_page_has_no_inline_script_or_style(self, served: Served) -> None:
        """The HTML has no <script> body, no style attribute and no <style> element (CSP would block them)."""
        async with served.http.get(served.url + "/") as r:
            html = await r.text()
        assert "<style" not in html and " style=" not in html
        assert html.count("<script") == 1 and '<script src="/static/refresh.js" defer></script>' in html


class TestReadOnly:
    @pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
    async def test_writing_methods_are_refused(self, served: Served, method: str) -> None:
        """Any method but GET/HEAD/OPTIONS is 405 on every route."""
        for path in ("/", "/api/v1/totals", "/api/v1/export.csv"):
            async with served.http.request(method, served.url + path) as r:
                assert r.status == 405


class TestRateLimit:
    def test_bucket_refills_at_the_rate(self) -> None:
        """A 60/min bucket allows 60 at once, then refuses, then allows one a second later."""
        now = [0.0]
        limiter = RateLimiter(60, clock=lambda: now[0])
        assert all(limiter.take("a") == 0 for _ in range(60))
        assert limiter.take("a") == pytest.approx(1.0)
        assert limiter.take("b") == 0  # another client has its own bucket
        now[0] = 1.0
        assert limiter.take("a") == 0

    def test_bucket_table_is_bounded(self) -> None:
        """Many clients never keep more than max_clients buckets."""
        limiter = RateLimiter(10, max_clients=100)
        for i in range(1000):
            limiter.take(f"10.0.{i // 256}.{i % 256}")
        assert len(limiter._buckets) == 100

    def test_forwarded_for_counts_only_behind_a_trusted_proxy(self) -> None:
        """X-Forwarded-For names the client only with trust_forwarded_for; otherwise the peer address does."""
        from aiohttp.test_utils import make_mocked_request

        request = make_mocked_request("GET", "/", headers={"X-Forwarded-For": "203.0.113.7, 10.0.0.1"})
        assert client_of(request, trust_forwarded_for=True) == "203.0.113.7"
        assert client_of(request, trust_forwarded_for=False) != "203.0.113.7"

    @pytest.mark.parametrize("page_settings", [seed.settings(rate_limit_per_minute=5)])
    async def test_over_the_limit_is_429_with_retry_after(self, served: Served) -> None:
        """The sixth request within a minute from one client is 429 with Retry-After."""
        statuses = []
        for _ in range(6):
            async with served.http.get(served.url + "/api/v1/totals") as r:
                statuses.append(r.status)
                retry = r.headers.get("Retry-After")
        assert statuses == [200] * 5 + [429] and retry is not None and int(retry) >= 1


class TestExportToken:
    @pytest.mark.parametrize("page_settings", [seed.settings(export_token=SecretStr(TOKEN))])
    async def test_export_needs_the_bearer_token(self, served: Served) -> None:
        """No token or a wrong one is 401; the right one streams the CSV."""
        async with served.http.get(served.url + "/api/v1/export.csv") as r:
            assert r.status == 401 and "Bearer" in r.headers["WWW-Authenticate"]
        async with served.http.get(served.url + "/api/v1/export.csv", headers={"Authorization": "Bearer nope"}) as r:
            assert r.status == 401
        async with served.http.get(served.url + "/api/v1/export.csv", headers={"Authorization": f"Bearer {TOKEN}"}) as r:
            assert r.status == 200 and r.content_type == "text/csv"
            text = await r.text()
        assert text.count("\n") == 1 + len(seed.DONATIONS)

    async def test_export_is_off_without_a_token(self, served: Served) -> None:
        """With no token configured the export route is 404."""
        async with served.http.get(served.url + "/api/v1/export.csv", headers={"Authorization": "Bearer "}) as r:
            assert r.status == 404


class TestNoSecrets:
    @pytest.mark.parametrize("page_settings", [seed.settings(export_token=SecretStr(TOKEN), show_hits=True)])
    async def test_token_database_url_and_config_never_appear(self, served: Served) -> None:
        """No answer of any route (page, API, files, errors) holds the token, the database URL or settings internals."""
        db_url = served.db.url.render_as_string(hide_password=False)
        secrets = [TOKEN, db_url, served.db.safe_url, str(served.db.url.database), "127.0.0.1:9", "esplora_urls",
                   "rpc_urls", "export_token", "rate_limit_per_minute"]
        for path in ROUTES:
            async with served.http.get(served.url + path) as r:
                body = await r.text()
                headers = "\n".join(f"{k}: {v}" for k, v in r.headers.items())
            for secret in secrets:
                assert secret not in body and secret not in headers, f"{secret!r} appears in {path}"
