"""`donation-watch sanctions update|status|check`: the lists in force, updating them, and checking one address."""

from __future__ import annotations

import getpass
import os
import sys
from datetime import date, datetime
from pathlib import Path

import click

from typing import TYPE_CHECKING

from bot.cli import AppContext, pass_app, run_async

if TYPE_CHECKING:  # the heavy modules are imported inside the commands: `sanctions check` answers at once
    from screening.index import ListVersionInfo, Match
    from screening.status import SourceStatus
    from screening.update import UpdateResult


def _when(info: ListVersionInfo) -> str:
    return info.published.isoformat() if info.published else "unknown date"


@click.group("sanctions")
def sanctions() -> None:
    """Sanctions lists: update them, see which are in force, check an address."""


def operator_name() -> str:
    """Who runs this command, as the operating system knows them (recorded on a forced list)."""
    try:
        return getpass.getuser()[:64]
    except Exception:  # noqa: BLE001 - no login name (e.g. a container's bare uid)
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown user"


@sanctions.command("update")
@click.option("--file", "file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Load this SDN_ADVANCED.XML (or .xml.bz2) instead of downloading it.")
@click.option("--force", is_flag=True, help="With --file: put the file in force even if it is older than the list in force (your user name and the time are recorded).")
@pass_app
def update(app: AppContext, file: Path | None, force: bool) -> None:
    """Fetch OFAC's list (conditional GET) and reload the configured lists; a failure keeps the last good version."""
    from bot.app import App
    from bot.screening_wiring import lists_config
    from screening.update import update_all

    settings = app.settings
    if force and file is None:
        raise click.UsageError("--force goes with --file (a download is never older than what OFAC publishes)")
    forced_by = operator_name() if force else None

    async def _go() -> list[UpdateResult]:
        async with await App.open(settings) as running:
            # First start: the bundled snapshot goes in force, so a failed download still leaves a list.
            await running.screener.ensure_lists()
            return await update_all(running.db, lists_config(settings), ofac_file=file, forced_by=forced_by)

    from ledger.types import utcnow

    results = run_async(_go)
    for r in results:
        stale = r.health is not None and r.health.stale and r.in_force is not None
        if r.failed:
            click.echo(f"{r.source}: update FAILED: {r.reason}")
            if stale:
                click.echo(stale_line(r.in_force.published, utcnow(), settings.screening.max_list_age_days))  # type: ignore[union-attr]
            continue
        if r.refused:
            click.echo(f"error: {r.source}: {r.reason}; add --force to put it in force anyway", err=True)
            continue
        assert r.in_force is not None
        outcome = f"{r.outcome} (forced by {forced_by})" if forced_by and r.report and r.report.forced else r.outcome
        line = f"{r.source}: {outcome}; in force: {_when(r.in_force)}, {r.in_force.count} addresses, sha256 {r.in_force.sha256[:12]}"
        if r.report is not None and not r.report.unchanged:
            rep = r.report
            line += f"; +{len(rep.added)} -{len(rep.removed)} addresses, {rep.new_hits} new hits on past senders, {rep.delisted_hits} hits delisted"
        if r.skipped:
            line += f"; {len(r.skipped)} values skipped (see the log)"
        click.echo(line)
    if any(r.refused for r in results):
        sys.exit(2)
    if any(r.failed for r in results):
        sys.exit(1)


def stale_line(published: date | None, now: datetime, max_days: float) -> str:
    """What a stale list means and what to do, in one line."""
    age = f"was published {(now.date() - published).days} days ago" if published else "has no publication date"
    return (f"  STALE: the list in force {age}, and no update confirmed it current within {max_days:g} days "
            "(screening.max_list_age_days); screening goes on with it: run `donation-watch sanctions update` "
            "(offline: `sanctions update --file SDN_ADVANCED.XML`)")


def _status_line(st: SourceStatus, max_days: float) -> list[str]:
    from ledger.types import utcnow

    now = utcnow()
    lines = [st.source]
    if st.stale and st.in_force is not None:
        lines.append(stale_line(st.in_force.published, now, max_days))
    if st.in_force is None:
        lines.append("  in force: nothing (no good version loaded yet)")
    else:
        v = st.in_force
        age = st.age_days(now)
        lines.append(f"  in force: {v.origin}, published {_when(v)}" + (f" ({age} days ago)" if age is not None else ""))
        lines.append(f"  addresses: {v.count}, sha256 {v.sha256}, loaded {v.loaded_at:%Y-%m-%d %H:%M} UTC" if v.loaded_at else f"  addresses: {v.count}")
    lines.append(f"  hits: {st.active_hits} active, {st.delisted_hits} delisted")
    if st.checked_at:
        lines.append(f"  last successful check: {st.checked_at:%Y-%m-%d %H:%M} UTC")
    if st.last_error:
        lines.append(f"  last update FAILED at {st.failed_at:%Y-%m-%d %H:%M} UTC: {st.last_error}")
    return lines


@sanctions.command("status")
@pass_app
def status(app: AppContext) -> None:
    """Show each list source: the version in force, its date, size and age, and the last failure."""
    from bot.app import App
    from screening.status import list_status

    from bot.screening_wiring import lists_config

    max_age = lists_config(app.settings).max_age

    async def _go() -> list[SourceStatus]:
        async with await App.open(app.settings) as running:
            await running.screener.ensure_lists()
            async with running.db.session() as s:
                return await list_status(s, max_age=max_age)

    for st in run_async(_go):
        for line in _status_line(st, app.settings.screening.max_list_age_days):
            click.echo(line)


def _match_line(m: Match) -> str:
    e = m.entry
    parts = [f"LISTED on {m.list.source} of {_when(m.list)} (sha256 {m.list.sha256[:12]}, {m.list.origin})"]
    parts.append(f"as {e.address}" + (f" ({e.asset})" if e.asset else ""))
    if e.party:
        parts.append(f"party: {e.party}" + (f" [{e.party_ref}]" if e.party_ref else ""))
    if e.programmes:
        parts.append("programme: " + ", ".join(e.programmes))
    if e.listed_on:
        parts.append(f"listed on {e.listed_on.isoformat()}")
    return "; ".join(parts)


@sanctions.command("check")
@click.argument("address")
@pass_app
def check(app: AppContext, address: str) -> None:
    """Say whether ADDRESS is on a list in force (exit 0 either way; 2 if it is no address)."""
    from screening.errors import InvalidScreeningAddress
    from screening.normalize import validate_query
    from screening.quick import check_stored

    try:
        validate_query(address)
    except InvalidScreeningAddress as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)

    async def _go() -> tuple[tuple[Match, ...], list[ListVersionInfo]]:
        quick = await check_stored(app.settings.database.effective_url(), address)
        if quick is not None:
            return quick
        from bot.app import App  # first start: open (and migrate) the ledger, put the bundled list in force

        async with await App.open(app.settings) as running:
            screener = running.screener
            await screener.ensure_lists()
            matches = await screener.check(address)
            return matches, list(screener.index.lists.values())

    matches, lists = run_async(_go)
    if matches:
        for m in matches:
            click.echo(f"{address.strip()}: {_match_line(m)}")
        return
    names = ", ".join(f"{v.source} of {_when(v)} (sha256 {v.sha256[:12]}, {v.origin})" for v in lists)
    click.echo(f"{address.strip()}: not listed in {names or 'any list (none in force)'}")


def register(group: click.Group) -> None:
    group.add_command(sanctions)
