"""The streaming SDN_ADVANCED.XML reader, on the verbatim excerpts of OFAC's files."""

from __future__ import annotations

import bz2
import hashlib
from datetime import date
from pathlib import Path

import pytest

from screening.errors import ScreeningListError
from screening.ofac_xml import parse_file
from tests.screening.conftest import EXCERPT_0304, EXCERPT_0321, EXCERPT_1119, KHORASHADIZADEH_XBT, tornado_addresses

CURRENT_NS = b"https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/ADVANCED_XML"
OLD_NS = b"http://www.un.org/sanctions/1.0"


def _by_asset(path: Path) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for e in parse_file(path).entries:
        out.setdefault(e.asset, set()).add(e.address)
    return out


class TestExcerpt:
    def test_date_of_issue_and_hash(self) -> None:
        """The published date comes from DateOfIssue and the sha256 from the file's bytes."""
        parsed = parse_file(EXCERPT_1119)
        assert parsed.published == date(2025, 11, 19)
        assert parsed.sha256 == hashlib.sha256(EXCERPT_1119.read_bytes()).hexdigest()

    def test_assets_are_discovered_from_the_file(self) -> None:
        """XBT, ETH, USDT and USDC entries are all found without a hard-coded asset list."""
        assert set(_by_asset(EXCERPT_1119)) == {"XBT", "ETH", "USDT", "USDC"}

    def test_entries_agree_with_the_extracted_lists(self) -> None:
        """Every address in the excerpt is on the extracted list of its asset for the same day."""
        lists = EXCERPT_1119.parent
        for asset, found in _by_asset(EXCERPT_1119).items():
            extracted = set((lists / f"sanctioned_addresses_{asset}.txt").read_text().split())
            assert found <= extracted, asset

    def test_party_programme_and_listing_date(self) -> None:
        """An address carries its party's primary name, programme and listing date."""
        [entry] = [e for e in parse_file(EXCERPT_1119).entries if e.address == KHORASHADIZADEH_XBT]
        assert entry.party == "Ali Khorashadizadeh"
        assert entry.party_ref == "26137"
        assert entry.programmes == ("CYBER2",)
        assert entry.listed_on == date(2018, 11, 28)
        assert entry.asset == "XBT"

    def test_party_with_several_assets(self) -> None:
        """Valerian Labs (45314) has addresses under XBT, ETH, USDT and USDC, all with its programme."""
        entries = [e for e in parse_file(EXCERPT_1119).entries if e.party_ref == "45314"]
        assert {e.asset for e in entries} == {"XBT", "ETH", "USDT", "USDC"}
        assert {e.programmes for e in entries} == {("ILLICIT-DRUGS-EO14059",)}

    def test_tornado_cash_is_in_the_march_4_excerpt_only(self) -> None:
        """The 90 Tornado Cash addresses are under party 39796 on 2025-03-04 and gone on 2025-03-21."""
        tornado = {a.lower() for a in tornado_addresses()}
        before = [e for e in parse_file(EXCERPT_0304).entries if e.key in tornado]
        assert len({e.key for e in before}) == 90
        assert {e.party_ref for e in before} == {"39796"}
        assert {e.party for e in before} == {"TORNADO CASH"}
        assert not tornado & parse_file(EXCERPT_0321).keys

    def test_bz2_file_reads_the_same(self, tmp_path: Path) -> None:
        """A bzip2-compressed file gives the same entries and the hash of the XML inside."""
        packed = tmp_path / "sdn.xml.bz2"
        packed.write_bytes(bz2.compress(EXCERPT_1119.read_bytes()))
        assert parse_file(packed).entries == parse_file(EXCERPT_1119).entries
        assert parse_file(packed).sha256 == parse_file(EXCERPT_1119).sha256

    def test_old_namespace_is_accepted(self, tmp_path: Path) -> None:
        """The pre-May-2024 namespace (http://www.un.org/sanctions/1.0) reads the same entries."""
        old = tmp_path / "old.xml"
        old.write_bytes(EXCERPT_1119.read_bytes().replace(CURRENT_NS, OLD_NS))
        assert parse_file(old).entries == parse_file(EXCERPT_1119).entries


