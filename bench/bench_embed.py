"""Benchmark prompt embedding throughput (texts/s) of ``distillguard.kernels.embed.Embedder``.

Texts are real prompts from the packaged corpora and ShareGPT first user turns, mixed like the
simulator's traffic. Each configuration is warmed up once, then timed over ``--n`` texts.

    python bench/bench_embed.py                       # max_length 128 and 256, 1 and 2 threads
    python bench/bench_embed.py --n 2000 --threads 2 --max-length 128
"""

from __future__ import annotations

import argparse
import os
import random
import time

import numpy as np

from distillguard.kernels.embed import Embedder
from distillguard.simulate.corpora import load_corpora


def sample_prompts(n: int, seed: int = 0) -> list[str]:
    """Draw n real prompts: half ShareGPT first turns, half the packaged task corpora."""
    rng = random.Random(seed)
    c = load_corpora()
    pools = [p.text for pool in c.prompts.values() for p in pool]
    chats = [conv.turns[0][0] for conv in c.chats]
    return [rng.choice(chats) if i % 2 else rng.choice(pools) for i in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--max-length", type=int, nargs="+", default=[128, 256])
    ap.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args()

    texts = sample_prompts(args.n)
    chars = np.array([len(t) for t in texts])
    print(
        f"{len(texts)} prompts, chars median {int(np.median(chars))}, p90 {int(np.percentile(chars, 90))}; "
        f"{os.cpu_count()} CPUs"
    )
    for max_length in args.max_length:
        for threads in args.threads:
            t0 = time.perf_counter()
            emb = Embedder(max_length=max_length, batch_size=args.batch_size, intra_op_threads=threads)
            load_s = time.perf_counter() - t0
            emb.encode(texts[:64])  # warm-up: first runs allocate the arena
            t0 = time.perf_counter()
            vecs = emb.encode(texts)
            dt = time.perf_counter() - t0
            toks = emb._tokenizer.encode_batch(texts)
            kept = np.array([min(len(e.ids), max_length) for e in toks])
            print(
                f"max_length={max_length:4d} threads={threads}: {len(texts) / dt:7.1f} texts/s "
                f"({dt * 1e3 / len(texts):.2f} ms/text, mean {kept.mean():.0f} tokens kept, "
                f"{(kept >= max_length).mean():.0%} truncated), load {load_s:.2f} s, shape {vecs.shape}"
            )


if __name__ == "__main__":
    main()
