"""Plain lists, the operator's own CSV list, the bundled snapshot, and the index over them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from screening.bundled import ORIGIN, load_bundled
from screening.errors import ScreeningListError
from screening.index import ListVersionInfo, ScreeningIndex
from screening.model import ParsedList
from screening.ofac_xml import parse_file as parse_ofac_file
from screening.own_list import parse_own_list
from screening.plain_list import parse_text_file
from screening.snapshot import dump, load
from tests.screening.conftest import DATA, EXCERPT_1119, KHORASHADIZADEH_XBT, LAZARUS_ETH

LISTS = DATA / "ofac_sdn_2025-11-19"


def _index(*parsed: ParsedList) -> ScreeningIndex:
    return ScreeningIndex(
        (ListVersionInfo(p.source, i, p.origin, p.published, p.sha256, len(p.entries)), p.entries)
        for i, p in enumerate(parsed, 1)
    )


class TestPlainLists:
    def test_reads_the_extracted_lists_with_their_asset(self) -> None:
        """The 0xB10C-format XBT list gives 517 entries labelled XBT."""
        parsed = parse_text_file(LISTS / "sanctioned_addresses_XBT.txt")
        assert len(parsed.entries) == 517 and {e.asset for e in parsed.entries} == {"XBT"}

    def test_tron_address_filed_under_xbt_loads(self) -> None:
        """The TRON address OFAC filed under XBT is loaded as a TRON-format entry, no crash."""
        parsed = parse_text_file(LISTS / "sanctioned_addresses_XBT.txt")
        [tron] = [e for e in parsed.entries if e.address == "TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq"]
        assert tron.format == "tron"

    def test_comments_blank_lines_and_look_alikes(self, tmp_path: Path) -> None:
        """Comments and blank lines are ignored; a non-ASCII line is skipped with its line number."""
        f = tmp_path / "mine.txt"
        f.write_text(f"# flagged\n\n{KHORASHADIZADEH_XBT}\n0x098B716B8\u0430af21512996dC57EB0615e2383E2f96\n", encoding="utf-8")
        parsed = parse_text_file(f)
        assert [e.address for e in parsed.entries] == [KHORASHADIZADEH_XBT]
        assert "line 4" in parsed.skipped[0]

    def test_not_utf8(self, tmp_path: Path) -> None:
        """A binary file is refused as not UTF-8 text."""
        f = tmp_path / "bin.txt"
        f.write_bytes(b"\xff\xfe\x00junk")
        with pytest.raises(ScreeningListError, match="not UTF-8"):
            parse_text_file(f)


class TestOwnList:
    def test_header_label_and_reason(self, tmp_path: Path) -> None:
        """Rows give address, label (as the party) and reason (as the programme)."""
        f = tmp_path / "own.csv"
        f.write_text(f"address,label,reason\n{LAZARUS_ETH},scam wallet,\"reported by donors, 2025\"\n")
        [entry] = parse_own_list(f).entries
        assert (entry.address, entry.party, entry.programmes) == (LAZARUS_ETH, "scam wallet", ("reported by donors, 2025",))

    def test_bad_row_names_the_line(self, tmp_path: Path) -> None:
        """A row whose address is not one is an error naming the file and line."""
        f = tmp_path / "own.csv"
        f.write_text(f"{LAZARUS_ETH},a,b\nnot an address,c,d\n")
        with pytest.raises(ScreeningListError, match="own.csv line 2"):
            parse_own_list(f)


class TestBundledSnapshot:
    def test_bundled_snapshot(self) -> None:
        """The shipped snapshot holds every address of 2025-11-19's SDN list (XBT, ETH, USDT, USDC and the rest) as the OFAC source."""
        parsed = load_bundled()
        assert parsed.source == "ofac-sdn" and parsed.origin == ORIGIN == "bundled snapshot of 2025-11-19"
        counts = {a: sum(1 for e in parsed.entries if e.asset == a) for a in ("XBT", "ETH", "USDT", "USDC")}
        assert counts == {"XBT": 518, "ETH": 77, "USDT": 93, "USDC": 2} and len(parsed.entries) == 760
        assert parsed.skipped == ()

    def test_every_snapshot_entry_names_its_party_programme_and_date(self) -> None:
        """Each bundled address carries who is listed, under which programme and since when (Lazarus Group's, as in the XML)."""
        entries = load_bundled().entries
        assert all(e.party and e.party_ref and e.programmes and e.listed_on for e in entries)
        [lazarus] = [e for e in entries if e.key == LAZARUS_ETH.lower()]
        assert (lazarus.party, lazarus.party_ref, lazarus.programmes, lazarus.listed_on) == (
            "Lazarus Group", "27307", ("DPRK3",), date(2019, 9, 13))

    def test_the_snapshot_file_is_what_the_xml_says(self) -> None:
        """Written from an SDN_ADVANCED.XML and read back, the snapshot gives the XML's entries, byte-stable."""
        parsed = parse_ofac_file(EXCERPT_1119)
        data = dump(parsed)
        entries, skipped = load(data, where="test")
        assert skipped == [] and sorted(entries, key=repr) == sorted(parsed.entries, key=repr)
        assert dump(parsed) == data  # no timestamp in the gzip header: the same XML, the same bytes


