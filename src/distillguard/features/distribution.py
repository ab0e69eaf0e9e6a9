"""Kernel two-sample test: do an account's prompts come from a different distribution than the population's?

Each prompt is a sentence embedding (``kernels.embed``). An account's prompts, in time order, are cut
into windows of ``window`` prompts; each window is compared with a fixed reference sample by the
unbiased maximum mean discrepancy (MMD², Gretton et al. 2012) under a Gaussian kernel whose bandwidth
is the median heuristic, and a permutation test gives its p-value. Window p-values are combined with
Simes' test (or Bonferroni), so one call answers "is any part of this account's traffic off-population?"
while the per-window statistics show when it started.

This is the detector of Liu, Guo & Dong (2026), "An Embarrassingly Simple Detector for Model
Extraction Attacks in LLM API Traffic" (arXiv:2606.05725): embed queries, test a traffic window against
benign traffic with MMD. Differences from that paper (its exact kernel and calibration were not
available to us; see docs/distribution-test.md): it calibrates a threshold on benign-vs-benign window
comparisons, we use a per-window permutation test; its windows are large pooled traffic windows
(1,500 queries in its artefact), ours are small per-account windows; its encoder is
bge-small-en-v1.5, ours all-MiniLM-L6-v2.

The reference is meant to be benign traffic, but no labels exist at detection time: callers pass a
sample of all traffic (mostly benign), ideally drawn with :func:`sample_reference`, which caps each
account's share so that a high-volume attacker cannot become "the population".

Cost: fit is one n×n kernel (n = ``reference_size``, ~10 ms for 512×384). Scoring one account of m
prompts (m ≤ ``max_samples``) is one m×(m+n) kernel plus ``n_permutations`` gathers of window² entries
per window: ~5–15 ms for m = 256, window = 32, 200 permutations, independent of the account's volume.
"""

from __future__ import annotations

import zlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from distillguard.scoring.risk import tail_extrapolated_p

Combine = Literal["simes", "bonferroni"]
# Tolerance for "a permuted statistic is at least the observed one": both come from the same float32
# kernel entries summed in float64 along different paths, so exact ties can differ by rounding.
_TIE_TOL = 1e-10


@dataclass(frozen=True)
class WindowStat:
    """The test of one window: its position in the (sub)sampled prompts, size, MMD² and p-value."""

    start: int
    size: int
    mmd2: float
    p_value: float


@dataclass(frozen=True)
class MMDResult:
    """Outcome for one sample: overall MMD², combined p-value and the per-window tests.

    ``mmd2`` is the unbiased MMD² of all the (sub)sampled prompts against the reference: an effect
    size that does not grow with volume. ``p_value`` combines the window p-values (Simes by default);
    it is 1.0 and ``mmd2`` NaN when fewer than two prompts were given. ``n_samples`` counts the
    prompts used after subsampling to ``max_samples``.
    """

    mmd2: float
    p_value: float
    windows: tuple[WindowStat, ...]
    n_samples: int = 0


