"""The `donation-watch` command line: one group, one module per feature's commands."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click

from bot import logs
from bot.errors import BotError
from bot.settings import DEFAULT_CONFIG, Settings, load_settings
from ledger.errors import LedgerError
from screening.errors import ScreeningError
from watchers.errors import WatcherError

T = TypeVar("T")
# Errors that are the operator's to fix: shown as one line, exit status 2, no traceback.
OPERATOR_ERRORS: tuple[type[BaseException], ...] = (BotError, LedgerError, WatcherError, ScreeningError)


@dataclass
class AppContext:
    """What every command gets: the config path and, loaded on first use, the settings."""

    config_path: str
    verbose: bool = False
    _settings: Settings | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_path)
            logs.add_settings_secrets(self._settings)
            if not self.verbose:  # the file's log_level holds for every command (-v still wins)
                logging.getLogger().setLevel(self._settings.log_level)
        return self._settings


pass_app = click.make_pass_decorator(AppContext)


def run_async(fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
    """Run a coroutine function to completion from a click command."""
    return asyncio.run(fn(*args, **kwargs))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    default=DEFAULT_CONFIG,
    envvar="DONATION_WATCH_CONFIG",
    show_default=True,
    help="The TOML settings file (env: DONATION_WATCH_CONFIG).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log at debug level.")
@click.option("--log-format", type=click.Choice(logs.FORMATS), default="human", envvar="DONATION_WATCH_LOG_FORMAT",
              show_default=True, help="Log lines for people, or one JSON object per line (env: DONATION_WATCH_LOG_FORMAT).")
@click.pass_context
def cli(ctx: click.Context, config_path: str, verbose: bool, log_format: str) -> None:
    """Watch donation wallets, screen senders, and report to chat."""
    logs.configure(logging.DEBUG if verbose else logging.INFO, log_format)
    ctx.obj = AppContext(config_path, verbose=verbose)


def _register() -> None:
    from bot.cli import (backfill_cmds, config_cmds, db_cmds, export_cmds, import_cmds, run_cmds, sanctions_cmds, totals_cmds,
                         valuation_cmds, wallet_cmds)

    for module in (config_cmds, db_cmds, wallet_cmds, totals_cmds, export_cmds, run_cmds, sanctions_cmds, backfill_cmds, valuation_cmds,
                   import_cmds):
        module.register(cli)


_register()


def main(argv: list[str] | None = None) -> None:
    """Entry point: operator errors become one line on stderr and exit status 2."""
    try:
        rv = cli.main(args=argv, prog_name="donation-watch", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.BadParameter as exc:
        # A bad value is the operator's to fix: one line (the usage text would only bury it).
        click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except OPERATOR_ERRORS as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    sys.exit(rv if isinstance(rv, int) else 0)
