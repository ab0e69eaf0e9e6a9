"""Measure the prompt-sample step, the embedding baselines and the pooled cluster MMD test on a labelled run.

Prints (1) the cost of sampling + embedding (prompts, seconds, prompts/s, load average), (2) recall of
PRADA, SEAT and the MMD window test at a fixed benign FPR, overall and per campaign, with each
threshold set from the labels exactly as ``distillguard eval`` does, and (3) the pooled-cluster MMD
test of each labelled campaign against random groups of benign accounts of the same size.

    distillguard simulate --scenario mixed --days 3 --seed 1 --out /tmp/mixed
    python bench/bench_baselines.py --run /tmp/mixed --work /tmp/mixed-work
    python bench/bench_baselines.py --run /tmp/mixed --work /tmp/mixed-work --skip-clusters

The sample is cached in ``--work``; a second run reuses it (delete the file to time the step again).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from distillguard.eval.baselines import mmd_scores, prada_scores, seat_scores, seat_threshold
from distillguard.eval.metrics import read_labels
from distillguard.eval.run import _at_same_fpr, locate
from distillguard.features.distribution import cluster_distribution_scores, cluster_null_calibration
from distillguard.features.samples import (
    DEFAULT_PER_ACCOUNT,
    SAMPLE_FILE,
    embeddings_by_account,
    load_or_build_prompt_sample,
)


def build_sample(args: argparse.Namespace, requests: list[Path]) -> pd.DataFrame:
    cached = (args.work / SAMPLE_FILE).is_file()
    t0 = time.perf_counter()
    last = [t0]

    def progress(phase: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if done in (0, total) or now - last[0] > 15:
            last[0] = now
            print(f"  {now - t0:6.1f}s {phase} {done:,}/{total:,}", flush=True)

    sample = load_or_build_prompt_sample(
        args.work, requests, per_account=args.per_account, on_progress=progress
    )
    dt = time.perf_counter() - t0
    load = os.getloadavg()
    how = "read from cache" if cached else f"{len(sample) / dt:.1f} prompts/s end to end"
    print(
        f"prompt sample: {len(sample):,} prompts of {sample['account_id'].nunique():,} accounts "
        f"(cap {args.per_account}) in {dt:.1f} s, {how}; load average {load[0]:.1f}/{load[1]:.1f} "
        f"on {os.cpu_count()} CPUs"
    )
    return sample


def recall_table(scores: dict[str, pd.Series], labels: pd.DataFrame, target_fpr: float) -> None:
    attack = labels[labels["label"] == "attack"]
    campaigns = sorted(attack["campaign_id"].dropna().unique())
    print(f"\nrecall at benign FPR {target_fpr} (threshold set with the labels, as eval does)")
    print("| baseline | FPR | attack recall | " + " | ".join(campaigns) + " |")
    print("|---|---:|---:|" + "---:|" * len(campaigns))
    benign = set(labels.loc[labels["label"] == "benign", "account_id"])
    for name, s in scores.items():
        full = s.reindex(labels["account_id"]).fillna(float(s.min()) - 1.0)
        flagged = set(_at_same_fpr(full, labels, target_fpr).query("flagged == 1")["account_id"])
        fpr = len(flagged & benign) / max(len(benign), 1)
        overall = attack["account_id"].isin(flagged).mean()
        per = [attack.loc[attack["campaign_id"] == c, "account_id"].isin(flagged).mean() for c in campaigns]
        print(f"| {name} | {fpr:.5f} | {overall:.3f} | " + " | ".join(f"{r:.3f}" for r in per) + " |")


def auc_line(scores: dict[str, pd.Series], labels: pd.DataFrame) -> None:
    """Attack-vs-benign ROC AUC of each score (ties count half), to show the ranking behind the recalls."""
    y = labels.set_index("account_id")["label"].eq("attack")
    print()
    for name, s in scores.items():
        full = s.reindex(y.index).fillna(float(s.min()) - 1.0)
        ranks = full.rank(method="average")
        pos, neg = int(y.sum()), int((~y).sum())
        auc = (ranks[y].sum() - pos * (pos + 1) / 2) / (pos * neg)
        print(f"{name}: attack-vs-benign AUC {auc:.3f}")


def cluster_table(sample: pd.DataFrame, labels: pd.DataFrame, args: argparse.Namespace) -> None:
    attack = labels[labels["label"] == "attack"]
    benign = sorted(labels.loc[labels["label"] == "benign", "account_id"])
    rng = np.random.default_rng(0)
    groups: dict[str, list[str]] = {
        str(c): sorted(g["account_id"]) for c, g in attack.groupby("campaign_id") if len(g) >= 2
    }
    random_groups: dict[str, list[str]] = {}
    for cid, members in groups.items():
        for i in range(args.benign_groups):
            size = min(len(members), len(benign))
            random_groups[f"benign-{cid}-{i}"] = list(rng.choice(benign, size, replace=False))
    everyone = set(labels["account_id"])
    for ref_name, reference in (
        ("all accounts (unlabelled)", everyone),
        ("benign accounts only", set(benign)),
    ):
        t0 = time.perf_counter()
        null = cluster_null_calibration(sample, {**groups, **random_groups}, reference, n_null=args.n_null)
        perm = cluster_distribution_scores(sample, {**groups, **random_groups}, reference)
        dt = time.perf_counter() - t0
        res = null.merge(perm[["cluster_id", "p_value", "n_samples"]], on="cluster_id")
        print(f"\npooled-cluster MMD, reference = {ref_name} ({dt:.1f} s)")
        print("| group | members | pooled prompts | mmd2 | null q95 | null p | permutation p |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for _, r in res[res["cluster_id"].isin(groups)].iterrows():
            print(
                f"| {r.cluster_id} | {r.n_members} | {r.n_samples} | {r.mmd2:.4f} | {r.null_q95:.4f} | "
                f"{r.null_p_value:.4f} | {r.p_value:.4f} |"
            )
        rand = res[~res["cluster_id"].isin(groups)]
        print(
            f"| {len(rand)} random benign groups (sizes as above) | | | median {rand['mmd2'].median():.4f} | | "
            f"share p<=0.05: {(rand['null_p_value'] <= 0.05).mean():.3f} | "
            f"share p<=0.05: {(rand['p_value'] <= 0.05).mean():.3f} |"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", type=Path, required=True, help="labelled run directory (simulate output)")
    ap.add_argument("--work", type=Path, required=True, help="where the prompt sample is cached")
    ap.add_argument("--per-account", type=int, default=DEFAULT_PER_ACCOUNT)
    ap.add_argument("--target-fpr", type=float, default=0.00104)
    ap.add_argument(
        "--extra-fpr", type=float, nargs="*", default=[0.01, 0.1], help="also report recall at these FPRs"
    )
    ap.add_argument("--n-null", type=int, default=200)
    ap.add_argument("--benign-groups", type=int, default=20, help="random benign groups per campaign size")
    ap.add_argument("--skip-clusters", action="store_true")
    args = ap.parse_args()

    requests, _accounts, labels_path = locate(args.run)
    labels = read_labels(labels_path)
    sample = build_sample(args, requests)
    by_account = embeddings_by_account(sample)

    scores: dict[str, pd.Series] = {}
    for name, fn in (
        ("PRADA", prada_scores),
        ("SEAT", lambda b: seat_scores(b, seat_threshold(b))),
        ("MMD window test", mmd_scores),
    ):
        t0 = time.perf_counter()
        scores[name] = fn(by_account)
        print(f"{name}: scored {len(scores[name]):,} accounts in {time.perf_counter() - t0:.1f} s")
    for fpr in (args.target_fpr, *args.extra_fpr):
        recall_table(scores, labels, fpr)
    auc_line(scores, labels)
    if not args.skip_clusters:
        cluster_table(sample, labels, args)


if __name__ == "__main__":
    main()
