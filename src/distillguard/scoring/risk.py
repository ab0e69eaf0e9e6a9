"""Calibrated account and cluster risk without attack labels.

How a score becomes a decision at the false-positive rate the user asks for:

1. Every account feature becomes a tail probability against the population itself (rank-based:
   the share of accounts at least as extreme in the feature's suspicious direction).
2. Features are grouped into evidence families (content, templates, behaviour, distribution);
   a family's score is its strongest feature, ``-log10(p)``, so correlated features count once.
3. The account score sums family scores. Its null distribution comes from the traffic itself:
   family scores are permuted independently across accounts, which keeps every single-axis
   extreme (a batch job's volume, a monitor's duty cycle) but breaks the *combinations* that mark
   a campaign. The account threshold is the null's ``1 - fpr`` quantile.
4. A cluster's score is the mean of its members' account scores; its null is the mean over random
   groups of the same size drawn from all accounts. A thin swarm whose members each look mild is
   far above what random groups of hundreds of accounts ever reach.

``risk`` is ``1 - p`` under the relevant null (the larger of account and cluster), so
``flagged = risk >= 1 - fpr``. No labels are read anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from distillguard.features.accounts import ACCOUNT_FEATURES, Feature

FAMILIES = ("content", "templates", "behaviour", "distribution", "linkage")

# Short reason codes a reviewer can read; one per feature.
REASONS = {
    "requests_per_day": "high_volume",
    "output_tokens_per_day": "high_output",
    "hour_coverage": "round_the_clock",
    "active_hour_share": "no_idle_hours",
    "longest_idle_hours": "never_sleeps",
    "hour_entropy": "flat_diurnal",
    "first_day_share": "no_ramp",
    "max_per_minute": "concurrency",
    "param_top_share": "fixed_sampling",
    "single_turn_share": "single_turn",
    "new_model_share": "release_chase",
    "refusal_share": "refusals",
    "ip_diversity": "ip_rotation",
    "ua_diversity": "ua_rotation",
    "extract_share": "extraction_prompts",
    "mean_p_extract": "extraction_prompts",
    "intent_focus": "capability_focus",
    "template_top_share": "template_reuse",
    "template_diversity": "template_reuse",
    "mmd_log_p": "off_distribution",
}


@dataclass
class ScoringConfig:
    """Parameters of the scorer."""

    fpr: float = 0.001
    null_permutations: int = 50
    cluster_draws: int = 20_000
    reason_p: float = 0.02
    features: tuple[Feature, ...] = ACCOUNT_FEATURES
    disabled_families: frozenset[str] = field(default_factory=frozenset)
    random_state: int = 0


def tail_p(values: np.ndarray, direction: int) -> np.ndarray:
    """Share of accounts at least as extreme as each value, in the suspicious direction."""
    x = np.nan_to_num(np.asarray(values, dtype=float) * direction, nan=-np.inf)
    n = len(x)
    if n == 0:
        return np.zeros(0)
    order = np.sort(x)
    # Number of values >= x, counting ties fully (conservative).
    at_least = n - np.searchsorted(order, x, side="left")
    return at_least / n


def family_scores(features: pd.DataFrame, cfg: ScoringConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-account family scores (-log10 of the strongest feature's tail p) and per-feature p-values."""
    pvals = {}
    for f in cfg.features:
        if f.name in features.columns and f.family not in cfg.disabled_families:
            pvals[f.name] = tail_p(features[f.name].to_numpy(), f.direction)
    if "mmd_log_p" in features.columns and "distribution" not in cfg.disabled_families:
        pvals["mmd_log_p"] = tail_p(features["mmd_log_p"].to_numpy(), +1)
    p = pd.DataFrame(pvals, index=features.index)
    fam_of = {f.name: f.family for f in cfg.features} | {"mmd_log_p": "distribution"}
    fams = pd.DataFrame(index=features.index)
    for fam in FAMILIES:
        cols = [c for c in p.columns if fam_of.get(c) == fam]
        if cols:
            fams[fam] = -np.log10(p[cols].min(axis=1).clip(lower=1e-12))
    return fams, p