class TestBadFiles:
    def test_truncated_file(self, tmp_path: Path) -> None:
        """A file cut in the middle is refused as truncated, naming the line."""
        data = EXCERPT_1119.read_bytes()
        cut = tmp_path / "cut.xml"
        cut.write_bytes(data[: len(data) * 2 // 3])
        with pytest.raises(ScreeningListError, match="not well-formed XML at line .*truncated"):
            parse_file(cut)

    def test_empty_file(self, tmp_path: Path) -> None:
        """An empty file is refused as empty."""
        empty = tmp_path / "empty.xml"
        empty.write_bytes(b"")
        with pytest.raises(ScreeningListError, match="empty"):
            parse_file(empty)

    def test_malformed_xml(self, tmp_path: Path) -> None:
        """Mismatched tags are refused, even after all the addresses were read."""
        bad = tmp_path / "bad.xml"
        bad.write_bytes(EXCERPT_1119.read_bytes().replace(b"</SanctionsEntries>", b"</SanctionsEntrie>"))
        with pytest.raises(ScreeningListError, match="not well-formed"):
            parse_file(bad)

    def test_unknown_namespace(self, tmp_path: Path) -> None:
        """A document in another namespace is refused, naming the namespaces expected."""
        other = tmp_path / "other.xml"
        other.write_bytes(EXCERPT_1119.read_bytes().replace(CURRENT_NS, b"urn:example:other"))
        with pytest.raises(ScreeningListError, match="unknown XML namespace 'urn:example:other'"):
            parse_file(other)

    def test_other_xml_document(self, tmp_path: Path) -> None:
        """A well-formed XML file that is not SDN_ADVANCED.XML is refused."""
        other = tmp_path / "feed.xml"
        other.write_bytes(b'<?xml version="1.0"?><rss><channel/></rss>')
        with pytest.raises(ScreeningListError, match="not OFAC's SDN_ADVANCED.XML|namespace"):
            parse_file(other)

    def test_missing_file(self, tmp_path: Path) -> None:
        """A path that does not exist is reported with the path."""
        with pytest.raises(ScreeningListError, match="cannot read .*nope.xml"):
            parse_file(tmp_path / "nope.xml")

    def test_look_alike_address_is_skipped_not_loaded(self, tmp_path: Path) -> None:
        """A listed address with a non-ASCII look-alike is skipped with a reason; the rest load."""
        data = EXCERPT_1119.read_bytes().replace(KHORASHADIZADEH_XBT.encode(), "149w62rY42aZB\u043ex8fGcmqNsXUzSStKeq8C".encode())
        odd = tmp_path / "odd.xml"
        odd.write_bytes(data)
        parsed = parse_file(odd)
        assert len(parsed.skipped) == 1 and "U+043E" in parsed.skipped[0]
        assert len(parsed.entries) == len(parse_file(EXCERPT_1119).entries) - 1


def _tree_read(path: Path):  # type: ignore[no-untyped-def]
    from screening.ofac_records import ReadState, build_entries
    from screening.ofac_xml import _HashingReader, _run_tree

    state = ReadState()
    with open(path, "rb") as raw:
        _run_tree(_HashingReader(raw), state, "ofac-sdn")
    return build_entries(state)[0], state.issued


def _scan_read(path: Path, chunk: int):  # type: ignore[no-untyped-def]
    from screening.ofac_records import ReadState, build_entries
    from screening.ofac_scan import scan

    data = path.read_bytes()
    state = ReadState()
    scan((data[i : i + chunk] for i in range(0, len(data), chunk)), state, "ofac-sdn")
    return build_entries(state)[0], state.issued


class TestFastPathAgreesWithFullReader:
    def test_both_readers_agree_on_every_excerpt(self) -> None:
        """The byte-cutting fast path and the element-tree reader give the same entries and date."""
        for path in (EXCERPT_1119, EXCERPT_0304, EXCERPT_0321):
            assert _scan_read(path, 1 << 20) == _tree_read(path)

    def test_small_chunks_cut_records_anywhere(self) -> None:
        """Chunks of 997 bytes, which cut tags and records at every place, change nothing."""
        assert _scan_read(EXCERPT_0304, 997) == _tree_read(EXCERPT_0304)

    def test_shipped_excerpt_takes_the_fast_path(self, caplog: pytest.LogCaptureFixture) -> None:
        """A file like OFAC's (its only comment holds no markup) never needs the full reader."""
        caplog.set_level("INFO", logger="screening.ofac_xml")
        parse_file(EXCERPT_0304)
        assert "element-tree reader" not in caplog.text

    def test_record_hidden_in_cdata_is_not_read(self, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
        """A fake party inside a CDATA section is text, not a record: the full reader is used and ignores it."""
        fake = (
            b'<Comment><![CDATA[<DistinctParty FixedRef="1"><Profile ID="1"><Feature ID="1" FeatureTypeID="344">'
            b"<FeatureVersion><VersionDetail>1BoatSLRHtKNngkdXEeobR76b53LETtpyT</VersionDetail></FeatureVersion>"
            b"</Feature></Profile></DistinctParty>]]></Comment>"
        )
        data = EXCERPT_1119.read_bytes().replace(b"<Comment />", fake, 1)
        odd = tmp_path / "cdata.xml"
        odd.write_bytes(data)
        caplog.set_level("INFO", logger="screening.ofac_xml")
        assert parse_file(odd).entries == parse_file(EXCERPT_1119).entries
        assert "element-tree reader: a CDATA section" in caplog.text

    def test_record_hidden_in_a_comment_is_not_read(self, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
        """A fake party inside an XML comment is ignored (the full reader takes over)."""
        fake = b'<!-- <DistinctParty FixedRef="1"><Profile ID="1"><Feature ID="1" FeatureTypeID="344"><FeatureVersion><VersionDetail>1BoatSLRHtKNngkdXEeobR76b53LETtpyT</VersionDetail></FeatureVersion></Feature></Profile></DistinctParty> -->'
        data = EXCERPT_1119.read_bytes().replace(b"<DistinctParties>", b"<DistinctParties>" + fake, 1)
        odd = tmp_path / "comment.xml"
        odd.write_bytes(data)
        caplog.set_level("INFO", logger="screening.ofac_xml")
        assert parse_file(odd).entries == parse_file(EXCERPT_1119).entries
        assert "element-tree reader: a comment that contains markup" in caplog.text