class MMDWindowTest:
    """Windowed MMD permutation test of samples against a reference sample (scikit-learn style).

    ``window``: prompts per window (the last window absorbs a remainder shorter than ``window``; a
    sample shorter than one window is tested as one window). ``n_permutations``: permutations per
    window, so the smallest attainable window p-value is 1/(n_permutations+1). ``reference_size``:
    reference points kept at fit (a random subset if more are given). ``max_samples``: prompts kept
    per scored sample (a random subset, kept in order), which bounds cost. ``bandwidth``: Gaussian
    kernel width σ in k(x, y) = exp(-|x-y|²/(2σ²)); ``None`` sets it at fit by the median heuristic.
    ``combine``: how window p-values become one (``"simes"`` or ``"bonferroni"``).
    """

    def __init__(
        self,
        window: int = 32,
        n_permutations: int = 200,
        reference_size: int = 512,
        random_state: int | None = 0,
        *,
        max_samples: int = 256,
        bandwidth: float | None = None,
        combine: Combine = "simes",
    ):
        if window < 2:
            raise ValueError(f"window must be >= 2, got {window}")
        if n_permutations < 1:
            raise ValueError(f"n_permutations must be >= 1, got {n_permutations}")
        if reference_size < 2:
            raise ValueError(f"reference_size must be >= 2, got {reference_size}")
        if max_samples < 2:
            raise ValueError(f"max_samples must be >= 2, got {max_samples}")
        if combine not in ("simes", "bonferroni"):
            raise ValueError(f"combine must be 'simes' or 'bonferroni', got {combine!r}")
        if bandwidth is not None and not bandwidth > 0:
            raise ValueError(f"bandwidth must be > 0, got {bandwidth}")
        self.window = window
        self.n_permutations = n_permutations
        self.reference_size = reference_size
        self.random_state = random_state
        self.max_samples = max_samples
        self.bandwidth = bandwidth
        self.combine = combine

    def fit(self, reference_embeddings: np.ndarray) -> MMDWindowTest:
        """Keep up to ``reference_size`` reference rows, set the bandwidth and precompute their kernel."""
        ref = _as_matrix(reference_embeddings, "reference_embeddings")
        if len(ref) < 2:
            raise ValueError("the reference needs at least two rows")
        rng = np.random.default_rng(self.random_state)
        order = rng.permutation(len(ref))
        keep, spare = order[: self.reference_size], order[self.reference_size :]
        self.reference_ = ref[np.sort(keep)]
        d_rr = _sqdist(self.reference_, self.reference_)
        if self.bandwidth is not None:
            self.bandwidth_ = float(self.bandwidth)
        else:
            # Prefer reference rows the test never sees, so the kernel is fixed independently of
            # both compared samples and the permutation test stays exact.
            spare = spare[:512]
            d_bw = _sqdist(ref[spare], ref[spare]) if len(spare) >= 32 else d_rr
            self.bandwidth_ = _median_bandwidth(d_bw)
        self._gamma = 1.0 / (2.0 * self.bandwidth_**2)
        k_rr = np.exp(-self._gamma * d_rr)
        np.fill_diagonal(k_rr, 0.0)
        self._k_rr = k_rr.astype(np.float32)
        self._rr_rowsum = k_rr.sum(axis=1, dtype=np.float64)
        return self

    @property
    def n_features_in_(self) -> int:
        """Embedding width seen at fit."""
        self._check_fitted()
        return int(self.reference_.shape[1])

    def score(self, sample_embeddings: np.ndarray) -> MMDResult:
        """Test one sample (rows in time order) against the reference; deterministic given random_state."""
        return self._score(sample_embeddings, np.random.default_rng(self.random_state))

    def _check_fitted(self) -> None:
        if not hasattr(self, "reference_"):
            raise RuntimeError("MMDWindowTest is not fitted; call fit(reference_embeddings) first")

    def _score(self, sample_embeddings: np.ndarray, rng: np.random.Generator) -> MMDResult:
        self._check_fitted()
        x = _as_matrix(sample_embeddings, "sample_embeddings")
        if x.shape[1] != self.reference_.shape[1]:
            raise ValueError(f"sample has {x.shape[1]} columns, the reference {self.reference_.shape[1]}")
        if len(x) > self.max_samples:
            x = x[np.sort(rng.choice(len(x), self.max_samples, replace=False))]
        m, n = len(x), len(self.reference_)
        if m < 2:
            return MMDResult(float("nan"), 1.0, (), m)

        k_xx = np.exp(-self._gamma * _sqdist(x, x))
        np.fill_diagonal(k_xx, 0.0)
        k_xr = np.exp(-self._gamma * _sqdist(x, self.reference_))
        rr_total = float(self._rr_rowsum.sum())
        overall = _mmd2(k_xx.sum(dtype=np.float64), k_xr.sum(dtype=np.float64), rr_total, m, n)

        # One pooled matrix [sample | reference] serves every window: window w's pooled sample is its
        # own rows plus all reference rows, addressed through an index map into this matrix.
        pooled = np.empty((m + n, m + n), dtype=np.float32)
        pooled[:m, :m] = k_xx
        pooled[:m, m:] = k_xr
        pooled[m:, :m] = k_xr.T
        pooled[m:, m:] = self._k_rr

        bounds = _window_bounds(m, self.window)
        stats: list[WindowStat] = []
        by_size: dict[int, list[tuple[int, int]]] = {}
        for a, b in bounds:
            by_size.setdefault(b - a, []).append((a, b))
        for s, group in by_size.items():
            big_n = s + n
            # The same random splits serve every window of this size: each window's test alone is a
            # uniform permutation test, and shared splits only add positive dependence, which Simes
            # tolerates.
            draws = rng.random((self.n_permutations, big_n)).argpartition(s - 1, axis=1)[:, :s]
            maps = np.stack([np.concatenate([np.arange(a, b), m + np.arange(n)]) for a, b in group])
            rowsums = np.empty((len(group), big_n), dtype=np.float64)
            observed = np.empty(len(group), dtype=np.float64)
            for g, (a, b) in enumerate(group):
                colsum = k_xr[a:b].sum(axis=0, dtype=np.float64)
                s_ww = k_xx[a:b, a:b].sum(dtype=np.float64)
                s_wr = colsum.sum()
                rowsums[g, :s] = k_xx[a:b, a:b].sum(axis=1, dtype=np.float64) + k_xr[a:b].sum(
                    axis=1, dtype=np.float64
                )
                rowsums[g, s:] = self._rr_rowsum + colsum
                observed[g] = _mmd2(s_ww, s_wr, rr_total, s, n)
            totals = rowsums.sum(axis=1)
            idx = maps[:, draws]  # (windows, permutations, s) indices into `pooled`
            s_ii = pooled[idx[..., :, None], idx[..., None, :]].sum(axis=(2, 3), dtype=np.float64)
            a_i = rowsums[:, draws].sum(axis=2)  # row sums of the permuted window's members
            s_ij = a_i - s_ii
            s_jj = totals[:, None] - 2.0 * a_i + s_ii
            perm = s_ii / (s * (s - 1)) + s_jj / (n * (n - 1)) - 2.0 * s_ij / (s * n)
            exceed = (perm >= observed[:, None] - _TIE_TOL).sum(axis=1)
            p = (1.0 + exceed) / (1.0 + self.n_permutations)
            for g, (a, b) in enumerate(group):
                stats.append(WindowStat(a, b - a, float(observed[g]), float(p[g])))
        stats.sort(key=lambda w: w.start)
        p_value = _combine([w.p_value for w in stats], self.combine)
        return MMDResult(float(overall), p_value, tuple(stats), m)


