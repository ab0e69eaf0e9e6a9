"""Benchmark export: 10,000 campaigns to one STIX bundle, then the redaction gate and stix2-validator.

Campaigns are shaped like ``distillguard scan`` writes them (accounts, models, tactics, ten shared
template keys each). Export and the gate run over all of them; stix2-validator, far slower, runs on
a sample and is reported per object. CPU time is printed beside wall time (the machine is shared).

    python bench/bench_share_export.py                   # 10,000 campaigns
    python bench/bench_share_export.py --campaigns 1000  # quicker
"""

from __future__ import annotations

import argparse
import random
import time

from distillguard.share.conformance import validator_errors
from distillguard.share.export import build_bundle
from distillguard.share.keys import Keyring
from distillguard.share.redact import check_bundle


def campaigns(n: int, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        accounts = [f"acct_{i:08x}{j:08x}" for j in range(rng.randint(2, 60))]
        out.append(
            {
                "campaign_id": f"cmp_{i:012x}",
                "accounts": accounts,
                "n_accounts": len(accounts),
                "first_seen": "2026-03-01 12:00:00+00:00",
                "last_seen": "2026-03-02 12:00:00+00:00",
                "requests": rng.randint(10, 100_000),
                "output_tokens": rng.randint(1_000, 10_000_000),
                "models": {"frontier-2-2026-02-01": rng.randint(10, 5000)},
                "capabilities": {"cot_elicitation": 40, "rubric_grading": 12},
                "tactics": [
                    {
                        "tactic": "cot_elicitation",
                        "method": "chain-of-thought exfiltration",
                        "atlas": ["AML.T0024.002"],
                    }
                ],
                "confidence": rng.random(),
                "evidence": {
                    "reasons": {"ip_rotation": 3},
                    "link_kinds": {"template": 10, "network": 2},
                    "shared_indicators": [
                        {"kind": "template", "indicator": f"tk:head:{rng.getrandbits(63)}", "accounts": 5}
                        for _ in range(10)
                    ],
                    "sample_requests": [],
                },
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=10_000)
    parser.add_argument(
        "--validate-sample", type=int, default=200, help="campaigns checked by stix2-validator"
    )
    args = parser.parse_args()
    items = campaigns(args.campaigns)
    ring = Keyring.new("bench")
    w, c = time.perf_counter(), time.process_time()
    bundle = build_bundle(items, ring, "Provider A")
    we, ce = time.perf_counter() - w, time.process_time() - c
    n = len(bundle["objects"])
    print(f"export: {args.campaigns:,} campaigns -> {n:,} objects in {we:.2f} s wall, {ce:.2f} s CPU")
    w, c = time.perf_counter(), time.process_time()
    check_bundle(bundle, producers=["Provider A"])
    wg, cg = time.perf_counter() - w, time.process_time() - c
    print(f"redaction gate: {wg:.2f} s wall, {cg:.2f} s CPU ({1e6 * cg / n:.0f} us CPU per object)")
    sample = build_bundle(items[: args.validate_sample], ring, "Provider A")
    w, c = time.perf_counter(), time.process_time()
    errors = validator_errors(sample)
    wv, cv = time.perf_counter() - w, time.process_time() - c
    m = len(sample["objects"])
    print(
        f"stix2-validator (strict): {m:,} objects in {wv:.2f} s wall, {cv:.2f} s CPU "
        f"({1e3 * cv / m:.2f} ms CPU per object; valid={not errors})"
    )


if __name__ == "__main__":
    main()
