"""How fast the command line answers: `--help`, `check-config` and `sanctions check`, each as a
fresh process (what an operator waits for), beside `python -c pass` measured in the same run.

Targets (issue 12): --help <= 0.3 s, check-config <= 0.5 s, sanctions check <= 0.5 s.
Each figure is the median of N runs (default 9; `python -m benchmarks cli -- 15`) on a SQLite
ledger already set up (the state of a running bot), with an Ethereum and a Bitcoin wallet.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LISTED = "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"  # Lazarus Group (Ronin bridge), on the bundled SDN list
TARGETS = {"--help": 0.3, "check-config": 0.5, "sanctions check (listed)": 0.5, "sanctions check (not listed)": 0.5}


def _config(tmp: Path) -> Path:
    path = tmp / "bench.toml"
    path.write_text(f"""
data_dir = "{tmp / 'data'}"
[database]
url = "sqlite+aiosqlite:///{tmp / 'data' / 'ledger.db'}"
[chains.bitcoin]
kind = "bitcoin"
esplora_urls = ["http://127.0.0.1:9/api"]
[chains.ethereum]
kind = "evm"
chain_id = 1
rpc_urls = ["http://127.0.0.1:9"]
[[wallets]]
chain = "ethereum"
address = "0x165CD37b4C644C2921454429E7F9358d18A45e14"
[[wallets]]
chain = "bitcoin"
address = "357a3So9CbsNfBBgFYACGvxxS6tMaDoa1P"
""")
    return path


def _time(argv: list[str], runs: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.decode()[-500:]}")
    return statistics.median(times)


def main(argv: list[str]) -> int:
    runs = int(argv[0]) if argv else 9
    exe = shutil.which("donation-watch", path=str(Path(sys.executable).parent)) or "donation-watch"
    tmp = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}
    try:
        config = _config(tmp)
        # The state of a running bot: ledger migrated, wallets stored, the bundled list in force.
        subprocess.run([exe, "--config", str(config), "sanctions", "status"], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = [exe, "--config", str(config)]
        rows = [("python -c pass (baseline)", _time([sys.executable, "-c", "pass"], runs, env), None)]
        for name, args in (("--help", ["--help"]), ("check-config", ["check-config"]),
                           ("sanctions check (listed)", ["sanctions", "check", LISTED]),
                           ("sanctions check (not listed)", ["sanctions", "check", "0x165CD37b4C644C2921454429E7F9358d18A45e14"])):
            rows.append((name, _time(base + args, runs, env), TARGETS[name]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    baseline = rows[0][1]
    print(f"{'command':<32} {'median s':>9} {'minus baseline':>15} {'target':>7}")
    status = 0
    for name, seconds, target in rows:
        over = "" if target is None or seconds <= target else "  OVER"
        status = status or (1 if over else 0)
        print(f"{name:<32} {seconds:9.3f} {seconds - baseline:15.3f} {'' if target is None else f'{target:.1f}':>7}{over}")
    print(f"({runs} runs each, median; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f})")
    return 0  # figures, not a gate: a loaded machine must not fail the run


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
