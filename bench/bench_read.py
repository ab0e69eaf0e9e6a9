"""Benchmark streaming reads: rows/s, MB/s and peak memory of ``read_batches`` on large JSONL files.

Peak RSS must not grow with the file: the default run reads 0.25 GB and 1 GB files, each in a fresh
process (``ru_maxrss`` is a per-process high-water mark), and prints both peaks.

    python bench/bench_read.py                  # 0.25 GB and 1 GB, generated in a temp dir
    python bench/bench_read.py --gb 0.1 0.5     # other sizes
    python bench/bench_read.py --path big.jsonl # an existing file (any supported suffix)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

_SYSTEM = "You are a helpful assistant. Answer concisely and cite your reasoning step by step."
_TOPICS = [
    "Explain the difference between a process and a thread in operating systems, with examples.",
    "Write a Python function that merges two sorted lists without using the built-in sort.",
    "Résumé the plot of Les Misérables in three sentences, then list its main characters.",
    "解释一下量子纠缠的基本原理，并给出一个日常生活中的类比。",
    "What are the trade-offs between B-trees and LSM-trees for write-heavy workloads?",
    "Solve: a train leaves at 3pm going 60 km/h; another at 4pm going 90 km/h. When do they meet?",
]


def _record(rng: random.Random, i: int) -> dict[str, object]:
    prompt = rng.choice(_TOPICS) + " " + " ".join(rng.choice(_TOPICS).split()[: rng.randint(5, 40)])
    answer = " ".join(rng.choice(_TOPICS).split() * rng.randint(3, 12))
    ms = rng.randint(0, 86_400_000 * 30)
    sec, milli = divmod(ms, 1000)
    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1_772_323_200 + sec)) + f".{milli:03d}Z"
    return {
        "request_id": f"req_{i:012d}",
        "ts": ts,
        "account_id": f"acct_{rng.randint(1, 5000):06d}",
        "api_key_id": f"key_{rng.randint(1, 20000):06d}",
        "ip": f"203.0.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        "user_agent": rng.choice(["openai-python/1.54.0", "anthropic-sdk-python/0.40.0", "curl/8.5.0"]),
        "model": "frontier-2-2026-02-01",
        "endpoint": "/v1/chat/completions",
        "messages": [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": prompt}],
        "params": {"temperature": round(rng.random(), 2), "max_tokens": 1024, "stream": rng.random() < 0.5},
        "response": {"content": answer, "reasoning": None, "finish_reason": "stop"},
        "usage": {"input_tokens": len(prompt) // 4, "output_tokens": len(answer) // 4, "reasoning_tokens": 0},
        "status": 200,
    }


def generate(path: Path, gb: float) -> int:
    """Write a JSONL file of about ``gb`` GB by repeating a block of varied records; return its rows."""
    rng = random.Random(7)
    block = b"".join(orjson.dumps(_record(rng, i)) + b"\n" for i in range(2000))
    lines_per_block = 2000
    target = int(gb * 1e9)
    rows = 0
    with open(path, "wb") as fh:
        written = 0
        while written < target:
            fh.write(block)
            written += len(block)
            rows += lines_per_block
    return rows


def _rss_mib() -> float:
    # ru_maxrss is KiB on Linux (bytes on macOS).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def worker(path: Path, batch_size: int) -> dict[str, float]:
    """Stream one file through read_batches and measure it (run in a fresh process)."""
    from distillguard.io.readers import read_batches

    base = _rss_mib()
    rows = issues = 0
    start = time.perf_counter()
    for result in read_batches(path, "requests", batch_size=batch_size):
        rows += result.batch.num_rows
        issues += len(result.issues)
    seconds = time.perf_counter() - start
    size = path.stat().st_size
    return {
        "bytes": size,
        "rows": rows,
        "issues": issues,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "mb_per_s": size / 1e6 / seconds,
        "rss_base_mib": base,
        "rss_peak_mib": _rss_mib(),
    }


def _run_worker(path: Path, batch_size: int) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", str(path), "--batch-size", str(batch_size)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    """Parse arguments, generate files as needed and print the results table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--gb", type=float, nargs="+", default=[0.25, 1.0], help="sizes to generate (GB)")
    parser.add_argument("--path", type=Path, nargs="+", help="read these files instead of generating")
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.batch_size)))
        return

    results = []
    with tempfile.TemporaryDirectory(prefix="bench_read_") as tmp:
        paths = args.path or []
        if not paths:
            for gb in args.gb:
                path = Path(tmp) / f"requests-{gb:g}gb.jsonl"
                t0 = time.perf_counter()
                rows = generate(path, gb)
                print(
                    f"generated {path.name}: {rows:,} rows in {time.perf_counter() - t0:.1f}s",
                    file=sys.stderr,
                )
                paths.append(path)
        for path in paths:
            results.append((path, _run_worker(path, args.batch_size)))
            if not args.path and not args.keep:
                os.unlink(path)

    print(
        f"\nread_batches, batch_size={args.batch_size:,}, python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
    )
    header = f"{'file':<26}{'size GB':>9}{'rows':>13}{'seconds':>9}{'rows/s':>11}{'MB/s':>8}{'RSS base MiB':>14}{'RSS peak MiB':>14}"
    print(header)
    print("-" * len(header))
    for path, r in results:
        print(
            f"{path.name[:25]:<26}{r['bytes'] / 1e9:>9.2f}{r['rows']:>13,}{r['seconds']:>9.1f}"
            f"{r['rows_per_s']:>11,.0f}{r['mb_per_s']:>8.1f}{r['rss_base_mib']:>14.0f}{r['rss_peak_mib']:>14.0f}"
        )
    if len(results) > 1:
        peaks = [r["rss_peak_mib"] for _, r in results]
        sizes = [r["bytes"] / 1e9 for _, r in results]
        print(
            f"\nfile size grew {max(sizes) / min(sizes):.1f}x; peak RSS changed by "
            f"{max(peaks) - min(peaks):+.0f} MiB ({max(peaks) / min(peaks):.2f}x)"
        )


if __name__ == "__main__":
    main()
