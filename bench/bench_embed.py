"""Benchmark prompt embedding (texts/s), the MMD window test (ms/account), and both end to end.

Embedding: real prompts from the packaged corpora and ShareGPT first user turns; each configuration
is warmed up once, then timed over ``--n`` texts. MMD: random unit vectors (cost does not depend on
content) for ``--accounts`` accounts of ``--samples`` prompts each. ``--run DIR`` embeds the
prompts of a simulated run (``distillguard simulate``), scores every account against a reference
drawn from the same traffic (or from ``--historical DIR``, e.g. a ``benign`` scenario run) and prints
results per persona; labels are read only to report them.

    python bench/bench_embed.py                       # max_length 128 and 256, 1 and 2 threads
    python bench/bench_embed.py --n 2000 --threads 2 --max-length 128
    python bench/bench_embed.py --skip-embed --accounts 200 --samples 64 256 1024
    distillguard simulate --scenario mixed --days 1 --scale 0.1 --seed 1 --out /tmp/sim
    python bench/bench_embed.py --skip-embed --run /tmp/sim --per-account 64
"""

from __future__ import annotations

import argparse
import os
import random
import time

import numpy as np

from distillguard.features.distribution import MMDWindowTest, account_distribution_scores, sample_reference
from distillguard.kernels.embed import Embedder
from distillguard.simulate.corpora import load_corpora


def sample_prompts(n: int, seed: int = 0) -> list[str]:
    """Draw n real prompts: half ShareGPT first turns, half the packaged task corpora."""
    rng = random.Random(seed)
    c = load_corpora()
    pools = [p.text for pool in c.prompts.values() for p in pool]
    chats = [conv.turns[0][0] for conv in c.chats]
    return [rng.choice(chats) if i % 2 else rng.choice(pools) for i in range(n)]


def bench_embedding(args: argparse.Namespace) -> None:
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
            kept = np.array([min(len(e.ids), max_length) for e in emb._tokenizer.encode_batch(texts)])
            print(
                f"max_length={max_length:4d} threads={threads}: {len(texts) / dt:7.1f} texts/s "
                f"({dt * 1e3 / len(texts):.2f} ms/text, mean {kept.mean():.0f} tokens kept, "
                f"{(kept >= max_length).mean():.0%} truncated), load {load_s:.2f} s, shape {vecs.shape}"
            )


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.normal(size=(n, 384)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def bench_mmd(args: argparse.Namespace) -> None:
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    test = MMDWindowTest(window=args.window, n_permutations=args.permutations).fit(_unit(rng, 2000))
    print(f"fit (reference 512 of 2000): {(time.perf_counter() - t0) * 1e3:.1f} ms")
    for m in args.samples:
        test.max_samples = m
        accounts = [_unit(rng, m) for _ in range(args.accounts)]
        test.score(accounts[0])
        t0 = time.perf_counter()
        for x in accounts:
            test.score(x)
        dt = (time.perf_counter() - t0) / len(accounts)
        print(
            f"MMD window={args.window} permutations={args.permutations} m={m:5d}: "
            f"{dt * 1e3:7.2f} ms/account ({len(accounts)} accounts)"
        )


def evaluate_run(args: argparse.Namespace) -> None:
    import pandas as pd
    import pyarrow.parquet as pq
    from sklearn.metrics import roc_auc_score

    from distillguard.kernels.text import prompt_text

    def embed_accounts(path: str, per: int) -> tuple[dict[str, np.ndarray], int, float]:
        table = pq.read_table(f"{path}/requests.parquet", columns=["account_id", "ts", "messages"])
        df = table.to_pandas().sort_values("ts")
        rng = np.random.default_rng(0)
        texts, owners = [], []
        for account, g in df.groupby("account_id", sort=True):
            keep = np.sort(rng.choice(len(g), min(per, len(g)), replace=False))
            texts += [prompt_text(list(m)) for m in g["messages"].iloc[keep]]
            owners += [account] * len(keep)
        t0 = time.perf_counter()
        vecs = emb.encode(texts)
        dt = time.perf_counter() - t0
        own = np.array(owners)
        return {a: vecs[own == a] for a in np.unique(own)}, len(texts), dt

    emb = Embedder(intra_op_threads=args.threads[-1])
    by_account, n_texts, dt = embed_accounts(args.run, args.per_account)
    print(f"embedded {n_texts} prompts of {len(by_account)} accounts: {n_texts / dt:.0f} texts/s")
    if args.historical:
        hist, _, _ = embed_accounts(args.historical, 4)
        reference, source = sample_reference(hist, size=512, per_account=4), "historical benign run"
    else:
        reference, source = sample_reference(by_account, size=512, per_account=4), "same traffic"
    t0 = time.perf_counter()
    scores = account_distribution_scores(by_account, reference)
    dt = time.perf_counter() - t0
    print(f"scored against {source}: {dt / len(scores) * 1e3:.1f} ms/account")
    labels = pd.read_json(f"{args.run}/labels.jsonl", lines=True).set_index("account_id")
    df = pd.DataFrame(
        [
            {"label": labels.loc[a, "label"], "persona": labels.loc[a, "persona"], "n": r.n_samples}
            | {"mmd2": r.mmd2, "p": r.p_value}
            for a, r in scores.items()
        ]
    )
    df = df[df.n >= args.min_prompts]
    summary = df.groupby(["label", "persona"]).agg(
        accounts=("p", "size"),
        prompts=("n", "median"),
        mmd2=("mmd2", "median"),
        p=("p", "median"),
        flagged=("p", lambda s: (s < 0.01).mean()),
    )
    print(f"accounts with >= {args.min_prompts} prompts; medians; flagged = share with p < 0.01")
    print(summary.round(4).to_string())
    y = (df.label == "attack").astype(int)
    if y.nunique() == 2:
        print(f"AUC of mmd2 (attack vs benign): {roc_auc_score(y, df.mmd2):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--max-length", type=int, nargs="+", default=[128, 256])
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--skip-embed", action="store_true", help="skip the embedding throughput runs")
    ap.add_argument("--accounts", type=int, default=100)
    ap.add_argument("--samples", type=int, nargs="*", default=[32, 64, 256])
    ap.add_argument("--window", type=int, default=32)
    ap.add_argument("--permutations", type=int, default=200)
    ap.add_argument("--run", help="a simulated run directory to evaluate end to end")
    ap.add_argument("--historical", help="a run whose traffic is the reference (default: --run itself)")
    ap.add_argument("--per-account", type=int, default=64, help="prompts embedded per account in --run")
    ap.add_argument("--min-prompts", type=int, default=8, help="accounts with fewer are left out of --run")
    args = ap.parse_args()
    if not args.skip_embed:
        bench_embedding(args)
    if args.samples:
        bench_mmd(args)
    if args.run:
        evaluate_run(args)


if __name__ == "__main__":
    main()
