"""Benchmark retro-hunt: 1M requests of our traffic against 100k pulled template indicators.

Requests come from real prompts (the packaged corpora), 30% sent under one of 50 campaign system
prompts. Indicators are the keyed band keys of those 50 templates plus random keyed keys up to the
requested count. Time covers computing every request's band keys, keying them, and matching; the
matched accounts are checked against the requests known to use a campaign template.

    python bench/bench_share_hunt.py                                  # 1M requests, 100k indicators
    python bench/bench_share_hunt.py --requests 200000 --indicators 20000
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import time
from importlib import resources

import numpy as np
import pyarrow as pa

from distillguard.kernels.templates import fingerprint
from distillguard.share.keys import Keyring
from distillguard.share.retrohunt import collect, hunt


def prompts_from(name: str) -> list[str]:
    root = resources.files("distillguard") / "data" / "corpora"
    with gzip.open(root.joinpath(name).open("rb"), "rt") as f:
        return [json.loads(line)["text"] for line in f]


def prompts() -> list[str]:
    root = resources.files("distillguard") / "data" / "corpora"
    out = []
    for name in (
        "gpteacher-codegen.jsonl.gz",
        "gsm8k-train.jsonl.gz",
        "self-instruct-user-oriented.jsonl.gz",
    ):
        with gzip.open(root.joinpath(name).open("rb"), "rt") as f:
            out += [json.loads(line)["text"] for line in f]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--indicators", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=50_000)
    args = parser.parse_args()
    rng = random.Random(1)
    texts = prompts()
    # Campaign system prompts: distinct real instructions (the corpora's seeds) in a persona frame.
    seeds = prompts_from("self-instruct-seeds.jsonl.gz")
    systems = [
        f"You are an expert grader. Reason step by step and show all work. {seeds[i]}" for i in range(50)
    ]
    ring = Keyring.new("bench")
    key = ring.key()
    objs = []
    for s in systems:
        for band in fingerprint([{"role": "system", "content": s}])["system"]:
            value = key.band_keys("system", np.array([band], dtype=np.int64))[0]
            objs.append(value)
    while len(objs) < args.indicators:
        objs.append(
            f"tb1:{key.key_id}:{rng.choice(['head', 'tail', 'body', 'system'])}:{rng.getrandbits(64):016x}"
        )
    indicators = collect(
        (
            "p",
            {
                "type": "indicator",
                "id": f"indicator--{i}",
                "pattern": f"[x-distillguard-template:band_key = '{v}']",
            },
        )
        for i, v in enumerate(objs)
    )
    campaign_accounts = set()

    def batches():
        for lo in range(0, args.requests, args.batch):
            n = min(args.batch, args.requests - lo)
            msgs, accts = [], []
            for i in range(lo, lo + n):
                user = texts[rng.randrange(len(texts))]
                if rng.random() < 0.3:
                    acct = f"acct_c{rng.randrange(500):05d}"
                    campaign_accounts.add(acct)
                    msgs.append(
                        [
                            {"role": "system", "content": rng.choice(systems)},
                            {"role": "user", "content": user},
                        ]
                    )
                else:
                    acct = f"acct_b{i % 200_000:06d}"
                    msgs.append([{"role": "user", "content": user}])
                accts.append(acct)
            yield pa.table(
                {
                    "request_id": [f"req_{i}" for i in range(lo, lo + n)],
                    "account_id": accts,
                    "ts": pa.array(np.full(n, 1_772_323_200_000_000 + lo, dtype="datetime64[us]")),
                    "messages": msgs,
                }
            )

    t, c = time.perf_counter(), time.process_time()
    matches = hunt(batches(), indicators, ring)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    matched = {a for m in matches.values() for a in m.accounts}
    print(
        f"retro-hunt: {args.requests:,} requests x {len(indicators):,} indicators in {wall:.1f} s wall, "
        f"{cpu:.1f} s CPU ({1e6 * cpu / args.requests:.1f} us CPU per request, including request generation)"
    )
    print(
        f"matched {len(matches):,} indicators; accounts matched {len(matched):,}, campaign accounts "
        f"{len(campaign_accounts):,}, matched outside campaigns {len(matched - campaign_accounts):,}"
    )


if __name__ == "__main__":
    main()
