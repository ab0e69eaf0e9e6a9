"""Calibrated account and cluster risk without attack labels.

How a score becomes a decision at the false-positive rate the user asks for:

1. Every account feature becomes a tail probability against the population itself (the share of
   accounts at least as extreme in the feature's suspicious direction).
2. Features are grouped into evidence groups that legitimate use does not tie together (activity,
   content, network, distribution). A group's score is ``-log10`` of its strongest
   feature's tail probability, corrected for the number of features in the group, so features
   that move together for benign reasons (a batch job's volume, concurrency and template reuse)
   count once.
3. The account score sums group scores *except the strongest*: no single group can flag an
   account alone, because legitimate heavy users (benchmark harnesses, batch jobs, coding agents)
   are extreme on activity by definition; a harvester is also unusual on a second, independent
   group (its network or its content). Its p-value is its rank among the scores of the *reference
   population* (accounts outside corroborated multi-account clusters), so the legitimate ties
   between groups (a support bot is busy, round the clock and on one prompt) stay in the null. Past
   the reference's largest score an exponential tail fitted to its top decile (peaks over threshold)
   extrapolates, which gives p-values below 1/N to accounts beyond everything the reference holds;
   a reference account's own p-value is never below its rank.
4. A cluster is also judged as one body: its members' traffic, pooled, gets the same features
   compared with random groups of the same size (``scoring.bodies``). A thin swarm whose members
   each look like a person is, as a body, a single-turn harvester with one system prompt.

``risk`` is ``1 - p`` where p is the weighted Bonferroni combination of the account's and its
cluster's p-values (``min(1, p_account / 0.2, p_body / 0.8)``): two tests are run per account, so the
union bound keeps the false-positive rate of either firing at ``fpr``; one account alone gets the
smaller share because the accounts it would flag first are legitimate heavy users. ``flagged = risk >= 1 - fpr``. No labels
are read anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from distillguard.features.accounts import ACCOUNT_FEATURES, Feature

GROUPS = ("activity", "content", "network", "distribution")

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
    "tool_share": "tool_use",
    "new_model_share": "release_chase",
    "refusal_share": "refusals",
    "ips_per_day": "ip_rotation",
    "user_agents": "ua_rotation",
    "system_top_share": "template_reuse",
    "extract_share": "extraction_prompts",
    "mean_p_extract": "extraction_prompts",
    "intent_focus": "capability_focus",
    "template_top_share": "template_reuse",
    "template_diversity": "template_reuse",
    "mmd_log_p": "off_distribution",
}
DISTRIBUTION_FEATURE = Feature(
    "mmd_log_p", "distribution", "distribution", +1, "-log10 p of the MMD window test"
)


@dataclass
class ScoringConfig:
    """Parameters of the scorer."""

    fpr: float = 0.001
    reason_p: float = 0.02
    tail_fraction: float = 0.1  # share of the reference used to fit the score's upper tail
    features: tuple[Feature, ...] = (*ACCOUNT_FEATURES, DISTRIBUTION_FEATURE)
    disabled_families: frozenset[str] = field(default_factory=frozenset)
    random_state: int = 0
    # Share of the false-positive budget spent on the per-account test (the rest goes to bodies):
    # one account alone is the weakest evidence, and the accounts it would flag first are the
    # legitimate heavy users at the top of the population.
    account_share: float = 0.2
    max_outlier_share: float = 0.01  # at most this share of the reference is set aside as outliers

    @property
    def account_alpha(self) -> float:
        """The level the per-account test is flagged at (its share of the budget)."""
        return self.fpr * self.account_share

    @property
    def body_alpha(self) -> float:
        """The level a cluster body is flagged at (the rest of the budget)."""
        return self.fpr * (1.0 - self.account_share)

    def active_features(self, columns: pd.Index) -> list[Feature]:
        """The features present in the data and not switched off."""
        return [f for f in self.features if f.name in columns and f.family not in self.disabled_families]


def tail_p(values: np.ndarray, reference: np.ndarray, direction: int) -> np.ndarray:
    """Share of reference values at least as extreme as each value, in the suspicious direction."""
    ref = np.sort(np.nan_to_num(np.asarray(reference, dtype=float) * direction, nan=-np.inf))
    x = np.nan_to_num(np.asarray(values, dtype=float) * direction, nan=-np.inf)
    if len(ref) == 0:
        return np.ones(len(x))
    at_least = len(ref) - np.searchsorted(ref, x, side="left")
    return np.clip(at_least, 1, None) / len(ref)


def group_scores(
    frame: pd.DataFrame, reference: pd.DataFrame, cfg: ScoringConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-row group scores and per-feature tail p-values, with tails taken against ``reference``."""
    feats = cfg.active_features(reference.columns)
    p = pd.DataFrame(
        {f.name: tail_p(frame[f.name].to_numpy(), reference[f.name].to_numpy(), f.direction) for f in feats},
        index=frame.index,
    )
    groups = pd.DataFrame(index=frame.index)
    for g in GROUPS:
        cols = [f.name for f in feats if f.group == g]
        if cols:
            # Bonferroni over the group's features keeps a group with many features from winning.
            best = (p[cols].min(axis=1) * len(cols)).clip(upper=1.0, lower=1e-12)
            groups[g] = -np.log10(best)
    return groups, p


