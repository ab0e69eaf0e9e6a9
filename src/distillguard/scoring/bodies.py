"""Is a cluster, pooled into one body, unusual for a random group of accounts of its size?

A thin swarm's accounts each look like a person; pooled, they are a harvester with one template,
no conversations and a flat daily profile. The test compares a cluster's pooled features with
those of random groups of the same size drawn from all accounts (a permutation test: no labels,
calibrated on the traffic itself), and combines the features' tail probabilities into one score
whose p-value comes from the same random groups.

Pooled features are built from additive per-account aggregates (request counts, hour-of-day
histograms, counts of extraction, single-turn and refused requests, top template and top
sampling settings), so a random group costs one vectorised sum: thousands of draws take seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from ibis import _

from distillguard.scoring.risk import null_p, tail_extrapolated_p

HOURS = 24
BODY_COLUMNS = ["cluster_id", "body_score", "p_body", "p_pooled", "p_content", "loose", "body_reasons"]
# Floor of one pooled feature's tail probability, so one feature cannot reach an infinite score.
MIN_FEATURE_P = 1e-12

# Pooled feature -> (suspicious direction, signal family it belongs to for ablations).
BODY_FEATURES: dict[str, tuple[int, str]] = {
    "extract_share": (+1, "content"),
    "single_turn_share": (+1, "behaviour"),
    "tool_share": (+1, "behaviour"),
    "refusal_share": (+1, "behaviour"),
    "template_top_share": (+1, "templates"),
    "param_top_share": (+1, "behaviour"),
    "hour_entropy": (+1, "behaviour"),
    "new_model_share": (+1, "behaviour"),
    "system_top_share": (+1, "templates"),
    "ips_per_request": (+1, "behaviour"),
    # Share of members active in most hours of the day. Unlike the pooled hour histogram, which one
    # busy bot in a random group dominates, this counts accounts: a pool's members all run day and night.
    "round_the_clock_members": (+1, "behaviour"),
}
ROUND_THE_CLOCK_HOURS = 18


def account_aggregates(r: ir.Table, new_model: str | None = None) -> ir.Table:
    """Additive per-account counts that pooled features are computed from."""
    hod = {f"h{h:02d}": (r.hod == h).cast("int64").sum() for h in range(HOURS)}
    base = r.group_by("account_id").aggregate(
        n=_.count(),
        n_extract=_.is_extract.sum(),
        n_single=_.is_single.sum(),
        n_tool=_.is_tool.sum(),
        n_refused=_.is_refused.sum(),
        n_new_model=(_.model == (new_model or "")).cast("int64").sum(),
        distinct_ips=_.ip.nunique(),
        hours_of_day=_.hod.nunique(),
        **hod,
    )
    tmpl = r.group_by(["account_id", "template_id"]).aggregate(c=_.count())
    w = ibis.window(group_by="account_id", order_by=[tmpl.c.desc(), tmpl.template_id])
    top_t = tmpl.mutate(rn=ibis.row_number().over(w)).filter(_.rn == 0)
    top_t = top_t.select(account_id=top_t.account_id, top_template=top_t.template_id, top_template_n=top_t.c)
    par = r.group_by(["account_id", "param_combo"]).aggregate(c=_.count())
    w2 = ibis.window(group_by="account_id", order_by=[par.c.desc(), par.param_combo])
    top_p = par.mutate(rn=ibis.row_number().over(w2)).filter(_.rn == 0)
    top_p = top_p.select(account_id=top_p.account_id, top_param=top_p.param_combo, top_param_n=top_p.c)
    sysp = r.filter(r.system_id != 0).group_by(["account_id", "system_id"]).aggregate(c=_.count())
    w3 = ibis.window(group_by="account_id", order_by=[sysp.c.desc(), sysp.system_id])
    top_s = sysp.mutate(rn=ibis.row_number().over(w3)).filter(_.rn == 0)
    top_s = top_s.select(account_id=top_s.account_id, top_system=top_s.system_id, top_system_n=top_s.c)
    joined = base.join(top_t, "account_id").join(top_p, "account_id")
    joined = joined.left_join(top_s, joined.account_id == top_s.account_id).drop("account_id_right")
    return joined.mutate(
        top_system=joined.top_system.fill_null(0), top_system_n=joined.top_system_n.fill_null(0)
    )


def _top_sums(codes: np.ndarray, weights: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Per row of ``groups``: the largest total weight of one code among the row's accounts."""
    d, size = groups.shape
    k = int(codes.max()) + 1 if len(codes) else 1
    keys = (np.repeat(np.arange(d, dtype=np.int64), size) * k + codes[groups].ravel()).astype(np.int64)
    order = np.argsort(keys, kind="stable")
    keys, w = keys[order], weights[groups].ravel()[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    sums = np.add.reduceat(w, starts)
    out = np.zeros(d)
    np.maximum.at(out, keys[starts] // k, sums)
    return out


@dataclass
class BodyTest:
    """Pooled-feature permutation test over a fixed population of accounts."""

    aggregates: pd.DataFrame
    draws: int = 2000
    random_state: int = 0
    reference: set[str] | None = None  # accounts random groups are drawn from (default: all)
    disabled: frozenset[str] = frozenset()  # signal families left out (ablation)

    def __post_init__(self) -> None:
        a = self.aggregates.reset_index(drop=True)
        self.index = {acct: i for i, acct in enumerate(a["account_id"])}
        self.n = a["n"].to_numpy(float)
        self.counts = {
            k: a[k].to_numpy(float) for k in ("n_extract", "n_single", "n_refused", "n_new_model", "n_tool")
        }
        self.hod = a[[f"h{h:02d}" for h in range(HOURS)]].to_numpy(float)
        self.t_code = pd.factorize(a["top_template"])[0]
        self.t_n = a["top_template_n"].to_numpy(float)
        self.p_code = pd.factorize(a["top_param"])[0]
        self.p_n = a["top_param_n"].to_numpy(float)
        self.s_code = pd.factorize(a["top_system"])[0]
        self.s_n = np.where(a["top_system"].to_numpy() == 0, 0.0, a["top_system_n"].to_numpy(float))
        self.ips = a["distinct_ips"].to_numpy(float)
        self.busy = (a["hours_of_day"].to_numpy(float) >= ROUND_THE_CLOCK_HOURS).astype(float)

    def pooled_many(self, groups: np.ndarray) -> pd.DataFrame:
        """Pooled features of many groups of one size at once (rows of ``groups``: account positions).

        Computed in chunks of whole arrays, so that thousands of random groups cost a few vectorised
        passes instead of a Python loop; a group with no traffic pools to zeros.
        """
        d, size = groups.shape
        if size == 0:
            return pd.DataFrame(0.0, index=range(d), columns=list(BODY_FEATURES))
        chunk = max(1, 2_000_000 // max(size, 1))
        parts = []
        for start in range(0, d, chunk):
            idx = groups[start : start + chunk]
            n = self.n[idx].sum(axis=1)
            safe = np.where(n > 0, n, 1.0)
            hist = self.hod[idx].sum(axis=1)
            total = hist.sum(axis=1, keepdims=True)
            p = hist / np.where(total > 0, total, 1.0)
            entropy = -np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0).sum(axis=1)
            frame = {
                "extract_share": self.counts["n_extract"][idx].sum(axis=1) / safe,
                "single_turn_share": self.counts["n_single"][idx].sum(axis=1) / safe,
                "tool_share": self.counts["n_tool"][idx].sum(axis=1) / safe,
                "refusal_share": self.counts["n_refused"][idx].sum(axis=1) / safe,
                "template_top_share": _top_sums(self.t_code, self.t_n, idx) / safe,
                "param_top_share": _top_sums(self.p_code, self.p_n, idx) / safe,
                "hour_entropy": entropy,
                "new_model_share": self.counts["n_new_model"][idx].sum(axis=1) / safe,
                "system_top_share": _top_sums(self.s_code, self.s_n, idx) / safe,
                "ips_per_request": self.ips[idx].sum(axis=1) / safe,
                "round_the_clock_members": self.busy[idx].mean(axis=1),
            }
            block = pd.DataFrame(frame)
            block[n <= 0] = 0.0
            parts.append(block)
        return pd.concat(parts, ignore_index=True)[list(BODY_FEATURES)]

    def test(self, clusters: dict[str, list[str]], single_kind: set[str] | None = None) -> pd.DataFrame:
        """Score and p-value of each cluster against random groups of its size.

        Clusters in ``single_kind`` are tied by one kind of link only, which benign accounts also
        share (a public benchmark's prompts, an agent framework's system prompt): such a body must
        also be unusual in its share of extraction prompts, and its p-value is multiplied by the
        number of such bodies tested.
        """
        single_kind = single_kind or set()
        # Loose bodies are many (every template shared by a few accounts makes one) and homogeneous by
        # construction, so their tests are corrected for how many were run (Bonferroni): a benign team
        # of four that shares a synthetic-data template is, among fifty such bodies, not unusual.
        n_loose = max(1, sum(1 for c in clusters if c in single_kind and len(clusters[c]) >= 2))
        rng = np.random.default_rng(self.random_state)
        pool = (
            np.array([self.index[a] for a in self.reference if a in self.index])
            if self.reference is not None
            else np.arange(len(self.n))
        )
        pool.sort()
        total = len(pool)
        rows = []
        by_size: dict[int, list[str]] = {}
        for cid, accts in clusters.items():
            by_size.setdefault(len(accts), []).append(cid)
        for size, cids in sorted(by_size.items()):
            if size < 2 or size >= total:
                for cid in cids:
                    rows.append(
                        {
                            "cluster_id": cid,
                            "body_score": 0.0,
                            "p_body": 1.0,
                            "p_pooled": 1.0,
                            "p_content": 1.0,
                            "loose": cid in single_kind,
                            "body_reasons": "",
                        }
                    )
                continue
            draws = np.stack([rng.choice(pool, size=size, replace=False) for _ in range(self.draws)])
            null = self.pooled_many(draws)
            null_sorted = np.sort(_score(self._tails(null, null, self.features), len(null)))
            observed = pd.concat(
                [
                    self.pooled_many(
                        np.array([[self.index[a] for a in clusters[c] if a in self.index]], dtype=int)
                    )
                    for c in cids
                ],
                ignore_index=True,
            )
            tails = self._tails(observed, null, self.features)
            scores = _score(tails, len(observed))
            pvals = tail_extrapolated_p(null_sorted, scores, beyond_only=True)
            for i, cid in enumerate(cids):
                strong = [k for k in self.features if tails[k][i] <= 0.01]
                pooled = float(pvals[i])
                content = float(tails["extract_share"][i]) if "extract_share" in tails else 1.0
                p = min(1.0, max(pooled, content) * n_loose) if cid in single_kind else pooled
                rows.append(
                    {
                        "cluster_id": cid,
                        "body_score": float(scores[i]),
                        "p_body": p,
                        "p_pooled": pooled,
                        "p_content": content,
                        "loose": cid in single_kind,
                        "body_reasons": ";".join(strong),
                    }
                )
        return pd.DataFrame(rows, columns=BODY_COLUMNS)

    @property
    def features(self) -> list[str]:
        """The pooled features in use (those of switched-off families are left out)."""
        return [k for k, (_, family) in BODY_FEATURES.items() if family not in self.disabled]

    @staticmethod
    def _tails(frame: pd.DataFrame, null: pd.DataFrame, features: list[str]) -> dict[str, np.ndarray]:
        out = {}
        for k in features:
            d = BODY_FEATURES[k][0]
            ref = np.sort(null[k].to_numpy() * d)
            x = frame[k].to_numpy() * d
            # Past the largest random group the empirical tail has no resolution left (1/draws): a
            # 300-account body that is 60% extraction prompts, where random bodies of 300 never pass
            # 10%, is far stronger evidence than "beyond all draws". An exponential fit to the null's
            # top decile extrapolates; where that decile is degenerate (a share that is almost always
            # zero) there is no tail to fit and the empirical value stands.
            top = ref[-max(5, len(ref) // 10) :]
            fitted = len(np.unique(top)) >= 5
            p = tail_extrapolated_p(ref, x, beyond_only=True) if fitted else null_p(ref, x)
            out[k] = np.maximum(p, MIN_FEATURE_P)
        return out


def _score(tails: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Each of ``n`` bodies' score: the sum of its pooled features' ``-log10`` tail probabilities."""
    return sum((-np.log10(t) for t in tails.values()), np.zeros(n))