def account_distribution_scores(
    embeddings_by_account: Mapping[str, np.ndarray],
    reference: np.ndarray,
    *,
    window: int = 32,
    n_permutations: int = 200,
    reference_size: int = 512,
    max_samples: int = 256,
    combine: Combine = "simes",
    random_state: int | None = 0,
) -> dict[str, MMDResult]:
    """Fit one MMDWindowTest on ``reference`` and score every account's prompt embeddings (time order).

    Each account gets its own random stream, derived from ``random_state`` and its id, so a result
    does not depend on which other accounts are scored or in what order.
    """
    test = MMDWindowTest(
        window,
        n_permutations,
        reference_size,
        random_state,
        max_samples=max_samples,
        combine=combine,
    ).fit(reference)
    out: dict[str, MMDResult] = {}
    for account, emb in embeddings_by_account.items():
        out[account] = test._score(emb, _account_rng(random_state, account))
    return out


def sample_reference(
    embeddings_by_account: Mapping[str, np.ndarray],
    size: int = 512,
    per_account: int = 4,
    random_state: int | None = 0,
) -> np.ndarray:
    """Draw a reference sample of up to ``size`` rows, at most ``per_account`` from any one account.

    Without labels the reference is all traffic; capping each account's share keeps one
    high-volume account (often the attacker) from defining "normal", and keeps any scored account's
    own prompts a negligible part of the reference it is compared with.
    """
    rng = np.random.default_rng(random_state)
    accounts = sorted(embeddings_by_account)
    rows: list[np.ndarray] = []
    for account in accounts:
        emb = _as_matrix(embeddings_by_account[account], f"embeddings of {account}")
        if len(emb):
            take = min(per_account, len(emb))
            rows.append(emb[rng.choice(len(emb), take, replace=False)])
    if not rows:
        raise ValueError("no embeddings to draw a reference from")
    pool = np.concatenate(rows)
    if len(pool) > size:
        pool = pool[rng.choice(len(pool), size, replace=False)]
    return pool


def _account_rng(random_state: int | None, account: str) -> np.random.Generator:
    if random_state is None:
        return np.random.default_rng()
    return np.random.default_rng([random_state, zlib.crc32(account.encode("utf-8"))])


def _as_matrix(a: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float32)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (rows, features), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _sqdist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = (a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :] - 2.0 * (a @ b.T)
    return np.maximum(d, 0.0)


def _median_bandwidth(sq: np.ndarray) -> float:
    off = sq[np.triu_indices(len(sq), k=1)]
    med = float(np.median(off)) if off.size else 0.0
    if med <= 0.0:
        # Mostly duplicate points: fall back to the mean so the kernel still separates distinct ones.
        med = float(off.mean()) if off.size and off.mean() > 0 else 1.0
    return float(np.sqrt(med))


