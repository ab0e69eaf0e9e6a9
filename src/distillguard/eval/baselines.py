"""Baselines from the model-extraction literature, re-implemented over sampled prompt embeddings.

Every baseline scores each account from the same cached sample of its prompts
(:mod:`distillguard.features.samples`: up to 8 prompts per account, spread over its active time,
embedded with all-MiniLM-L6-v2). Scores are "higher = more suspicious"; ``distillguard eval`` then
picks each baseline's threshold *with* the labels so that its benign FPR equals the detector's.

- **PRADA** (Juuti et al., 2019): per account, the minimum distance of each new query to the
  account's earlier "growing set", and the Shapiro–Wilk W of those distances; score ``1 - W``.
- **SEAT** (Zhang, Chen & Wagner, 2021): per account, the number of pairs of queries whose encoder
  distance is below a threshold set on the population; score = that count.
- **MMD window test** (Liu, Guo & Dong, 2026): per account, the windowed MMD permutation test of
  :mod:`distillguard.features.distribution` against a reference sampled from all accounts; score
  ``-log10 p``, ties broken by MMD².

How each adapts its paper from images to text is stated in each function and in ``docs/baselines.md``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from distillguard.features.distribution import account_distribution_scores, sample_reference
from distillguard.features.samples import (
    DEFAULT_PER_ACCOUNT,
    Progress,
    embeddings_by_account,
    load_or_build_prompt_sample,
)

Baseline = Callable[[pd.DataFrame, "str | os.PathLike[str]"], pd.Series]
# Shapiro–Wilk needs three values; PRADA itself waits for many more, which a bounded sample cannot give.
PRADA_MIN_DISTANCES = 3
# Share of cross-account prompt pairs that SEAT's threshold lets count as "similar".
SEAT_PAIR_QUANTILE = 0.001


def prada_distances(embeddings: np.ndarray) -> np.ndarray:
    """PRADA's set D for one account's queries in time order (Juuti et al. 2019, Sec. V, Algorithm 1).

    Each query after the first contributes d_min, its smallest L2 distance to the growing set G. A
    query joins G when d_min exceeds the threshold T, and T is then raised to
    ``max(T, mean(D_G) - std(D_G))`` over the distances of G's members. The paper keeps one G per
    class the model predicts; a text generator has no class, so there is one G per account.
    """
    x = np.asarray(embeddings, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"embeddings must be 2-D (queries, features), got shape {x.shape}")
    if len(x) < 2:
        return np.zeros(0)
    growing = [x[0]]
    d_all = np.empty(len(x) - 1)
    d_growing: list[float] = []
    threshold = 0.0
    for i in range(1, len(x)):
        d_min = float(np.sqrt(((np.asarray(growing) - x[i]) ** 2).sum(axis=1)).min())
        d_all[i - 1] = d_min
        if d_min > threshold:
            growing.append(x[i])
            d_growing.append(d_min)
            threshold = max(threshold, float(np.mean(d_growing) - np.std(d_growing)))
    return d_all


def prada_statistic(embeddings: np.ndarray, min_distances: int = PRADA_MIN_DISTANCES) -> float:
    """Shapiro–Wilk W of PRADA's distance set; NaN with fewer than ``min_distances`` or no spread.

    PRADA raises an alarm when W falls below a threshold δ: benign query streams give roughly normal
    minimum distances, synthetic perturbations of a few seeds do not.
    """
    d = prada_distances(embeddings)
    if len(d) < max(3, min_distances) or np.ptp(d) <= 1e-9:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns about n < 20 or ties; W is still defined
        return float(stats.shapiro(d).statistic)


def prada_scores(by_account: Mapping[str, np.ndarray], min_distances: int = PRADA_MIN_DISTANCES) -> pd.Series:
    """``1 - W`` per account (higher = less normal = more suspicious); 0 when W is undefined."""
    values = {a: prada_statistic(e, min_distances) for a, e in by_account.items()}
    return pd.Series({a: 0.0 if np.isnan(w) else 1.0 - w for a, w in values.items()}, dtype=float)


def seat_threshold(
    by_account: Mapping[str, np.ndarray],
    quantile: float = SEAT_PAIR_QUANTILE,
    n_pairs: int = 200_000,
    random_state: int = 0,
) -> float:
    """The L2 distance below which two prompts count as similar: a low quantile of cross-account pairs.

    SEAT fixes its similarity threshold on natural (benign) data so that few natural pairs fall
    under it. Without labels we take pairs of prompts from two different accounts of the population.
    """
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must be in (0, 1), got {quantile}")
    accounts = [a for a in sorted(by_account) if len(by_account[a])]
    if len(accounts) < 2:
        raise ValueError("SEAT's threshold needs prompts from at least two accounts")
    owner = np.concatenate([np.full(len(by_account[a]), i) for i, a in enumerate(accounts)])
    rows = np.concatenate([np.asarray(by_account[a], dtype=np.float32) for a in accounts])
    rng = np.random.default_rng(random_state)
    i = rng.integers(0, len(rows), n_pairs)
    j = rng.integers(0, len(rows), n_pairs)
    keep = owner[i] != owner[j]
    d = np.sqrt(((rows[i[keep]] - rows[j[keep]]) ** 2).sum(axis=1))
    return float(np.quantile(d, quantile))


def seat_pair_count(embeddings: np.ndarray, threshold: float) -> tuple[int, float]:
    """Number of the account's query pairs closer than ``threshold``, and its closest pair's distance."""
    x = np.asarray(embeddings, dtype=np.float64)
    if len(x) < 2:
        return 0, float("inf")
    sq = (x * x).sum(axis=1)
    d = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * (x @ x.T), 0.0))
    upper = d[np.triu_indices(len(x), k=1)]
    return int((upper < threshold).sum()), float(upper.min())


def seat_scores(by_account: Mapping[str, np.ndarray], threshold: float) -> pd.Series:
    """SEAT's similar-pair count per account, ties broken by the closest pair (closer = higher)."""
    out = {}
    for account, emb in by_account.items():
        count, closest = seat_pair_count(emb, threshold)
        # Unit vectors are at most 2 apart, so the tie-break stays inside [0, 1) and never reorders counts.
        tie = 0.0 if not np.isfinite(closest) else 0.999 * (1.0 - min(closest, 2.0) / 2.0)
        out[account] = count + tie
    return pd.Series(out, dtype=float)