def trim_outliers(
    ref_sorted: np.ndarray, alpha: float, tail_fraction: float = 0.1, max_share: float = 0.01
) -> np.ndarray:
    """The reference without its significant top outliers (generalised ESD, Rosner 1983).

    A few accounts of one campaign that are not linked to anything (three reseller relays) sit at
    the top of the reference and mask each other: each one's rank is 1/N, 2/N, 3/N. For k = 1..m the
    k-th largest score is tested against the reference without the top k (beyond whose maximum the
    exponential tail extrapolates); the largest k that is significant at ``alpha`` sets how many
    scores are removed. A legitimate heavy user at the top of a population is not beyond it by
    much, so it stays, and keeps its rank.
    """
    n = len(ref_sorted)
    m = min(int(n * max_share), n - 20)
    trimmed = 0
    for k in range(1, m + 1):
        p = tail_extrapolated_p(
            ref_sorted[: n - k], ref_sorted[n - k : n - k + 1], tail_fraction, beyond_only=True
        )
        if p[0] <= alpha:
            trimmed = k
    return ref_sorted[: n - trimmed] if trimmed else ref_sorted


def corroborated_score(groups: pd.DataFrame) -> np.ndarray:
    """Sum of group scores without the strongest group: evidence must come from two groups."""
    if not len(groups.columns):
        return np.zeros(len(groups))
    g = groups.to_numpy(dtype=float)
    return g.sum(axis=1) - g.max(axis=1)