def _mmd2(s_xx: float, s_xr: float, s_rr: float, m: int, n: int) -> float:
    # Unbiased U-statistic: the within-sample sums exclude the diagonal (already zeroed).
    return s_xx / (m * (m - 1)) + s_rr / (n * (n - 1)) - 2.0 * s_xr / (m * n)


def _window_bounds(m: int, window: int) -> list[tuple[int, int]]:
    if m <= window:
        return [(0, m)]
    count = m // window
    bounds = [(i * window, (i + 1) * window) for i in range(count)]
    bounds[-1] = (bounds[-1][0], m)
    return bounds


def _combine(p_values: list[float], how: Combine) -> float:
    if not p_values:
        return 1.0
    p = np.sort(np.asarray(p_values, dtype=np.float64))
    k = len(p)
    if how == "bonferroni":
        return float(min(1.0, k * p[0]))
    return float(min(1.0, (k * p / np.arange(1, k + 1)).min()))


# ---- Pooled tests of account groups (clusters) ------------------------------------------------------


def cluster_distribution_scores(
    samples: pd.DataFrame,
    groups: Mapping[str, Sequence[str]],
    reference_accounts: Collection[str],
    *,
    max_pooled: int = 256,
    reference_size: int = 512,
    per_account: int = 4,
    n_permutations: int = 200,
    random_state: int = 0,
) -> pd.DataFrame:
    """Test each cluster's pooled prompts against a reference drawn from ``reference_accounts``.

    ``samples`` has one row per sampled prompt (``account_id``, ``ts``, ``embedding``: a 1-D float
    array), e.g. from :func:`distillguard.features.samples.load_or_build_prompt_sample`. A cluster's
    pooled sample takes up to ``max_pooled`` prompts evenly across its members (round robin, so one
    busy member cannot fill it), in time order, and is tested as one window. Returns one row per
    cluster: ``cluster_id, mmd2, p_value, n_samples``.

    The permutation p-value treats prompts as exchangeable. Prompts of one account are not (a user
    has their own topics), so a random group of benign accounts is often "off-population" too; use
    :func:`cluster_null_calibration` for a p-value that is valid for groups of accounts.
    """
    by_account = _sample_matrices(samples)
    test = _fit_reference(
        by_account, reference_accounts, max_pooled, reference_size, per_account, random_state
    )
    test.n_permutations = n_permutations
    rows = []
    for cluster_id, members in groups.items():
        rng = _account_rng(random_state, str(cluster_id))
        pooled = _pool(by_account, members, max_pooled, rng)
        res = test._score(pooled, rng)
        rows.append((str(cluster_id), res.mmd2, res.p_value, res.n_samples))
    return pd.DataFrame(rows, columns=["cluster_id", "mmd2", "p_value", "n_samples"])


def cluster_null_calibration(
    samples: pd.DataFrame,
    groups: Mapping[str, Sequence[str]],
    reference_accounts: Collection[str],
    *,
    n_null: int = 200,
    max_pooled: int = 256,
    reference_size: int = 512,
    per_account: int = 4,
    random_state: int = 0,
) -> pd.DataFrame:
    """Compare each cluster's pooled MMD² with that of random groups of reference accounts of its size.

    The null draws ``n_null`` groups of as many reference accounts as the cluster has members with
    samples, pools them exactly as the cluster is pooled, and computes their MMD² against the same
    reference. ``null_p_value = (1 + #{null MMD² >= observed}) / (1 + n_null)`` is therefore a valid
    p-value whenever the cluster is itself a random group of reference accounts, however unlike the
    population each single account is. Returns ``cluster_id, n_members, mmd2, null_p_value,
    tail_p_value, null_median, null_q95`` per cluster (``tail_p_value`` extrapolates past the largest
    null MMD² with an exponential fit to the null's top decile). Groups of more than ``max_pooled`` members share the null of
    ``max_pooled`` members, since each member then gives at most one prompt either way.
    """
    if n_null < 1:
        raise ValueError(f"n_null must be >= 1, got {n_null}")
    by_account = _sample_matrices(samples)
    test = _fit_reference(
        by_account, reference_accounts, max_pooled, reference_size, per_account, random_state
    )
    pool_accounts = sorted(a for a in set(reference_accounts) if a in by_account)
    nulls: dict[int, np.ndarray] = {}
    rows = []
    for cluster_id, members in groups.items():
        present = [m for m in members if m in by_account]
        rng = _account_rng(random_state, str(cluster_id))
        observed = _pooled_mmd2(test, _pool(by_account, present, max_pooled, rng))
        k = min(len(present), max_pooled, len(pool_accounts))
        if k not in nulls:
            null_rng = np.random.default_rng([random_state, k])
            nulls[k] = np.array(
                [
                    _pooled_mmd2(
                        test,
                        _pool(
                            by_account,
                            [pool_accounts[i] for i in null_rng.choice(len(pool_accounts), k, replace=False)],
                            max_pooled,
                            null_rng,
                        ),
                    )
                    for _ in range(n_null)
                ]
            )
        null = nulls[k]
        valid = null[np.isfinite(null)]
        if not np.isfinite(observed) or not len(valid):
            rows.append((str(cluster_id), len(present), observed, 1.0, 1.0, float("nan"), float("nan")))
            continue
        p = (1.0 + float((valid >= observed - _TIE_TOL).sum())) / (1.0 + len(valid))
        # Past the largest null group the empirical p-value stops at 1/(n_null+1); an exponential fit
        # to the null's top decile extrapolates (as the body test does for its pooled features).
        tail = max(
            float(tail_extrapolated_p(np.sort(valid), np.array([observed]), beyond_only=True)[0]), 1e-12
        )
        rows.append(
            (
                str(cluster_id),
                len(present),
                observed,
                p,
                min(p, tail),
                float(np.median(valid)),
                float(np.quantile(valid, 0.95)),
            )
        )
    return pd.DataFrame(
        rows,
        columns=[
            "cluster_id",
            "n_members",
            "mmd2",
            "null_p_value",
            "tail_p_value",
            "null_median",
            "null_q95",
        ],
    )


