"""`sanctions status` and `sanctions update` say plainly when the list in force is stale: its age and the fix."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from tests.bot.test_cli import config, run

BUNDLED = date(2025, 11, 19)  # the bundled snapshot's publication date


def age_days() -> int:
    return (datetime.now(timezone.utc).date() - BUNDLED).days


class TestStale:
    def test_status_says_stale_with_the_age_and_the_fix(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """The bundled snapshot, older than max_list_age_days and never confirmed current, is STALE with its age and the command."""
        code, out, _ = run(capsys, "--config", str(config(tmp_path, extra="[screening]\nmax_list_age_days = 3\n")),
                           "sanctions", "status")
        assert code == 0
        [line] = [line for line in out.splitlines() if "STALE" in line]
        assert line == (f"  STALE: the list in force was published {age_days()} days ago, and no update confirmed it current "
                        "within 3 days (screening.max_list_age_days); screening goes on with it: run "
                        "`donation-watch sanctions update` (offline: `sanctions update --file SDN_ADVANCED.XML`)")
        assert out.splitlines()[:2] == ["ofac-sdn", line]

    def test_a_list_within_the_limit_is_not_stale(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """With a limit longer than the snapshot's age, nothing says STALE."""
        code, out, _ = run(capsys, "--config", str(config(tmp_path, extra="[screening]\nmax_list_age_days = 100000\n")),
                           "sanctions", "status")
        assert code == 0 and "STALE" not in out and "in force: bundled snapshot" in out

    def test_a_failed_update_also_says_stale(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """`sanctions update` with OFAC unreachable adds the STALE line under its FAILED line."""
        path = config(tmp_path, extra='[screening]\nofac_url = "http://127.0.0.1:9/SDN_ADVANCED.XML"\nmax_list_age_days = 3\n')
        code, out, _ = run(capsys, "--config", str(path), "sanctions", "update")
        assert code == 1
        lines = out.splitlines()
        assert lines[0].startswith("ofac-sdn: update FAILED: ") and lines[1].startswith("  STALE: the list in force was published")


class TestBundledHits:
    def test_a_hit_on_the_bundled_snapshot_names_party_and_programme(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """`sanctions check` of Lazarus Group's address on first start (bundled snapshot) says who is listed, under what, since when."""
        code, out, _ = run(capsys, "--config", str(config(tmp_path)), "sanctions", "check", "0x098B716B8Aaf21512996dC57EB0615e2383E2f96")
        assert code == 0 and "LISTED on ofac-sdn of 2025-11-19" in out and "bundled snapshot of 2025-11-19" in out
        assert "party: Lazarus Group [27307]; programme: DPRK3; listed on 2019-09-13" in out
