"""The JSON API (schema version 2): the seeded ledger's figures, keyset pages, the README's schema, amounts as strings."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bot.export import decimal_text
from tests.bot.web import seed
from tests.bot.web.conftest import Served

README = Path(__file__).resolve().parents[3] / "README.md"


def readme_schema() -> dict[str, Any]:
    """The JSON Schema written in the README under <!-- api-schema-v2 -->."""
    text = README.read_text()
    match = re.search(r"<!-- api-schema-v2 -->\s*```json\n(.*?)\n```", text, re.S)
    assert match, "README.md has no <!-- api-schema-v2 --> JSON block"
    schema = json.loads(match.group(1))
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def validate(data: Any, name: str) -> None:
    schema = readme_schema()
    jsonschema.Draft202012Validator({"$ref": f"#/$defs/{name}", "$defs": schema["$defs"]},
                                    format_checker=jsonschema.FormatChecker()).validate(data)


async def get(served: Served, path: str) -> Any:
    async with served.http.get(served.url + path) as r:
        assert r.status == 200, await r.text()
        assert r.content_type == "application/json"
        return await r.json()


class TestTotals:
    async def test_figures_match_the_seeded_ledger(self, served: Served) -> None:
        """Per-asset confirmed/pending sums and counts, donation count, donors, span, listed count."""
        t = await get(served, "/api/v1/totals")
        by = {a["asset"]: a for a in t["assets"]}
        for asset, (confirmed, pending, count) in seed.EXPECTED.items():
            decimals = by[asset]["decimals"]
            assert decimal_text(int(by[asset]["confirmed"]), decimals) == confirmed
            assert decimal_text(int(by[asset]["pending"]), decimals) == pending
            assert by[asset]["confirmed_count"] + by[asset]["pending_count"] == count
        assert by["ETH"]["confirmed"] == str(2 * 10**18) and by["ETH"]["pending"] == str(5 * 10**17)
        assert by["BTC"]["confirmed"] == "175000000" and by["BTC"]["pending"] == "1000000"
        assert (t["donations"], t["confirmed_count"], t["pending_count"]) == (6, 4, 2)
        assert t["unique_donors"] == seed.UNIQUE_DONORS
        assert (t["first_donation"], t["latest_donation"]) == ("2026-11-01T12:00:00Z", "2026-11-13T12:00:00Z")
        assert t["screening"]["listed_donations"] == 1
        assert t["screening"]["lists"] == [{"source": "ofac-sdn", "published": "2025-11-19",
                                            "loaded_at": "2026-11-01T12:00:00Z", "entries": 1}]

    async def test_fiat_totals_count_the_unvalued_apart(self, served: Served) -> None:
        """Value at arrival in USD cents (rounded half up) with the two unvalued donations counted, not zeroed."""
        f = (await get(served, "/api/v1/totals"))["fiat"]
        assert f == {"currency": "USD", "decimals": 2, "confirmed": "11225003", "pending": "0",
                     "unvalued_count": seed.UNVALUED}

    async def test_goal_in_an_asset(self, served: Served) -> None:
        """A 2 BTC goal with 1.75 confirmed and 0.01 pending reads 87.50 % and 0.50 %."""
        g = (await get(served, "/api/v1/totals"))["goal"]
        assert (g["currency"], g["decimals"], g["amount"]) == ("BTC", 8, "200000000")
        assert (g["percent"], g["pending_percent"], g["phase"]) == ("87.50", "0.50", "active")

    async def test_matches_the_readme_schema(self, served: Served) -> None:
        """The answer validates against the README's schema (no field missing or extra)."""
        validate(await get(served, "/api/v1/totals"), "totals")

    async def test_amounts_are_strings_never_numbers(self, served: Served) -> None:
        """Every amount in the answer is a string of digits."""
        t = await get(served, "/api/v1/totals")
        for a in t["assets"]:
            assert all(isinstance(a[k], str) and a[k].isdigit() for k in ("confirmed", "pending"))


class TestDonations:
    async def test_pages_follow_next_cursor_to_the_end(self, served: Served) -> None:
        """limit=4 then the cursor gives ids 6..3 and 2..1, then no cursor."""
        first = await get(served, "/api/v1/donations?limit=4")
        second = await get(served, f"/api/v1/donations?limit=4&cursor={first['next_cursor']}")
        assert [d["id"] for d in first["items"]] == [6, 5, 4, 3]
        assert [d["id"] for d in second["items"]] == [2, 1] and second["next_cursor"] is None

    async def test_items_carry_exact_amounts_and_explorer_links(self, served: Served) -> None:
        """An ETH donation's amount is the wei string, with an etherscan link to its transaction."""
        item = (await get(served, "/api/v1/donations?limit=1"))["items"][0]
        assert (item["asset"], item["amount"], item["decimals"], item["status"]) == ("ETH", str(5 * 10**17), 18, "pending")
        assert item["explorer_url"] == f"https://etherscan.io/tx/{item['txid']}"
        assert item["fiat"] is None  # pending, not valued yet

    async def test_valued_items_carry_their_value_and_source(self, served: Served) -> None:
        """The USDT donation shows 250.03 USD at arrival (cents) from coinbase."""
        items = (await get(served, "/api/v1/donations?limit=2"))["items"]
        assert items[1]["fiat"] == {"currency": "USD", "decimals": 2, "value": "25003", "source": "coinbase"}

    async def test_matches_the_readme_schema(self, served: Served) -> None:
        """Pages validate against the README's schema."""
        validate(await get(served, "/api/v1/donations?limit=3"), "donations")

    @pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=x", "cursor=abc", "cursor=-1"])
    async def test_bad_parameters_are_one_clear_400(self, served: Served, query: str) -> None:
        """A bad limit or cursor answers 400 with a JSON error naming it."""
        async with served.http.get(f"{served.url}/api/v1/donations?{query}") as r:
            assert r.status == 400
            body = await r.json()
        assert query.split("=")[0] in body["error"]


class TestWallets:
    async def test_lists_official_addresses_with_totals(self, served: Served) -> None:
        """Both configured wallets with label, explorer link and their per-asset totals; matches the schema."""
        w = await get(served, "/api/v1/wallets")
        validate(w, "wallets")
        assert [(x["chain"], x["address"]) for x in w["wallets"]] == [("bitcoin", seed.BTC_ADDRESS), ("ethereum", seed.ETH_ADDRESS)]
        assert w["wallets"][0]["explorer_url"] == f"https://mempool.space/address/{seed.BTC_ADDRESS}"
        assert [a["asset"] for a in w["wallets"][1]["assets"]] == ["ETH", "USDT"]
        assert [x["next_address"] for x in w["wallets"]] == [None, None]  # plain addresses: pay the address itself