def null_threshold(fams: pd.DataFrame, cfg: ScoringConfig) -> tuple[float, np.ndarray]:
    """Account-score threshold at 1 - fpr under independently permuted family scores."""
    rng = np.random.default_rng(cfg.random_state)
    values = fams.to_numpy()
    if values.size == 0:
        return float("inf"), np.zeros(0)
    sims = []
    for _ in range(cfg.null_permutations):
        perm = np.column_stack([rng.permutation(values[:, j]) for j in range(values.shape[1])])
        sims.append(perm.sum(axis=1))
    null = np.sort(np.concatenate(sims))
    return float(np.quantile(null, 1 - cfg.fpr)), null


def _null_p(null_sorted: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Upper-tail p-value of each score under a sorted null sample."""
    if len(null_sorted) == 0:
        return np.ones(len(scores))
    above = len(null_sorted) - np.searchsorted(null_sorted, scores, side="left")
    return (above + 1) / (len(null_sorted) + 1)


def cluster_p_values(
    account_scores: np.ndarray, cluster: np.ndarray, cfg: ScoringConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Mean member score per cluster and its p-value against random groups of the same size."""
    rng = np.random.default_rng(cfg.random_state + 1)
    n = len(account_scores)
    ids, inverse, sizes = np.unique(cluster, return_inverse=True, return_counts=True)
    means = np.bincount(inverse, weights=account_scores, minlength=len(ids)) / sizes
    pvals = np.ones(len(ids))
    mu, sd = float(account_scores.mean()) if n else 0.0, float(account_scores.std()) if n else 0.0
    for size in np.unique(sizes):
        if size < 2:
            continue
        which = sizes == size
        if size <= 30:
            draws = np.stack(
                [
                    rng.choice(account_scores, size=size, replace=False).mean()
                    for _ in range(min(cfg.cluster_draws, 4000))
                ]
            )
            null = np.sort(draws)
            pvals[which] = _null_p(null, means[which])
        else:
            # Means of large random groups are close to normal (finite-population corrected).
            se = sd / np.sqrt(size) * np.sqrt(max(0.0, (n - size) / max(1, n - 1)))
            z = (means[which] - mu) / max(se, 1e-12)
            from math import erfc, sqrt

            pvals[which] = [0.5 * erfc(v / sqrt(2)) for v in z]
    return means[inverse], pvals[inverse]


@dataclass
class Scores:
    """The scorer's output per account."""

    table: pd.DataFrame
    account_threshold: float
    p_values: pd.DataFrame


def score_accounts(
    features: pd.DataFrame, clusters: pd.DataFrame, cfg: ScoringConfig | None = None
) -> Scores:
    """Risk, flag and reasons per account from account features and cluster membership."""
    cfg = cfg or ScoringConfig()
    features = features.set_index("account_id", drop=False)
    fams, p = family_scores(features, cfg)
    account_score = fams.sum(axis=1).to_numpy() if len(fams.columns) else np.zeros(len(features))
    threshold, null = null_threshold(fams, cfg)
    p_account = _null_p(null, account_score)
    membership = clusters.set_index("account_id").reindex(features.index)
    cluster_ids = membership["cluster_id"].fillna("").to_numpy()
    sizes = membership["cluster_size"].fillna(1).astype(int).to_numpy()
    codes, cluster_index = np.unique(cluster_ids, return_inverse=True)
    if "linkage" in cfg.disabled_families:
        cluster_mean, p_cluster = account_score, np.ones(len(features))
    else:
        cluster_mean, p_cluster = cluster_p_values(account_score, cluster_index, cfg)
        p_cluster = np.where(sizes >= 2, p_cluster, 1.0)
    p_final = np.minimum(p_account, p_cluster)
    risk = 1.0 - p_final
    flagged = p_final <= cfg.fpr
    reasons = []
    for i, acct in enumerate(features.index):
        row = p.iloc[i]
        codes_i = sorted({REASONS[c] for c in row.index if row[c] <= cfg.reason_p})
        if p_cluster[i] <= cfg.fpr:
            codes_i.append("linked_cluster")
        reasons.append(";".join(codes_i))
    out = pd.DataFrame(
        {
            "account_id": features.index,
            "risk": risk,
            "flagged": flagged.astype(int),
            "account_score": account_score,
            "cluster_id": cluster_ids,
            "cluster_size": sizes,
            "cluster_score": cluster_mean,
            "p_account": p_account,
            "p_cluster": p_cluster,
            "reasons": reasons,
        }
    )
    for fam in fams.columns:
        out[f"family_{fam}"] = fams[fam].to_numpy()
    return Scores(out.reset_index(drop=True), threshold, p)
