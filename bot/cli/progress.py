"""The progress bar of long commands (`backfill`, `import`): tqdm on a terminal, nothing elsewhere.

On a terminal the bar is drawn on stderr from the first step (once the total is known) and log
lines are printed above it instead of through it (tqdm's logging redirect, which keeps our
formatter and so its masking of secrets). Piped or in a container's log, no bar: a log collector
would only get carriage returns.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tqdm import tqdm


class ProgressBar:
    """A bar of ``done`` out of ``total`` units, with a few counters beside it."""

    def __init__(self, desc: str, unit: str) -> None:
        self.desc = desc
        self.unit = unit
        self._bar: tqdm | None = None
        self._logs = ExitStack()

    def show(self, done: int, total: int, **counters: Any) -> None:
        """Move the bar to ``done`` of ``total``; drawn on the first call (on a terminal)."""
        if self._bar is None:
            from tqdm import tqdm
            from tqdm.contrib.logging import logging_redirect_tqdm

            # disable=None: no bar when stderr is not a terminal.
            self._bar = tqdm(desc=self.desc, unit=self.unit, total=total, dynamic_ncols=True, mininterval=0.5, disable=None)
            if not self._bar.disable:
                self._logs.enter_context(logging_redirect_tqdm([logging.getLogger()]))
        bar = self._bar
        bar.total = total
        bar.set_postfix(counters, refresh=False)
        bar.update(done - bar.n)

    def close(self) -> None:
        """Leave the bar where it stands (its last line stays on screen) and give the log lines back."""
        if self._bar is not None:
            self._bar.close()
        self._logs.close()
