"""Run every benchmark (`python -m benchmarks`), or the ones named (`python -m benchmarks ledger`).

Each `benchmarks/bench_<name>.py` has a `main(argv: list[str]) -> int`; extra arguments after
`--` go to it (e.g. a path to a large input file).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import benchmarks


def _names() -> list[str]:
    return sorted(m.name.removeprefix("bench_") for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_"))


def main(argv: list[str]) -> int:
    if "--" in argv:
        split = argv.index("--")
        wanted, extra = argv[:split], argv[split + 1 :]
    else:
        wanted, extra = argv, []
    names = wanted or _names()
    unknown = sorted(set(names) - set(_names()))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(_names())}", file=sys.stderr)
        return 2
    status = 0
    for name in names:
        print(f"\n=== {name} ===", flush=True)
        start = time.perf_counter()
        rc = importlib.import_module(f"benchmarks.bench_{name}").main(extra)
        print(f"=== {name}: exit {rc}, {time.perf_counter() - start:.1f}s ===", flush=True)
        status = status or rc
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