def _sample_matrices(samples: pd.DataFrame) -> dict[str, np.ndarray]:
    missing = {"account_id", "ts", "embedding"} - set(samples.columns)
    if missing:
        raise ValueError(f"samples lacks column(s) {sorted(missing)}")
    ordered = samples.sort_values(["account_id", "ts"], kind="stable")
    out: dict[str, np.ndarray] = {}
    for account, rows in ordered.groupby("account_id", sort=True)["embedding"]:
        out[str(account)] = _as_matrix(np.stack(rows.to_numpy()), f"embeddings of {account}")
    return out


def _fit_reference(
    by_account: Mapping[str, np.ndarray],
    reference_accounts: Collection[str],
    max_pooled: int,
    reference_size: int,
    per_account: int,
    random_state: int,
    n_permutations: int = 200,
) -> MMDWindowTest:
    ref_by_account = {a: by_account[a] for a in reference_accounts if a in by_account}
    if not ref_by_account:
        raise ValueError("none of the reference accounts has sampled prompts")
    # Twice the kept size, so the bandwidth is set on reference rows that the test itself never uses.
    reference = sample_reference(ref_by_account, 2 * reference_size, per_account, random_state)
    return MMDWindowTest(
        window=max_pooled,
        n_permutations=n_permutations,
        reference_size=reference_size,
        random_state=random_state,
        max_samples=max_pooled,
    ).fit(reference)


def _pool(
    by_account: Mapping[str, np.ndarray], members: Sequence[str], cap: int, rng: np.random.Generator
) -> np.ndarray:
    """Up to ``cap`` rows taken round robin across members (each member's rows in random order)."""
    picks: list[tuple[int, int, np.ndarray]] = []
    order = rng.permutation(len(members))
    for slot, idx in enumerate(order):
        emb = by_account.get(members[idx])
        if emb is None or not len(emb):
            continue
        for rank, row in enumerate(rng.permutation(len(emb))):
            picks.append((rank, slot, emb[row]))
    if not picks:
        dim = next(iter(by_account.values())).shape[1] if by_account else 0
        return np.zeros((0, dim), dtype=np.float32)
    picks.sort(key=lambda t: (t[0], t[1]))
    return np.stack([row for _, _, row in picks[:cap]])


def _pooled_mmd2(test: MMDWindowTest, x: np.ndarray) -> float:
    """Unbiased MMD² of ``x`` against the fitted reference, without a permutation test."""
    m, n = len(x), len(test.reference_)
    if m < 2:
        return float("nan")
    k_xx = np.exp(-test._gamma * _sqdist(x, x))
    np.fill_diagonal(k_xx, 0.0)
    k_xr = np.exp(-test._gamma * _sqdist(x, test.reference_))
    return _mmd2(k_xx.sum(dtype=np.float64), k_xr.sum(dtype=np.float64), float(test._rr_rowsum.sum()), m, n)
