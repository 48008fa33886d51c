"""The sanctions list can never silently get worse: older lists are refused, failures and staleness are told once."""

from __future__ import annotations

import getpass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import cli
from ledger.database import Database
from ledger.models import Event
from ledger.screening_tables import ScreeningListVersion
from ledger.types import utcnow
from screening.errors import OlderListRefused
from screening.health import assess
from screening.ofac_xml import parse_file
from screening.screener import Screener
from screening.store import current_versions
from screening.update import ListsConfig, update_all
from screening.versions import install
from tests.fakes.ofac import FakeOfac
from tests.screening.conftest import EXCERPT_0304, EXCERPT_0321, EXCERPT_1119

UNREACHABLE = "http://127.0.0.1:9/SDN_ADVANCED.XML"


async def _install(db: Database, path: Path, forced_by: str | None = None):  # type: ignore[no-untyped-def]
    async with db.session() as s:
        return await install(s, parse_file(path), forced_by=forced_by)


async def _in_force(db: Database) -> ScreeningListVersion:
    async with db.session() as s:
        return (await current_versions(s))["ofac-sdn"]


async def _kinds(db: Database) -> list[str]:
    async with db.session() as s:
        rows = (await s.execute(select(Event.kind).where(Event.kind.like("sanctions.%")).order_by(Event.id))).scalars()
        return [k for k in rows if k != "sanctions.hit" and k != "sanctions.delisted"]


class TestOlderListRefused:
    async def test_older_list_is_refused_and_the_newer_stays(self, db: Database) -> None:
        """Putting 2025-03-04 over 2025-03-21 is refused naming both dates; nothing is stored."""
        await _install(db, EXCERPT_0321)
        with pytest.raises(OlderListRefused) as info:
            await _install(db, EXCERPT_0304)
        assert "list of 2025-03-04, older than the list of 2025-03-21 in force" in str(info.value)
        assert "add 90" in str(info.value)  # the 90 Tornado Cash addresses delisted on 2025-03-21
        version = await _in_force(db)
        assert version.published == date(2025, 3, 21)
        async with db.session() as s:
            assert len((await s.execute(select(ScreeningListVersion))).scalars().all()) == 1

    async def test_forced_install_records_who_and_when(self, db: Database) -> None:
        """With forced_by the older list goes in force and its version row keeps who forced it and when."""
        await _install(db, EXCERPT_1119)
        before = utcnow()
        report = await _install(db, EXCERPT_0304, forced_by="alice")
        version = await _in_force(db)
        assert report.forced and version.published == date(2025, 3, 4)
        assert version.forced_by == "alice" and version.forced_at is not None and version.forced_at >= before

    async def test_a_newer_list_needs_no_force(self, db: Database) -> None:
        """The ordinary path, a newer publication, is not marked as forced."""
        await _install(db, EXCERPT_0304)
        report = await _install(db, EXCERPT_0321)
        assert not report.forced and (await _in_force(db)).forced_by is None


class TestUpdateCommandGuard:
    @pytest.fixture
    def config(self, tmp_path: Path) -> Path:
        path = tmp_path / "config.toml"
        path.write_text(
            f'data_dir = "{tmp_path}/data"\n[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/data/ledger.db"\n'
            f'[screening]\nofac_url = "{UNREACHABLE}"\ndownload_timeout_seconds = 2\n'
        )
        return path

    def _run(self, config: Path, *args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli, ["--config", str(config), "sanctions", "update", *args], catch_exceptions=False)

    def test_older_file_is_one_line_exit_2_naming_both_dates_and_force(self, config: Path) -> None:
        """`update --file` of an older list exits 2 with one line: both dates and the --force fix."""
        assert self._run(config, "--file", str(EXCERPT_1119)).exit_code == 0
        result = self._run(config, "--file", str(EXCERPT_0321))
        assert result.exit_code == 2 and result.stdout == ""
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert "list of 2025-03-21, older than the list of 2025-11-19 in force" in result.stderr
        assert result.stderr.rstrip().endswith("add --force to put it in force anyway")

    def test_force_installs_and_names_the_operator(self, config: Path) -> None:
        """`--force` puts the older list in force and says who forced it (the OS user)."""
        self._run(config, "--file", str(EXCERPT_1119))
        result = self._run(config, "--file", str(EXCERPT_0321), "--force")
        assert result.exit_code == 0
        assert f"ofac-sdn: installed (forced by {getpass.getuser()}); in force: 2025-03-21" in result.stdout

    def test_force_without_file_is_a_usage_error(self, config: Path) -> None:
        """--force alone makes no sense (downloads are never forced) and says so."""
        result = self._run(config, "--force")
        assert result.exit_code == 2 and "--force goes with --file" in result.stderr


