"""Parse the full OFAC SDN_ADVANCED.XML with our streaming reader and with ElementTree, and time lookups.

Usage: python -m benchmarks screening [-- PATH]   (PATH: the .xml or .xml.bz2 of 2025-11-19 by default)

Each parser runs in its own subprocess so its peak RSS is its own. Targets: at least 4x faster
and at most 1/10 of the baseline's peak memory; at least 1,000,000 lookups per second. The
addresses found must be the same. Expected on 2025-11-19: XBT 517, ETH 77.
"""

from __future__ import annotations

import bz2
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO.parent / "shared" / "data" / "sanctions" / "ofac_sdn_2025-11-19" / "sdn_advanced.xml.bz2"
WHERE = (
    "get it from https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/SDN_ADVANCED.XML "
    "(or the bzip2 copy in brave-intl/ofac-sanctioned-digital-currency-addresses, branch lists, commit 3ed66906)"
)
LOOKUPS = 2_000_000


def _ours(path: str) -> dict[str, list[str]]:
    from screening.ofac_xml import parse_file

    found: dict[str, set[str]] = {}
    for e in parse_file(path).entries:
        found.setdefault(e.asset, set()).add(e.address)
    return {k: sorted(v) for k, v in found.items()}


def _baseline(path: str) -> dict[str, list[str]]:
    """The usual approach (as the 0xB10C script): load the whole tree, then pick the features."""
    import xml.etree.ElementTree as ET

    ns = {"sdn": "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/ADVANCED_XML"}
    root = ET.parse(path).getroot()
    assets = {}
    for ft in root.findall("sdn:ReferenceValueSets/sdn:FeatureTypeValues/sdn:FeatureType", ns):
        if (ft.text or "").startswith("Digital Currency Address - "):
            assets[ft.get("ID")] = ft.text[len("Digital Currency Address - ") :]
    found: dict[str, set[str]] = {}
    for feat in root.iterfind("sdn:DistinctParties//sdn:Feature", ns):
        asset = assets.get(feat.get("FeatureTypeID"))
        if asset is None:
            continue
        for detail in feat.iterfind("sdn:FeatureVersion/sdn:VersionDetail", ns):
            if detail.text and detail.text.strip():
                found.setdefault(asset, set()).add(detail.text.strip())
    return {k: sorted(v) for k, v in found.items()}


def _peak_rss_mb() -> float:
    """This process's own peak RSS.

    VmHWM belongs to the address space exec gave this process; getrusage's ru_maxrss survives
    fork and exec, so a child of a large parent (make bench runs the ledger benchmark first)
    would report the parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(which: str, path: str) -> int:
    start = time.perf_counter()
    found = (_ours if which == "ours" else _baseline)(path)
    seconds = time.perf_counter() - start
    peak_mb = _peak_rss_mb()
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "found": found}))
    return 0


def _measure(which: str, path: Path) -> dict:  # type: ignore[type-arg]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_screening", "--child", which, str(path)],
        cwd=REPO, env=env, capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout)


def _lookups(path: Path) -> float:
    from screening.index import ListVersionInfo, ScreeningIndex
    from screening.ofac_xml import parse_file

    parsed = parse_file(path)
    index = ScreeningIndex([(ListVersionInfo(parsed.source, 1, parsed.origin, parsed.published, parsed.sha256, len(parsed.entries)), parsed.entries)])
    listed = [e.address for e in parsed.entries]
    misses = ["0x00000000219ab540356cBB839Cbe05303d7705Fa", "357a3So9CbsNfBBgFYACGvxxS6tMaDoa1P",
              "bc1qm34lsc65zpw79lxes69zkqmk6ee3ewf0j77s3h", "0x165cd37b4c644c2921454429e7f9358d18a45e14"]
    queries = (listed + misses * (len(listed) // len(misses)))[:1000]
    rounds = max(1, LOOKUPS // len(queries))
    lookup = index.lookup
    hits = 0
    start = time.perf_counter()
    for _ in range(rounds):
        for q in queries:
            if lookup(q):
                hits += 1
    seconds = time.perf_counter() - start
    assert hits >= rounds * len(set(listed) & set(queries)) // 2
    return rounds * len(queries) / seconds


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        return _child(argv[1], argv[2])
    source = Path(argv[0]) if argv else DEFAULT
    if not source.exists():
        print(f"no OFAC file at {source}; {WHERE}, and pass its path after --", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-screening-") as tmp:
        xml = Path(tmp) / "sdn_advanced.xml"
        if source.suffix == ".bz2":
            print(f"decompressing {source} ...", flush=True)
            with bz2.open(source, "rb") as src, open(xml, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        else:
            shutil.copyfile(source, xml)
        print(f"file: {xml.stat().st_size / 1e6:.1f} MB", flush=True)
        ours = _measure("ours", xml)
        base = _measure("baseline", xml)
        rate = _lookups(xml)
    same = ours["found"] == base["found"]
    counts = ", ".join(f"{a} {len(v)}" for a, v in sorted(ours["found"].items(), key=lambda kv: -len(kv[1])))
    total = sum(len(v) for v in ours["found"].values())
    speed = base["seconds"] / ours["seconds"]
    memory = ours["peak_mb"] / base["peak_mb"]
    print(f"{'parser':<28} {'wall s':>8} {'peak RSS MB':>12} {'addresses':>10}")
    print(f"{'ours (streaming)':<28} {ours['seconds']:>8.2f} {ours['peak_mb']:>12.1f} {total:>10}")
    print(f"{'baseline (ET.parse)':<28} {base['seconds']:>8.2f} {base['peak_mb']:>12.1f} {sum(len(v) for v in base['found'].values()):>10}")
    print(f"addresses per asset: {counts}")
    print(f"same addresses as baseline: {'yes' if same else 'NO'}")
    print(f"speed-up: {speed:.1f}x (target >= 4x: {'met' if speed >= 4 else 'MISSED'})")
    print(f"memory: {memory:.3f} of baseline, 1/{1 / memory:.0f} (target <= 1/10: {'met' if memory <= 0.1 else 'MISSED'})")
    print(f"lookups: {rate:,.0f}/s (target >= 1,000,000: {'met' if rate >= 1_000_000 else 'MISSED'})")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
