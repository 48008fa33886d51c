"""`donation-watch backfill CHAIN --from-block N [--to-block M]`: scan history of an EVM chain, resumably."""

from __future__ import annotations

import click
from tqdm import tqdm

from bot.app import App
from bot.cli import AppContext, pass_app, run_async
from bot.settings import EvmChain
from watchers.block_scan import BackfillProgress
from watchers.errors import clip


@click.command("backfill")
@click.argument("chain")
@click.option("--from-block", "from_block", type=click.IntRange(min=0), required=True, help="First block to scan.")
@click.option("--to-block", "to_block", type=click.IntRange(min=0), default=None, help="Last block (default: the tip).")
@pass_app
def backfill(app: AppContext, chain: str, from_block: int, to_block: int | None) -> None:
    """Store every donation in blocks FROM..TO of CHAIN; run it again with the same --from-block to resume."""
    spec = app.settings.chains.get(chain)
    if spec is None:
        known = ", ".join(sorted(app.settings.chains)) or "none"
        raise click.BadParameter(f'"{clip(chain)}" is not a configured chain (chains: {known})', param_hint="CHAIN")
    if not isinstance(spec, EvmChain):
        raise click.BadParameter(f"{chain!r} is a {spec.kind} chain; backfill scans EVM chains only", param_hint="CHAIN")
    if to_block is not None and to_block < from_block:
        raise click.BadParameter(f"{to_block} is below --from-block {from_block}", param_hint="--to-block")

    found = 0

    async def _go() -> tuple[int, int]:
        nonlocal found
        running = await App.open(app.settings)
        watcher = running.watchers[chain]
        bars: list[tqdm] = []  # made on the first progress, once the range is known

        def _progress(p: BackfillProgress) -> None:
            nonlocal found
            if not bars:
                bars.append(tqdm(desc=f"backfill {chain}", unit="block", dynamic_ncols=True, mininterval=0.5))
            bar = bars[0]
            found += p.found
            bar.total = p.end - p.start + 1
            bar.set_postfix(transfers=found, block=p.done, refresh=False)
            bar.update(p.done - p.start + 1 - bar.n)

        try:
            return await watcher.backfill(from_block, to_block, progress=_progress)
        finally:
            for bar in bars:
                bar.close()
            await running.close()

    start, end = run_async(_go)
    click.echo(f"backfill {chain}: blocks {start}..{end} stored, {found} transfers found")


def register(group: click.Group) -> None:
    group.add_command(backfill)
