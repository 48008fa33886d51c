"""`donation-watch db ...`: schema migrations."""

from __future__ import annotations

import click

from bot.cli import AppContext, pass_app, run_async
from ledger.database import Database, redact
from ledger.migrate import current_revision


@click.group("db")
def db_group() -> None:
    """Database schema commands."""


@db_group.command("upgrade")
@pass_app
def upgrade(app: AppContext) -> None:
    """Bring the database schema to the newest migration (the bot also does this on start)."""

    async def _go() -> str | None:
        db = await Database.open(app.settings.database.effective_url(), upgrade=True)
        try:
            return await current_revision(db.engine)
        finally:
            await db.close()

    revision = run_async(_go)
    click.echo(f"database {redact(app.settings.database.url)} is at revision {revision}")



def register(group: click.Group) -> None:
    group.add_command(db_group)
