"""A backfill's block ranges fetched and mapped in a child process, so decoding takes a core of its own.

Against a node that answers fast, a backfill is bound by the client's CPU: decoding the JSON of
every block with all its transactions costs more than everything done with the few transfers
found in them. A ``ScanProcess`` moves that work to a spawned child with its own event loop, RPC
client and ``EvmSource``; the child sends back, in order, only what the backfill writes (each
range's headers and its transfers into watched addresses), while this process stores them.

The child is also the backfill's chain source for its one other question, the node's head
(asked of the node as soon as the child starts), so this process needs no HTTP client at all.
The child does one job (the ranges and watched addresses of one backfill) and ends. Its
failures come back as the same errors the in-process scan raises (or as a ``WatcherError``
with the same message when an error cannot cross a process boundary); a child that dies
ends the backfill with one clear line, and what was stored stays stored (resume by running
the backfill again). It ignores Ctrl-C: the parent stops it.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import pickle
import signal
from collections.abc import AsyncIterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from watchers.errors import WatcherError

if TYPE_CHECKING:
    from watchers.evm_config import EvmChainConfig
    from watchers.scanned import BlockHeader, Head, Scanned

log = logging.getLogger(__name__)

Range = tuple[int, int]


class ScanProcess:
    """One child process that scans the ranges of one backfill; start it early, it imports while we do.

    It is a ``ChainSource`` for ``BlockScanner.backfill`` (the head, and ``scans`` for the ranges).
    """

    def __init__(self, config: EvmChainConfig, *, ahead: int = 4, expect: tuple[int, int | None] | None = None) -> None:
        """``expect``: the (first, last) blocks the backfill will most likely ask for (last None: the tip);
        the child fetches the blocks of its first ranges while it waits for the job."""
        self.chain = config.name
        # "spawn": a fresh interpreter, safe whatever threads this process runs (and the default on macOS).
        context = multiprocessing.get_context("spawn")
        self._conn, theirs = context.Pipe()
        self._process = context.Process(
            target=_child, args=(config, theirs, ahead, expect, _log_setup()), name=f"scan-{config.name}", daemon=True
        )
        self._process.start()
        theirs.close()
        log.debug("scan process started chain=%s pid=%s", self.chain, self._process.pid)
        # Blocking pipe reads and writes run here, off the event loop, one at a time and in order.
        self._io = ThreadPoolExecutor(1, thread_name_prefix=f"scan-{config.name}")
        self._asked = False
        # HTTP requests the child made, once it is done.
        self._requests = 0

    @property
    def pid(self) -> int | None:
        return self._process.pid

    @property
    def requests(self) -> int:
        return self._requests

    def watch_key(self, address: str) -> str:
        return address.lower()

    async def head(self, cursor_height: int | None, watched: Mapping[str, int] | None = None) -> Head:
        """The node's head as a backfill reads it (the child asked for it when it started)."""
        if cursor_height is not None:
            raise ValueError("a scan process reads the head for a backfill only (no cursor)")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._io, self._send, ("head",))
        kind, value = await loop.run_in_executor(self._io, self._receive)
        if kind == "error":
            raise value
        return value  # type: ignore[no-any-return]

    async def headers(self, heights: Sequence[int]) -> list[BlockHeader]:
        raise NotImplementedError("a backfill does not ask a scan process for headers")

    async def scan(self, start: int, end: int, watched: Mapping[str, int]) -> Scanned:
        raise NotImplementedError("a scan process scans ranges through scans()")

    async def scans(self, ranges: Sequence[Range], watched: Mapping[str, int]) -> AsyncIterator[tuple[Range, Scanned]]:
        """The scans of ``ranges`` in order, as ``BlockScanner.backfill`` takes them (its ``scans``); once per process."""
        if self._asked:
            raise RuntimeError("a ScanProcess does one job; start another for the next backfill")
        self._asked = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._io, self._send, ("scan", list(ranges), dict(watched)))
        while True:
            kind, *rest = await loop.run_in_executor(self._io, self._receive)
            if kind == "scanned":
                rng, scanned = rest
                yield rng, scanned
            elif kind == "error":
                raise rest[0]
            else:  # "done"
                self._requests = rest[0]
                return

    def _send(self, job: object) -> None:
        try:
            self._conn.send(job)
        except OSError:
            raise self._gone() from None

    def _receive(self) -> tuple[Any, ...]:
        try:
            return self._conn.recv()  # type: ignore[no-any-return]
        except (EOFError, OSError):
            raise self._gone() from None

    def _gone(self) -> WatcherError:
        self._process.join(timeout=5)
        code = self._process.exitcode
        return WatcherError(f"{self.chain}: the scan process stopped unexpectedly (exit code {code}); run the backfill again to resume")

    async def close(self) -> None:
        """Stop the child (if it still runs) and wait for it; a pending read then ends too."""
        if self._process.is_alive():
            self._process.terminate()
        # Not on self._io: a read may still be waiting there, until the child's end of the pipe closes.
        await asyncio.get_running_loop().run_in_executor(None, self._process.join, 5)
        if self._process.is_alive():
            self._process.kill()
        self._conn.close()
        self._io.shutdown(wait=False)


