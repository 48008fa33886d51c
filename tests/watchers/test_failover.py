"""Failing sources are told once per streak: when the first fails and another answers, and when it answers again."""

from __future__ import annotations

import logging

import pytest

from tests.fakes.esplora import EsploraFake
from watchers.errors import SourceUnavailable
from watchers.esplora_client import EsploraClient
from watchers.failover import FailoverLog
from watchers.retry import RetryPolicy

log = logging.getLogger("tests.failover")


def said(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.levelname} {r.getMessage()}" for r in caplog.records if r.levelno >= logging.INFO]


class TestFailoverLog:
    def test_a_streak_is_told_when_it_starts_and_when_it_ends(self, caplog: pytest.LogCaptureFixture) -> None:
        """Three failovers from A to B give one warning; A answering again gives one info line."""
        caplog.set_level(logging.DEBUG, logger="tests.failover")
        failover = FailoverLog(log, "rpc")
        for _ in range(3):
            failover.answered("B", [("A", ConnectionError("refused"))])
        failover.answered("A", [])
        failover.answered("A", [])
        assert said(caplog) == ["WARNING rpc A failed (refused); B answered instead (said again when A answers)",
                                "INFO rpc A answers again"]

    def test_every_source_failing_is_left_to_whoever_polls(self, caplog: pytest.LogCaptureFixture) -> None:
        """No source answering logs nothing here (the error is raised; the runner tells the chain's streak)."""
        caplog.set_level(logging.DEBUG, logger="tests.failover")
        FailoverLog(log, "rpc")
        assert said(caplog) == []


class TestEsploraFailover:
    async def test_a_dead_first_source_is_warned_about_once(self, caplog: pytest.LogCaptureFixture) -> None:
        """Five requests with the first source refusing and the second answering: one warning, no line per request."""
        caplog.set_level(logging.INFO)
        fake = EsploraFake()
        await fake.start()
        client = EsploraClient(["http://127.0.0.1:9/api", fake.url], requests_per_second=1000,
                               retry=RetryPolicy(attempts=2, base_seconds=0.01, max_seconds=0.02))
        try:
            for _ in range(5):
                await client.tip_height()
        finally:
            await client.close()
            await fake.stop()
        lines = said(caplog)
        assert len(lines) == 1 and lines[0].startswith("WARNING esplora source http://127.0.0.1:9/api failed (")
        assert lines[0].endswith(f"{fake.url} answered instead (said again when http://127.0.0.1:9/api answers)")

    async def test_every_source_refusing_raises_without_a_line_per_attempt(self, caplog: pytest.LogCaptureFixture) -> None:
        """Both sources refusing, every attempt of three requests: errors raised, nothing logged by the client."""
        caplog.set_level(logging.INFO)
        client = EsploraClient(["http://127.0.0.1:9/one", "http://127.0.0.1:9/two"], requests_per_second=1000,
                               retry=RetryPolicy(attempts=3, base_seconds=0.01, max_seconds=0.02))
        try:
            for _ in range(3):
                with pytest.raises(SourceUnavailable):
                    await client.tip_height()
        finally:
            await client.close()
        assert said(caplog) == []
