"""Benchmark: scan about 1M simulated requests end to end; print throughput and peak memory.

Target (issue 3): 1M requests scanned in at most 3 minutes with at most 6 GB peak (DuckDB engine).

    python bench/bench_scan.py                   # simulate ~1M requests, then scan them
    python bench/bench_scan.py --data DIR        # scan an existing directory instead

The scan runs in a child process, so peak RSS is the scan's alone; stage (text kernels over every
request) and detect (features, linkage, scoring, campaigns) are timed separately.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import json, sys, time
from distillguard.scan import ScanConfig, detect, read_accounts, stage, write_outputs
data, work, out = sys.argv[1:4]
t0 = time.perf_counter()
staged = stage([f"{data}/requests.parquet"], work)
t1 = time.perf_counter()
accounts, _ = read_accounts(f"{data}/accounts.parquet")
det = detect(work, accounts, ScanConfig(fpr=0.001))
write_outputs(det, out)
t2 = time.perf_counter()
print(json.dumps({"requests": staged.requests, "accounts": len(det.accounts), "stage_s": t1 - t0,
                  "detect_s": t2 - t1, "flagged": int(det.accounts["flagged"].sum()),
                  "campaigns": len(det.campaigns)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="existing simulated directory to scan")
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--scale", type=float, default=1.1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if data is None:
            from distillguard.simulate.engine import run_simulation

            data = Path(tmp) / "sim"
            began = time.perf_counter()
            sim = run_simulation("mixed", data, days=args.days, scale=args.scale, seed=1)
            print(f"simulated {sim.requests:,} requests in {time.perf_counter() - began:.1f} s")
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(data), str(Path(tmp) / "work"), str(Path(tmp) / "out")],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode:
            sys.exit(proc.stderr)
        stats = json.loads(proc.stdout.strip().splitlines()[-1])
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    total = stats["stage_s"] + stats["detect_s"]
    print(f"requests scanned    {stats['requests']:,} from {stats['accounts']:,} accounts")
    print(
        f"stage (kernels)     {stats['stage_s']:.1f} s ({stats['requests'] / stats['stage_s']:,.0f} requests/s)"
    )
    print(f"detect              {stats['detect_s']:.1f} s")
    print(f"end to end          {total:.1f} s ({stats['requests'] / total:,.0f} requests/s)")
    print(f"peak memory (RSS)   {peak_mb:,.0f} MB")
    print(f"flagged             {stats['flagged']:,} accounts in {stats['campaigns']} campaigns")
    per_million = total * 1e6 / max(1, stats["requests"])
    print(
        f"target              <= 180 s and <= 6144 MB per 1M requests: "
        f"{'MET' if per_million <= 180 and peak_mb <= 6144 else 'MISSED'} ({per_million:.0f} s per 1M)"
    )


if __name__ == "__main__":
    main()
