"""The `donation-watch` command line: one group, one module per feature's commands.

Commands load lazily, so `--help` and quick commands start at once: `COMMANDS` maps each top-level
command to the module whose `register(group)` adds it, with the one line `--help` shows for it.
A command module imports heavy libraries inside its command functions, not at the top.
"""

from __future__ import annotations

import gc
import importlib
import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import click

from bot import logs
from bot.defaults import DEFAULT_CONFIG

if TYPE_CHECKING:
    from bot.settings import Settings

T = TypeVar("T")

# The registration of commands: name -> (module with `register(group)`, the line `--help` shows).
COMMANDS: dict[str, tuple[str, str]] = {
    "check-config": ("bot.cli.config_cmds", "Check FILE (default: --config) and print what it would watch."),
    "db": ("bot.cli.db_cmds", "Database schema commands."),
    "wallets": ("bot.cli.wallet_cmds", "Watched wallets (those in the config file are added on every start)."),
    "totals": ("bot.cli.totals_cmds", "Print confirmed and pending totals per wallet and asset, and their value in the fund's currency."),
    "export": ("bot.cli.export_cmds", "Export donations (date, chain, txid, amount, fiat at arrival, senders, status, screening) in constant memory."),
    "import": ("bot.cli.import_cmds", "Import the history of ADDRESS on CHAIN (watching it from now on), recorded as history: not announced, screened."),
    "poll": ("bot.cli.run_cmds", "Poll every configured chain once and print what was stored."),
    "run": ("bot.cli.run_cmds", "Run the bot: watch every chain on its schedule and report (console without a Discord token)."),
    "sanctions": ("bot.cli.sanctions_cmds", "Sanctions lists: update them, see which are in force, check an address."),
    "backfill": ("bot.cli.backfill_cmds", "Store every donation in blocks FROM..TO of CHAIN as history, and screen their senders."),
    "revalue": ("bot.cli.valuation_cmds", "Value every donation that has no fiat value yet (exit 1 if some still could not be priced)."),
}


def operator_errors() -> tuple[type[BaseException], ...]:
    """Errors that are the operator's to fix: shown as one line, exit status 2, no traceback."""
    from bot.errors import BotError
    from ledger.errors import LedgerError
    from screening.errors import ScreeningError
    from watchers.errors import WatcherError

    return (BotError, LedgerError, WatcherError, ScreeningError)


class LazyGroup(click.Group):
    """A group whose commands are imported only when one of them runs (see `COMMANDS`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            importlib.import_module(COMMANDS[cmd_name][0]).register(self)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        limit = formatter.width - 6 - max(len(name) for name in self.list_commands(ctx))
        rows = []
        for name in self.list_commands(ctx):
            if name in COMMANDS:
                text = COMMANDS[name][1]
                rows.append((name, text if len(text) <= limit else text[: limit - 3].rstrip() + "..."))
            else:
                rows.append((name, self.commands[name].get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@dataclass
class AppContext:
    """What every command gets: the config path and, loaded on first use, the settings."""

    config_path: str
    verbose: bool = False
    _settings: Settings | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from bot.settings import load_settings

            self._settings = load_settings(self.config_path)
            logs.add_settings_secrets(self._settings)
            if not self.verbose:  # the file's log_level holds for every command (-v still wins)
                logging.getLogger().setLevel(self._settings.log_level)
        return self._settings


pass_app = click.make_pass_decorator(AppContext)


def run_async(fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
    """Run a coroutine function to completion from a click command."""
    import asyncio

    return asyncio.run(fn(*args, **kwargs))


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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


def main(argv: list[str] | None = None) -> None:
    """Entry point: operator errors become one line on stderr and exit status 2."""
    try:
        _main(argv)
    finally:
        if argv is None:  # the process's own command line: the process ends now
            # Leave out of the interpreter's last collections every object alive now (most of them
            # made by imports: SQLAlchemy, pydantic): they cost a command about 0.25 s on its way out.
            gc.freeze()


def _main(argv: list[str] | None) -> None:
    try:
        rv = cli.main(args=argv, prog_name="donation-watch", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.BadParameter as exc:
        # A bad value is the operator's to fix: one line (the usage text would only bury it).
        click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        # A wrong command or option: one line too, with where the right spelling is found.
        where = f"{exc.ctx.command_path} --help" if exc.ctx is not None else "donation-watch --help"
        click.echo(f"error: {exc.format_message()} (see {where})", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except Exception as exc:
        if not isinstance(exc, operator_errors()):
            raise
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    sys.exit(rv if isinstance(rv, int) else 0)
