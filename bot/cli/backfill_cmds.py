"""`donation-watch backfill CHAIN --from-block N [--to-block M]`: scan history of an EVM chain, resumably.

A backfill is measured against the bare fetch of the same blocks (benchmarks/bench_ethereum.py),
so the command pays only for what it uses: a scan process that fetches and decodes the blocks on
a core of its own over the aiohttp transport (no web3 import; see watchers.scan_process), while
this process writes, and the sanctions list set up while the first ranges are fetched.
"""

from __future__ import annotations

import asyncio
import gc
from typing import TYPE_CHECKING

import click

from bot.cli import AppContext, pass_app, run_async

if TYPE_CHECKING:
    from screening.ingest import IngestReport
    from screening.screener import Screener
    from watchers.block_scan import BackfillProgress


@click.command("backfill")
@click.argument("chain")
@click.option("--from-block", "from_block", type=click.IntRange(min=0), required=True, help="First block to scan.")
@click.option("--to-block", "to_block", type=click.IntRange(min=0), default=None, help="Last block (default: the tip).")
@pass_app
def backfill(app: AppContext, chain: str, from_block: int, to_block: int | None) -> None:
    """Store every donation in blocks FROM..TO of CHAIN as history, and screen their senders.

    Run it again with the same --from-block to resume. History is counted and screened (a
    sanctions hit is announced) but not announced donation by donation.
    """
    from bot.settings import EvmChain
    from watchers.errors import clip

    spec = app.settings.chains.get(chain)
    if spec is None:
        known = ", ".join(sorted(app.settings.chains)) or "none"
        raise click.BadParameter(f'"{clip(chain)}" is not a configured chain (chains: {known})', param_hint="CHAIN")
    if not isinstance(spec, EvmChain):
        raise click.BadParameter(f"{chain!r} is a {spec.kind} chain; backfill scans EVM chains only", param_hint="CHAIN")
    if to_block is not None and to_block < from_block:
        raise click.BadParameter(f"{to_block} is below --from-block {from_block}", param_hint="--to-block")

    found = 0
    screened: list[IngestReport] = []
    from dataclasses import replace

    from bot.chains import ethereum
    from watchers.scan_process import ScanProcess

    # Blocks are fetched and decoded in a child process, started first: it imports and asks for the
    # node's head while this process opens the ledger, and decodes on another core while this one
    # writes. It is the backfill's whole chain source, so this process makes no HTTP request itself.
    config = replace(ethereum.config_from_settings(chain, spec), transport="aiohttp")
    scans = ScanProcess(config, expect=(from_block, to_block))

    async def _go() -> tuple[int, int]:
        nonlocal found
        from bot.app import App
        from bot.cli.progress import ProgressBar
        from watchers.block_scan import BlockScanner

        try:
            running = await App.open(app.settings)
        except BaseException:
            await scans.close()
            raise
        scanner = BlockScanner(running.db, scans, batch_blocks=config.blocks_per_range)
        # What the imports made lives to the end: the backfill's own garbage collections skip it.
        gc.freeze()
        screening = _Screening(running.screener, screened)
        bar = ProgressBar(f"backfill {chain}", "block")

        def _progress(p: BackfillProgress) -> None:
            nonlocal found
            found += p.found
            bar.show(p.done - p.start + 1, p.end - p.start + 1, transfers=found, block=p.done)
            if p.found:
                screening.soon()

        try:
            try:
                span = await scanner.backfill(from_block, to_block, progress=_progress, scans=scans.scans)
            finally:
                bar.close()
            # History is screened now, in this run, not at the next poll of `run`.
            await screening.finish()
            return span
        finally:
            await screening.cancel()
            await scans.close()
            await running.close()

    start, end = run_async(_go)
    click.echo(f"backfill {chain}: blocks {start}..{end} stored, {found} transfers found")
    transfers, hits = sum(r.transfers for r in screened), sum(len(r.hits or []) for r in screened)
    click.echo(f"screened the senders of {transfers} stored transfer(s): {hits} sanctions hit(s)")


class _Screening:
    """The backfill's screening, done while the node answers: the list set up at the start, a pass
    after each stored batch (one at a time), and a last pass at the end for what is left.

    Each pass is the screener's event consumer, so a transfer is screened once however the passes
    fall (a crash or Ctrl-C leaves the rest to the next pass, here or in `run`).
    """

    def __init__(self, screener: Screener, reports: list[IngestReport]) -> None:
        self.screener = screener
        self.reports = reports
        self.lists = asyncio.ensure_future(screener.ensure_lists())
        self.task: asyncio.Future[None] | None = None

    async def _pass(self) -> None:
        await self.lists
        self.reports.append(await self.screener.screen_new())

    def soon(self) -> None:
        """Start a pass over the transfers stored so far, unless one is running."""
        if self.task is None or self.task.done():
            if self.task is not None and self.task.exception() is not None:
                return  # the failure is raised by finish()
            self.task = asyncio.ensure_future(self._pass())

    async def finish(self) -> None:
        """Wait for the running pass, then screen the rest."""
        await self.lists
        if self.task is not None:
            await self.task
        await self._pass()

    async def cancel(self) -> None:
        """Stop what still runs (after a failure or an interrupt)."""
        pending = [f for f in (self.lists, self.task) if f is not None and not f.done()]
        for future in pending:
            future.cancel()
        await asyncio.gather(*(f for f in (self.lists, self.task) if f is not None), return_exceptions=True)


def register(group: click.Group) -> None:
    group.add_command(backfill)