def null_p(null_sorted: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Upper-tail p-value of each score under a sorted null sample."""
    if len(null_sorted) == 0:
        return np.ones(len(scores))
    above = len(null_sorted) - np.searchsorted(null_sorted, scores, side="left")
    return (above + 1) / (len(null_sorted) + 1)


def _tail_model(ref_sorted: np.ndarray, tail_fraction: float) -> tuple[float, float, float]:
    """Exponential upper tail (threshold u, tail mass q, mean excess beta) fitted to the reference."""
    n = len(ref_sorted)
    k = max(5, int(round(n * tail_fraction)))
    if n < 20 or k >= n:
        return float("inf"), 1.0, 1.0
    u = float(ref_sorted[n - k - 1])
    excess = ref_sorted[n - k :] - u
    beta = max(float(excess.mean()), 1e-6)
    return u, k / n, beta


def tail_extrapolated_p(
    ref_sorted: np.ndarray, scores: np.ndarray, tail_fraction: float = 0.1, *, beyond_only: bool = False
) -> np.ndarray:
    """Upper-tail p-values: empirical in the bulk, an exponential fit to the reference's top decile above.

    With fewer than 1/fpr reference accounts the empirical p-value can never reach fpr; extreme-value
    practice (peaks over threshold) fits the tail above the reference's top decile and extrapolates.
    """
    empirical = null_p(ref_sorted, scores)
    u, q, beta = _tail_model(ref_sorted, tail_fraction)
    if not np.isfinite(u):
        return empirical
    s = np.asarray(scores, dtype=float)
    # Below the threshold the model is not used; clipping keeps exp from overflowing there.
    modelled = q * np.exp(np.minimum(-(s - u) / beta, 0.0))
    if beyond_only:
        # Only past the largest reference score, where the empirical p-value has no resolution left.
        return np.where(s > ref_sorted[-1], np.minimum(empirical, modelled), empirical)
    # In the tail the smooth model replaces the few data points there (peaks-over-threshold).
    return np.where(s > u, np.minimum(modelled, q), empirical)


def _score_at_p(ref_sorted: np.ndarray, p: float, tail_fraction: float) -> float:
    """The score whose tail p-value is ``p`` (the account threshold, for reports)."""
    if len(ref_sorted) == 0:
        return float("inf")
    if p * (len(ref_sorted) + 1) >= 1:
        return float(np.quantile(ref_sorted, 1 - p))
    u, q, beta = _tail_model(ref_sorted, tail_fraction)
    return float(u + beta * np.log(q / p)) if np.isfinite(u) else float("inf")


@dataclass
class Scores:
    """The scorer's output."""

    table: pd.DataFrame  # one row per account
    bodies: pd.DataFrame  # one row per cluster of 2+ accounts
    threshold: float


def _reasons(p_row: pd.Series, cfg: ScoringConfig) -> list[str]:
    return sorted({REASONS.get(c, c) for c in p_row.index if p_row[c] <= cfg.reason_p})


def score_accounts(
    features: pd.DataFrame,
    clusters: pd.DataFrame,
    cfg: ScoringConfig | None = None,
    bodies: pd.DataFrame | None = None,
    reference: set[str] | None = None,
) -> Scores:
    """Risk, flag and reasons per account from its features and its cluster's body test (``bodies``).

    ``reference`` names the accounts that stand for the benign population (tails and the null are
    taken over them); by default every account.
    """
    cfg = cfg or ScoringConfig()
    features = features.set_index("account_id", drop=False)
    ref = features if reference is None else features[features.index.isin(reference)]
    if len(ref) < 20:
        ref = features  # too few to estimate a population from; fall back to everyone
    groups, p = group_scores(features, ref, cfg)
    score = corroborated_score(groups)
    # Accounts are judged against the reference population's own scores: legitimate services tie
    # volume, duty cycle and clients together, so a null that assumed the groups independent would
    # flag them; the empirical distribution keeps those ties.
    ref_scores = np.sort(pd.Series(score, index=features.index).loc[ref.index].to_numpy())
    ref_scores = trim_outliers(ref_scores, cfg.account_alpha, cfg.tail_fraction, cfg.max_outlier_share)
    # Inside the reference's range the conformal rank is exact; the exponential tail model only
    # speaks past the reference's largest score, where the rank has no resolution left. A model fitted
    # inside the range would hand the most extreme legitimate service (always a hard negative: a
    # benchmark harness, a batch job) a p-value below 1/N on a shape assumption alone.
    p_account = tail_extrapolated_p(ref_scores, score, cfg.tail_fraction, beyond_only=True)
    threshold = _score_at_p(ref_scores, cfg.account_alpha, cfg.tail_fraction)

    membership = clusters.set_index("account_id").reindex(features.index)
    cluster_ids = membership["cluster_id"].fillna("").to_numpy()
    sizes = membership["cluster_size"].fillna(1).astype(int).to_numpy()
    p_body = np.ones(len(features))
    body_reasons: dict[str, list[str]] = {}
    body_table = (
        bodies
        if bodies is not None
        else pd.DataFrame(columns=["cluster_id", "body_score", "p_body", "body_reasons"])
    )
    if len(body_table):
        lookup = dict(zip(body_table["cluster_id"], body_table["p_body"], strict=True))
        body_reasons = {
            c: [x for x in r.split(";") if x]
            for c, r in zip(body_table["cluster_id"], body_table["body_reasons"], strict=True)
        }
        p_body = np.array(
            [lookup.get(c, 1.0) if s >= 2 else 1.0 for c, s in zip(cluster_ids, sizes, strict=True)]
        )

    # Weighted Bonferroni over the two tests: the budget's shares sum to one, so either firing on a
    # benign account stays at ``fpr``.
    p_final = np.minimum(1.0, np.minimum(p_account / cfg.account_share, p_body / (1.0 - cfg.account_share)))
    flagged = p_final <= cfg.fpr
    reasons = []
    for i in range(len(features)):
        codes = _reasons(p.iloc[i], cfg) if p_account[i] <= 0.05 else []
        if p_body[i] <= cfg.body_alpha:
            codes = sorted(set(codes) | {f"cluster_{c}" for c in body_reasons.get(cluster_ids[i], [])})
            codes.append("linked_cluster")
        reasons.append(";".join(codes))
    out = pd.DataFrame(
        {
            "account_id": features.index,
            "risk": 1.0 - p_final,
            "flagged": flagged.astype(int),
            "account_score": score,
            "p_account": p_account,
            "p_cluster": p_body,
            "cluster_id": cluster_ids,
            "cluster_size": sizes,
            "reasons": reasons,
        }
    )
    for g in groups.columns:
        out[f"group_{g}"] = groups[g].to_numpy()
    return Scores(out.reset_index(drop=True), body_table, threshold)
