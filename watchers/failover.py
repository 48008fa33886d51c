"""Telling which of a client's sources fail, once per streak instead of once per attempt.

A source that fails while another answers is warned about once, and its return is noted once.
When every source fails, nothing is logged here: the error is raised, lands in the poll's report,
and whoever polls says it once per streak (bot.runner). Offline, a chain with two sources and
four retries per request so says nothing here, however often it polls.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence


class FailoverLog:
    """The sources whose failure has been told, and when to tell it (or their return)."""

    def __init__(self, log: logging.Logger, kind: str) -> None:
        self.log = log
        self.kind = kind  # "esplora source", "rpc"
        self._told: set[str] = set()

    def answered(self, name: str, failed: Sequence[tuple[str, BaseException]]) -> None:
        """``name`` answered after the sources in ``failed`` did not (in this one request)."""
        for other, exc in failed:
            if other not in self._told:
                self._told.add(other)
                self.log.warning("%s %s failed (%s); %s answered instead (said again when %s answers)",
                                 self.kind, other, exc, name, other)
        if name in self._told:
            self._told.discard(name)
            self.log.info("%s %s answers again", self.kind, name)