def mmd_scores(
    by_account: Mapping[str, np.ndarray],
    *,
    reference_size: int = 512,
    per_account_reference: int = 4,
    n_permutations: int = 200,
    random_state: int = 0,
) -> pd.Series:
    """The MMD window test alone: ``-log10 p`` against a population reference, ties broken by MMD².

    Returned as ranks (1 = least suspicious) of the pair (-log10 p, MMD²), since p-values hit the
    permutation floor for many accounts and only the order matters for a threshold.
    """
    reference = sample_reference(by_account, 2 * reference_size, per_account_reference, random_state)
    results = account_distribution_scores(
        by_account,
        reference,
        n_permutations=n_permutations,
        reference_size=reference_size,
        random_state=random_state,
    )
    accounts = list(results)
    neg_log_p = np.array([-np.log10(results[a].p_value) for a in accounts])
    mmd2 = np.array([results[a].mmd2 for a in accounts])
    mmd2 = np.where(np.isnan(mmd2), -np.inf, mmd2)
    order = np.lexsort((mmd2, neg_log_p))  # last key is primary
    ranks = np.empty(len(accounts))
    ranks[order] = np.arange(1, len(accounts) + 1)
    return pd.Series(ranks, index=accounts, dtype=float)


def embedding_baselines(
    requests: Sequence[str | os.PathLike[str]] | None = None,
    *,
    per_account: int = DEFAULT_PER_ACCOUNT,
    on_progress: Progress | None = None,
) -> dict[str, Baseline]:
    """PRADA, SEAT and the MMD window test as ``eval`` baselines ``(features, work_dir) -> scores``.

    The first baseline called builds the prompt sample in ``work_dir`` (from ``requests``), and the
    others reuse the cached file. Accounts without sampled prompts get the least suspicious score.
    """

    def scored(fn: Callable[[dict[str, np.ndarray]], pd.Series]) -> Baseline:
        def baseline(features: pd.DataFrame, work_dir: str | os.PathLike[str]) -> pd.Series:
            sample = load_or_build_prompt_sample(
                Path(work_dir), requests, per_account=per_account, on_progress=on_progress
            )
            scores = fn(embeddings_by_account(sample))
            floor = float(scores.min()) - 1.0 if len(scores) else 0.0
            return scores.reindex(features["account_id"]).fillna(floor)

        return baseline

    def seat(by_account: dict[str, np.ndarray]) -> pd.Series:
        return seat_scores(by_account, seat_threshold(by_account))

    return {"PRADA": scored(prada_scores), "SEAT": scored(seat), "MMD window test": scored(mmd_scores)}