class TestIndex:
    def test_evm_address_matches_across_asset_labels(self) -> None:
        """A 0x address listed under USDT only is found when screening an ETH sender (format, not label)."""
        usdt = parse_text_file(LISTS / "sanctioned_addresses_USDT.txt")
        eth = {e.key for e in parse_text_file(LISTS / "sanctioned_addresses_ETH.txt").entries}
        only_usdt = next(e for e in usdt.entries if e.format == "evm" and e.key not in eth)
        index = _index(usdt)
        assert index.lookup(only_usdt.address.upper().replace("0X", "0x"))[0].entry.asset == "USDT"

    def test_bitcoin_address_under_another_label_matches(self) -> None:
        """A Bitcoin (Omni) address filed under USDT and not under XBT still matches."""
        usdt = parse_text_file(LISTS / "sanctioned_addresses_USDT.txt")
        xbt = {e.key for e in parse_text_file(LISTS / "sanctioned_addresses_XBT.txt").entries}
        omni = next(e for e in usdt.entries if e.format == "base58" and e.key not in xbt)
        assert _index(usdt).lookup(omni.address)

    def test_one_address_on_two_lists_gives_two_matches(self, tmp_path: Path) -> None:
        """An address on OFAC and on the own list matches both, each citing its list."""
        own = tmp_path / "own.csv"
        own.write_text(f"{LAZARUS_ETH.lower()},flagged,ours\n")
        index = _index(load_bundled(), parse_own_list(own))
        assert {m.list.source for m in index.lookup(LAZARUS_ETH)} == {"ofac-sdn", "own:own.csv"}

    def test_unlisted_and_garbage_lookups_are_empty(self) -> None:
        """An unlisted address, an empty string and non-ASCII text all give no match, no error."""
        index = _index(load_bundled())
        for text in ("0x00000000219ab540356cBB839Cbe05303d7705Fa", "", "\u0430\u0430\u0430"):
            assert index.lookup(text) == ()


class TestOpenSanctions:
    def test_wallets_with_holder_programme_and_date(self) -> None:
        """CryptoWallet entities give addresses with the holder's name, the Sanction's programme and listing date."""
        from datetime import date

        from screening.opensanctions import parse_ftm_file

        parsed = parse_ftm_file(DATA / "opensanctions_sample.ftm.json")
        by_key = {e.key: e for e in parsed.entries}
        lazarus = by_key[LAZARUS_ETH.lower()]
        assert (lazarus.party, lazarus.programmes, lazarus.listed_on, lazarus.asset) == ("Lazarus Group", ("DPRK3",), date(2019, 9, 13), "ETH")
        assert by_key[KHORASHADIZADEH_XBT].party == "Ali Khorashadizadeh"
        assert parsed.published == date(2025, 11, 19)
        assert len(parsed.entries) == 2 and "U+0430" in parsed.skipped[0]

    def test_damaged_line_is_refused(self, tmp_path: Path) -> None:
        """A cut-off CryptoWallet line is refused with its line number."""
        from screening.opensanctions import parse_ftm_file

        data = (DATA / "opensanctions_sample.ftm.json").read_bytes()
        cut = tmp_path / "cut.ftm.json"
        cut.write_bytes(data[: data.index(b"ofac-wallet-khorashadizadeh-1") + 80])
        with pytest.raises(ScreeningListError, match="line 4: not JSON"):
            parse_ftm_file(cut)
