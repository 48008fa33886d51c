"""Dates given on the command line."""

from __future__ import annotations

from datetime import datetime, timezone

import click


def refuse_future(since: datetime | None, option: str = "--since") -> None:
    """A history start after today (UTC) is a mistyped date: one line, exit 2."""
    if since is not None and since.date() > datetime.now(timezone.utc).date():
        today = datetime.now(timezone.utc).date()
        raise click.BadParameter(f"{since:%Y-%m-%d} is in the future (today is {today:%Y-%m-%d} UTC); give the day the history starts",
                                 param_hint=option)
