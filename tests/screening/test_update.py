"""Updating the OFAC list over HTTP (a fake OFAC server): conditional GET, and failures that keep the last good version."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from ledger.database import Database
from ledger.screening_tables import ScreeningListVersion, ScreeningSource
from screening.screener import Screener
from screening.update import ListsConfig, update_all, update_ofac
from tests.fakes.ofac import FakeOfac
from tests.screening.conftest import DATA, EXCERPT_0321, LAZARUS_ETH, tornado_addresses


def _config(url: str, tmp_path: Path, **kw) -> ListsConfig:  # type: ignore[no-untyped-def]
    return ListsConfig(ofac_url=url, download_dir=tmp_path / "downloads", **kw)


async def _state(db: Database) -> ScreeningSource:
    async with db.session() as s:
        return (await s.execute(select(ScreeningSource).where(ScreeningSource.source == "ofac-sdn"))).scalar_one()


async def _version_count(db: Database) -> int:
    async with db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(ScreeningListVersion)) or 0)


class TestConditionalGet:
    async def test_download_installs_and_sends_a_user_agent(self, db: Database, fake_ofac: FakeOfac, tmp_path: Path) -> None:
        """The first update downloads the file, puts it in force, and identifies itself."""
        result = await update_ofac(db, _config(fake_ofac.url, tmp_path))
        assert result.outcome == "installed" and result.in_force and result.in_force.published == date(2025, 3, 4)
        assert fake_ofac.requests[0]["User-Agent"].startswith("donation-watch/")
        assert (await _state(db)).etag == fake_ofac.etag
        assert not list((tmp_path / "downloads").iterdir())

    async def test_unchanged_file_is_not_downloaded_again(self, db: Database, fake_ofac: FakeOfac, tmp_path: Path) -> None:
        """The second update sends If-None-Match and If-Modified-Since and takes the 304."""
        await update_ofac(db, _config(fake_ofac.url, tmp_path))
        result = await update_ofac(db, _config(fake_ofac.url, tmp_path))
        assert result.outcome == "not modified"
        assert fake_ofac.requests[1]["If-None-Match"] == fake_ofac.etag and "If-Modified-Since" in fake_ofac.requests[1]
        assert await _version_count(db) == 1

    async def test_new_publication_is_diffed(self, db: Database, fake_ofac: FakeOfac, tmp_path: Path) -> None:
        """When OFAC publishes 2025-03-21, the update removes the 90 Tornado Cash addresses."""
        await update_ofac(db, _config(fake_ofac.url, tmp_path))
        fake_ofac.serve(EXCERPT_0321.read_bytes())
        result = await update_ofac(db, _config(fake_ofac.url, tmp_path))
        assert result.outcome == "installed" and result.report is not None
        assert len(result.report.removed) == 90 and not result.report.added


class TestFailuresKeepTheLastGoodVersion:
    async def _first(self, db: Database, fake_ofac: FakeOfac, tmp_path: Path) -> None:
        assert (await update_ofac(db, _config(fake_ofac.url, tmp_path))).outcome == "installed"
        fake_ofac.serve(EXCERPT_0321.read_bytes())

    async def _kept(self, db: Database) -> None:
        async with db.session() as s:
            version = (await s.execute(select(ScreeningListVersion).order_by(ScreeningListVersion.id.desc()))).scalars().first()
        assert version is not None and version.published == date(2025, 3, 4)
        assert (await Screener(db).check(tornado_addresses()[0]))

    async def test_server_error(self, db: Database, fake_ofac: FakeOfac, tmp_path: Path) -> None:
        """HTTP 500 fails the update with the status; 2025-03-04 stays in force and status shows why."""
        await self._first(db, fake_ofac, tmp_path)
        fake_ofac.fail_status = 500
        result = await update_ofac(db, _config(fake_ofac.url, tmp_path))
        assert result.failed and "HTTP 500" in (result.reason or "") and "still in force: ofac-sdn of 2025-03-04" in (result.reason or "")
        assert "HTTP 500" in ((await _state(db)).last_error or "")
        await self._kept(db)

    async def test_connection_cut_short(self, db: Database, fake_ofac: FakeOfac, tmp_path: Path) -> None:
        """A body shorter than its Content-Length is refused as truncated."""
        await self._first(db, fake_ofac, tmp_path)
        fake_ofac.cut_after = 50_000
        result = await update_ofac(db, _config(fake_ofac.url, tmp_path))
        assert result.failed and "truncated" in (result.reason or "")
        await self._kept(db)

    async def test_truncated_file_served_whole(self, db: Database, fake_ofac: FakeOfac, tmp_path: Path) -> None:
        """A complete download of a truncated file is refused as not well-formed XML."""
        await self._first(db, fake_ofac, tmp_path)
        fake_ofac.serve(EXCERPT_0321.read_bytes()[:60_000])
        result = await update_ofac(db, _config(fake_ofac.url, tmp_path))
        assert result.failed and "not well-formed XML" in (result.reason or "")
        await self._kept(db)

    async def test_empty_file(self, db: Database, fake_ofac: FakeOfac, tmp_path: Path) -> None:
        """An empty 200 answer is refused as an empty file."""
        await self._first(db, fake_ofac, tmp_path)
        fake_ofac.serve(b"")
        result = await update_ofac(db, _config(fake_ofac.url, tmp_path))
        assert result.failed and "empty" in (result.reason or "")
        await self._kept(db)

    async def test_size_cap(self, db: Database, fake_ofac: FakeOfac, tmp_path: Path) -> None:
        """A file over the size cap is refused before it is read whole."""
        await self._first(db, fake_ofac, tmp_path)
        result = await update_ofac(db, _config(fake_ofac.url, tmp_path, max_bytes=10_000))
        assert result.failed and "cap" in (result.reason or "")
        await self._kept(db)

    async def test_timeout(self, db: Database, fake_ofac: FakeOfac, tmp_path: Path) -> None:
        """A server that does not answer in time fails the update with the timeout."""
        await self._first(db, fake_ofac, tmp_path)
        fake_ofac.stall_seconds = 2.0
        result = await update_ofac(db, _config(fake_ofac.url, tmp_path, timeout=0.3))
        assert result.failed and "within 0.3 s" in (result.reason or "")
        await self._kept(db)


class TestFirstStartOffline:
    async def test_no_network_leaves_the_bundled_snapshot_in_force(self, db: Database, tmp_path: Path) -> None:
        """With no stored version and no network, the bundled 2025-11-19 snapshot is in force and says so."""
        await Screener(db).ensure_lists()
        result = await update_ofac(db, _config("http://127.0.0.1:9/SDN_ADVANCED.XML", tmp_path, timeout=2))
        assert result.failed and result.in_force is not None
        assert result.in_force.origin == "bundled snapshot of 2025-11-19"
        assert "still in force: ofac-sdn of 2025-11-19" in (result.reason or "")
        assert (await Screener(db).check(LAZARUS_ETH))[0].list.origin == "bundled snapshot of 2025-11-19"


class TestAllSources:
    async def test_one_failing_source_does_not_stop_the_others(self, db: Database, fake_ofac: FakeOfac, tmp_path: Path) -> None:
        """A missing plain list fails alone; OFAC and the own list are still updated."""
        own = tmp_path / "own.csv"
        own.write_text(f"{LAZARUS_ETH},flagged,ours\n")
        config = _config(
            fake_ofac.url, tmp_path, extra_lists=(str(tmp_path / "missing.txt"),), own_list=str(own),
            opensanctions_file=str(DATA / "opensanctions_sample.ftm.json"),
        )
        results = await update_all(db, config)
        assert [r.outcome for r in results] == ["installed", "failed", "installed", "installed"]
        assert {m.list.source for m in await Screener(db).check(LAZARUS_ETH)} == {"ofac-sdn", "own:own.csv", "opensanctions"}
        assert "cannot read" in (results[1].reason or "")


class TestFileThenDownload:
    async def test_a_file_version_forgets_the_download_validators(self, db: Database, fake_ofac: FakeOfac, tmp_path: Path) -> None:
        """After `update --file`, the next download is a full GET (not a 304 against another version), checked by date."""
        from screening.update import update_from_file

        from tests.screening.conftest import EXCERPT_1119

        await update_ofac(db, _config(fake_ofac.url, tmp_path))
        assert (await update_from_file(db, EXCERPT_1119)).outcome == "installed"
        result = await update_ofac(db, _config(fake_ofac.url, tmp_path))
        assert "If-None-Match" not in fake_ofac.requests[-1]
        # The server's 2025-03-04 list is older than the file's: refused, and the newer one stays.
        assert result.failed and "older than the list of 2025-11-19 in force" in (result.reason or "")
        assert result.in_force is not None and result.in_force.published == date(2025, 11, 19)