def _log_setup() -> tuple[int, logging.Formatter | None]:
    """This process's log level and its first handler's formatter, for the child to log alike (if it pickles)."""
    root = logging.getLogger()
    formatter = next((h.formatter for h in root.handlers if h.formatter is not None), None)
    try:
        pickle.dumps(formatter)
    except Exception:  # noqa: BLE001 - a formatter that cannot cross: the child uses a plain one
        formatter = None
    return root.level, formatter


def _child(
    config: EvmChainConfig, conn: Connection, ahead: int, expect: tuple[int, int | None] | None,
    log_setup: tuple[int, logging.Formatter | None],
) -> None:
    """The child's entry point: scan one job's ranges and send each back."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    level, formatter = log_setup
    handler = logging.StreamHandler()
    handler.setFormatter(formatter or logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(level or logging.WARNING)
    try:
        asyncio.run(_serve(config, conn, ahead, expect))
    except (BrokenPipeError, EOFError):
        pass  # the parent went away: nothing to tell
    except Exception as exc:  # noqa: BLE001 - whatever went wrong is the parent's to say, in one line
        try:
            conn.send(("error", _portable(exc)))
        except OSError:
            pass
    finally:
        conn.close()


async def _serve(config: EvmChainConfig, conn: Connection, ahead: int, expect: tuple[int, int | None] | None) -> None:
    from watchers.evm_source import EvmSource, rpc_client
    from watchers.scans_ahead import scans_ahead

    loop = asyncio.get_running_loop()
    rpc = rpc_client(config)
    source = EvmSource(config, rpc)
    # The head a backfill asks for first, asked of the node now, while the parent still starts up,
    # and the blocks of the first ranges it will most likely ask for.
    head = asyncio.ensure_future(source.head(None))
    early = [source.early_blocks(*rng) for rng in await _expected_ranges(head, expect, config.blocks_per_range, ahead)]
    with ThreadPoolExecutor(1, thread_name_prefix="scan-pipe") as pipe:

        async def send(message: tuple[Any, ...]) -> None:
            await loop.run_in_executor(pipe, conn.send, message)

        try:
            while True:
                kind, *job = await loop.run_in_executor(pipe, conn.recv)
                if kind == "head":
                    try:
                        await send(("head", await head))
                    except Exception as exc:  # noqa: BLE001 - every failure goes to the parent, which raises it
                        await send(("error", _portable(exc)))
                    continue
                ranges, watched = job
                try:
                    async for rng, scanned in scans_ahead(lambda s, e: source.scan(s, e, watched), ranges, ahead=ahead):
                        # Waiting for the pipe holds back the next scans: the parent sets the pace.
                        await send(("scanned", rng, scanned))
                except Exception as exc:  # noqa: BLE001 - as above
                    await send(("error", _portable(exc)))
                    return
                await send(("done", rpc.stats.http_requests))
                return
        finally:
            for future in (head, *early):
                future.cancel()
            await asyncio.gather(head, *early, return_exceptions=True)
            await rpc.close()


async def _expected_ranges(
    head: asyncio.Future[Head], expect: tuple[int, int | None] | None, batch: int, count: int
) -> list[Range]:
    """The first ``count`` ranges of a backfill of ``expect`` (to the tip when its end is None)."""
    if expect is None:
        return []
    first, last = expect
    if last is None:
        try:
            last = (await asyncio.shield(head)).tip
        except Exception:  # noqa: BLE001 - the parent asks for the head and hears of the failure then
            return []
    return [(lo, min(last, lo + batch - 1)) for lo in islice(range(first, last + 1, batch), count)]


def _portable(exc: Exception) -> Exception:
    """``exc`` if it survives pickling whole, else a WatcherError with its message."""
    try:
        copy = pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - an exception class whose __init__ takes other arguments than its message
        copy = None
    if type(copy) is type(exc) and str(copy) == str(exc):
        return exc
    return WatcherError(str(exc))
