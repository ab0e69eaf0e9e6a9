"""Benchmark private set intersection (openmined-psi): our 1M values against a partner's 10k.

Both roles run in one process, as ``share match`` and ``share serve`` would over HTTP (the network
is left out; message sizes are printed). Values are payment-fingerprint-like strings; a known share
overlaps so the intersection is checked.

    python bench/bench_share_psi.py                          # client 1M, server 10k
    python bench/bench_share_psi.py --client 10000 --server 1000000
"""

from __future__ import annotations

import argparse
import base64
import time

from distillguard.share.psi import PsiService, canonical, intersect


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client", type=int, default=1_000_000)
    parser.add_argument("--server", type=int, default=10_000)
    parser.add_argument("--overlap", type=int, default=1_000)
    args = parser.parse_args()
    ours = [canonical("payment", f"pf_c{i:08d}") for i in range(args.client - args.overlap)]
    theirs = [canonical("payment", f"pf_s{i:08d}") for i in range(args.server - args.overlap)]
    shared = [canonical("payment", f"pf_x{i:08d}") for i in range(args.overlap)]
    ours += shared
    theirs += shared
    service = PsiService({"payment": theirs}, max_items=max(args.client, 1))
    sizes = {}

    def ask(req: bytes) -> dict[str, str]:
        sizes["request"] = len(req)
        answer = service.answer("payment", req)
        sizes["answer"] = sum(len(base64.b64decode(v)) for v in answer.values())
        return answer

    t, c = time.perf_counter(), time.process_time()
    got = intersect(ours, ask)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    assert sorted(got) == sorted(shared), "wrong intersection"
    print(
        f"PSI: client {args.client:,} x server {args.server:,} values -> {len(got):,} common in {wall:.1f} s wall, "
        f"{cpu:.1f} s CPU; request {sizes['request'] / 1e6:.1f} MB, answer {sizes['answer'] / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    main()
