"""Benchmark: generate about 1M simulated requests and print throughput and peak memory.

Target (issue 2): 1M requests in at most 2 minutes and 2 GB on a 2-core machine.

    python bench/bench_simulate.py                # mixed scenario, ~1M requests
    python bench/bench_simulate.py --format jsonl # the same into JSON lines

The run happens in a child process so that peak RSS is that of the simulation alone.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

CHILD = """
import json, sys, time
from distillguard.simulate.engine import run_simulation
t = time.perf_counter()
r = run_simulation(sys.argv[1], sys.argv[2], days=int(sys.argv[3]), scale=float(sys.argv[4]), seed=1, fmt=sys.argv[5])
print(json.dumps({"requests": r.requests, "accounts": r.accounts, "seconds": time.perf_counter() - t}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="mixed")
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--scale", type=float, default=1.1)
    parser.add_argument("--format", default="parquet", choices=("parquet", "jsonl", "jsonl.gz"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, args.scenario, tmp, str(args.days), str(args.scale), args.format],
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - began
        if proc.returncode:
            sys.exit(proc.stderr)
        stats = json.loads(proc.stdout.strip().splitlines()[-1])
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        size_mb = sum(os.path.getsize(os.path.join(tmp, f)) for f in os.listdir(tmp)) / 1e6
    rate = stats["requests"] / stats["seconds"]
    print(f"scenario            {args.scenario} (days={args.days}, scale={args.scale}, format={args.format})")
    print(f"requests            {stats['requests']:,}")
    print(f"accounts            {stats['accounts']:,}")
    print(f"generation time     {stats['seconds']:.1f} s (wall incl. interpreter start {wall:.1f} s)")
    print(f"throughput          {rate:,.0f} requests/s")
    print(f"peak memory (RSS)   {peak_mb:,.0f} MB")
    print(f"output size         {size_mb:,.0f} MB")
    print(
        f"target              <= 120 s and <= 2048 MB for 1M requests: "
        f"{'MET' if stats['seconds'] * 1e6 / stats['requests'] <= 120 and peak_mb <= 2048 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
