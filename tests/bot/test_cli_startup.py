"""The command line starts light: heavy libraries load only in the commands that need them, and
the quick paths (check-config, sanctions check) read the ledger with the plain driver."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

from bot.cli import COMMANDS, cli
from ledger.database import Database
from ledger.probe import active_wallets
from ledger.wallets import upsert_wallet
from screening.quick import check_stored
from screening.screener import Screener

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("sqlalchemy", "pydantic", "web3", "aiohttp", "alembic", "bip_utils", "eth_utils", "discord", "apscheduler")
LISTED = "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"  # Lazarus Group (Ronin bridge), on the bundled SDN list


def loaded_after(code: str) -> set[str]:
    """Top-level packages imported by a fresh interpreter running `code`."""
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return {name.split(".")[0] for name in out.split()}


class TestLazyCommands:
    def test_help_imports_no_heavy_library(self) -> None:
        """Building `--help` imports none of the heavy libraries."""
        loaded = loaded_after("from bot.cli import cli\ncli.main(['--help'], standalone_mode=False)")
        assert not loaded & set(HEAVY), loaded & set(HEAVY)

    def test_listed_help_matches_each_commands_own(self) -> None:
        """The line `--help` shows for each command is that command's own first line."""
        ctx = click.Context(cli)
        for name, (_, line) in COMMANDS.items():
            command = cli.get_command(ctx, name)
            assert command is not None, name
            assert (command.help or "").splitlines()[0].strip() == line, name

    def test_check_config_needs_no_sqlalchemy(self, tmp_path: Path) -> None:
        """check-config validates and reaches the database without importing SQLAlchemy or bip_utils."""
        path = tmp_path / "c.toml"
        path.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "x.db"}"\n'
                        '[chains.b]\nkind = "bitcoin"\nesplora_urls = ["http://127.0.0.1:9"]\n'
                        '[[wallets]]\nchain = "b"\naddress = "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297"\n')
        loaded = loaded_after(f"from bot.cli import cli\ncli.main(['--config', '{path}', 'check-config'], standalone_mode=False)")
        assert not loaded & {"sqlalchemy", "bip_utils", "eth_utils", "alembic"}


class TestExit:
    def test_a_command_line_run_leaves_its_objects_out_of_the_last_collections(self) -> None:
        """`donation-watch ...` freezes what is alive before the interpreter ends (its last collections would
        otherwise walk every object the imports made: ~0.25 s); main() called with arguments, as tests do, does not."""
        for call, frozen in (("main()", True), ("main(['--help'])", False)):
            code = (
                "import atexit, gc, sys\n"
                "atexit.register(lambda: print('frozen:', gc.get_freeze_count() > 0))\n"
                "sys.argv = ['donation-watch', '--help']\n"
                f"from bot.cli import main\n{call}\n"
            )
            out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True).stdout
            assert f"frozen: {frozen}" in out, out


class TestProbe:
    async def test_active_wallets_read_with_the_plain_driver(self, db: Database) -> None:
        """The probe reads the active wallets by chain on SQLite and PostgreSQL."""
        async with db.session() as s:
            await upsert_wallet(s, "ethereum", "0x165CD37b4C644C2921454429E7F9358d18A45e14")
        url = db.url.render_as_string(hide_password=False)
        assert await active_wallets(url) == {"ethereum": {"0x165CD37b4C644C2921454429E7F9358d18A45e14"}}

    async def test_quick_check_agrees_with_the_screener(self, db: Database) -> None:
        """check_stored finds the same entries as the loaded index, and says so for an unlisted address."""
        url = db.url.render_as_string(hide_password=False)
        assert await check_stored(url, LISTED) is None  # no list in force yet: the caller takes the full path
        screener = Screener(db)
        await screener.ensure_lists()
        matches, lists = await check_stored(url, LISTED)  # type: ignore[misc]
        assert [m.entry for m in matches] == [m.entry for m in await screener.check(LISTED)] and matches
        assert [(m.list.source, m.list.sha256) for m in matches] == [(v.source, v.sha256) for v in screener.index.lists.values()]
        none, _ = await check_stored(url, "0x165CD37b4C644C2921454429E7F9358d18A45e14")  # type: ignore[misc]
        assert none == ()