def _config(url: str, tmp_path: Path, **kw) -> ListsConfig:  # type: ignore[no-untyped-def]
    return ListsConfig(ofac_url=url, download_dir=tmp_path / "downloads", timeout=2, **kw)


class TestListHealthEvents:
    async def test_failing_updates_are_told_once_per_streak(self, db: Database, fake_ofac: FakeOfac, tmp_path: Path) -> None:
        """Two failed updates make one sanctions.update_failed; the next success one sanctions.list_ok."""
        config = _config(fake_ofac.url, tmp_path)
        await update_all(db, config)
        fake_ofac.fail_status = 503
        await update_all(db, config)
        await update_all(db, config)
        assert await _kinds(db) == ["sanctions.update_failed"]
        fake_ofac.fail_status = None
        await update_all(db, config)
        await update_all(db, config)
        assert await _kinds(db) == ["sanctions.update_failed", "sanctions.list_ok"]

    async def test_failure_event_says_what_failed_and_what_stays(self, db: Database, fake_ofac: FakeOfac, tmp_path: Path) -> None:
        """The event carries the source, the error and the version still in force."""
        config = _config(fake_ofac.url, tmp_path)
        await update_all(db, config)
        fake_ofac.fail_status = 500
        await update_all(db, config)
        async with db.session() as s:
            event = (await s.execute(select(Event).where(Event.kind == "sanctions.update_failed"))).scalar_one()
        assert event.detail["source"] == "ofac-sdn" and "HTTP 500" in event.detail["error"]
        assert event.detail["published"] == "2025-03-04"

    async def test_old_list_without_a_successful_check_is_stale_once(self, db: Database, tmp_path: Path) -> None:
        """The bundled snapshot, with OFAC unreachable, is told stale once (and failing once), not at every update."""
        await Screener(db).ensure_lists()
        config = _config(UNREACHABLE, tmp_path)
        await update_all(db, config)
        await update_all(db, config)
        assert sorted(await _kinds(db)) == ["sanctions.list_stale", "sanctions.update_failed"]

    async def test_stale_recovers_with_a_successful_check(self, db: Database, fake_ofac: FakeOfac, tmp_path: Path) -> None:
        """When the update succeeds again, one sanctions.list_ok ends the stale-and-failing streak."""
        await Screener(db).ensure_lists()
        await update_all(db, _config(UNREACHABLE, tmp_path))
        fake_ofac.serve(EXCERPT_1119.read_bytes())
        results = await update_all(db, _config(fake_ofac.url, tmp_path))
        assert results[0].outcome == "installed"
        assert (await _kinds(db))[-1] == "sanctions.list_ok"
        async with db.session() as s:
            ok = (await s.execute(select(Event).where(Event.kind == "sanctions.list_ok"))).scalar_one()
        assert sorted(ok.detail["after"]) == ["list_stale", "update_failed"]

    async def test_an_old_publication_confirmed_by_a_check_is_not_stale(self, db: Database, fake_ofac: FakeOfac, tmp_path: Path) -> None:
        """OFAC publishes irregularly: a 2025-03-04 list that the server still serves (304) is current, not stale."""
        config = _config(fake_ofac.url, tmp_path)
        await update_all(db, config)
        results = await update_all(db, config)
        assert results[0].outcome == "not modified" and results[0].health is not None and not results[0].health.stale
        assert await _kinds(db) == []

    async def test_no_check_within_the_max_age_is_stale(self, db: Database, fake_ofac: FakeOfac, tmp_path: Path) -> None:
        """Four days after the last successful check of a list published long ago, it is stale (max age 3 days)."""
        await update_all(db, _config(fake_ofac.url, tmp_path))
        later = datetime.now(timezone.utc) + timedelta(days=4)
        async with db.session() as s:
            health = await assess(s, "ofac-sdn", max_age=timedelta(days=3), now=later)
        assert health.stale and [str(k) for k in health.announced] == ["sanctions.list_stale"]
        async with db.session() as s:
            again = await assess(s, "ofac-sdn", max_age=timedelta(days=5), now=later)  # 4 < 5 days: current again
        assert [str(k) for k in again.announced] == ["sanctions.list_ok"]
