"""The scorer's statistical promises: calibration, corroboration and the cluster body test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distillguard.features.accounts import ACCOUNT_FEATURES
from distillguard.scan import corroborated_clusters
from distillguard.scoring.bodies import BODY_FEATURES, HOURS, BodyTest
from distillguard.scoring.risk import (
    ScoringConfig,
    corroborated_score,
    score_accounts,
    tail_extrapolated_p,
    tail_p,
    trim_outliers,
)


@given(
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=50),
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=20),
    st.sampled_from([+1, -1]),
)
@settings(max_examples=200, deadline=None)
def test_tail_p_is_a_probability_and_monotone_in_the_suspicious_direction(
    reference: list[float], values: list[float], direction: int
) -> None:
    p = tail_p(np.array(values), np.array(reference), direction)
    assert ((p > 0) & (p <= 1)).all()
    order = np.argsort(np.array(values) * direction)
    assert (np.diff(p[order]) <= 1e-12).all()


def test_tail_extrapolation_goes_below_one_over_n_only_beyond_the_reference() -> None:
    rng = np.random.default_rng(0)
    ref = np.sort(rng.exponential(1.0, 500))
    inside = tail_extrapolated_p(ref, np.array([ref[250]]), beyond_only=True)
    far = tail_extrapolated_p(ref, np.array([ref[-1] + 20.0]), beyond_only=True)
    assert inside[0] == (250 + 1) / 501
    assert far[0] < 1e-6


def _population(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = {"account_id": [f"a{i:05d}" for i in range(n)]}
    for f in ACCOUNT_FEATURES:
        data[f.name] = rng.lognormal(0.0, 1.0, n)
    return pd.DataFrame(data)


def test_account_risk_is_calibrated_on_a_population_without_attacks() -> None:
    features = _population(20_000, seed=1)
    clusters = pd.DataFrame({"account_id": features["account_id"], "cluster_id": "", "cluster_size": 1})
    out = score_accounts(features, clusters, ScoringConfig(fpr=0.01)).table
    # Two tests per account share the budget (union bound): the flagged share stays at or under fpr.
    assert out["flagged"].mean() <= 0.01 + 0.003
    assert out["flagged"].sum() > 0  # the test is not vacuous: the budget is used


def test_one_evidence_group_alone_never_flags_an_account() -> None:
    groups = pd.DataFrame(
        {"activity": [12.0, 12.0, 0.0], "content": [0.0, 3.0, 0.0], "network": [0.0, 2.0, 0.0]}
    )
    assert corroborated_score(groups).tolist() == [0.0, 5.0, 0.0]
    features = _population(2_000, seed=2)
    activity = [f.name for f in ACCOUNT_FEATURES if f.group == "activity"]
    features.loc[0, activity] = [
        1e9 if f.direction > 0 else 0.0 for f in ACCOUNT_FEATURES if f.group == "activity"
    ]
    clusters = pd.DataFrame({"account_id": features["account_id"], "cluster_id": "", "cluster_size": 1})
    out = score_accounts(features, clusters, ScoringConfig(fpr=0.001)).table
    assert out.loc[0, "flagged"] == 0  # a benchmark harness is extreme on activity and nothing else
    content = [f.name for f in ACCOUNT_FEATURES if f.group in ("content", "network")]
    features.loc[0, content] = [
        1e9 if f.direction > 0 else 0.0 for f in ACCOUNT_FEATURES if f.name in content
    ]
    out = score_accounts(features, clusters, ScoringConfig(fpr=0.001)).table
    assert out.loc[0, "flagged"] == 1


def _aggregates(n: int, seed: int, extract: np.ndarray | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    reqs = rng.integers(20, 200, n)
    frame = {
        "account_id": [f"a{i:05d}" for i in range(n)],
        "n": reqs,
        "n_extract": extract if extract is not None else rng.binomial(reqs, 0.05),
        "n_single": rng.binomial(reqs, 0.5),
        "n_tool": rng.binomial(reqs, 0.1),
        "n_refused": rng.binomial(reqs, 0.01),
        "n_new_model": rng.binomial(reqs, 0.05),
        "distinct_ips": rng.integers(1, 4, n),
        "hours_of_day": rng.integers(1, 25, n),
        "top_template": rng.integers(0, 10_000, n),
        "top_template_n": (reqs * rng.uniform(0.05, 0.3, n)).astype(int),
        "top_param": rng.integers(0, 50, n),
        "top_param_n": (reqs * rng.uniform(0.3, 1.0, n)).astype(int),
        "top_system": rng.integers(0, 2_000, n),
        "top_system_n": (reqs * rng.uniform(0.0, 0.5, n)).astype(int),
    }
    hours = rng.dirichlet(np.ones(HOURS) * 0.5, n) * reqs[:, None]
    for h in range(HOURS):
        frame[f"h{h:02d}"] = hours[:, h]
    return pd.DataFrame(frame)


def test_random_groups_of_the_reference_are_rarely_flagged() -> None:
    agg = _aggregates(3_000, seed=3)
    rng = np.random.default_rng(4)
    groups = {f"g{i}": list(rng.choice(agg["account_id"], size=20, replace=False)) for i in range(200)}
    out = BodyTest(agg, draws=1000, random_state=0).test(groups)
    assert (out["p_body"] <= 0.01).mean() <= 0.03
    assert (out["p_body"] <= 0.2).mean() >= 0.1  # p-values spread: the test is not stuck at 1


def test_an_extraction_body_far_beyond_every_random_group_gets_a_tiny_p_value() -> None:
    agg = _aggregates(3_000, seed=5)
    swarm = list(agg["account_id"][:300])
    agg.loc[:299, "n_extract"] = (agg.loc[:299, "n"] * 0.6).astype(int)
    out = BodyTest(agg, draws=1000, random_state=0, reference=set(agg["account_id"][300:])).test(
        {"swarm": swarm}
    )
    # 1/draws is the most an empirical tail could say; extrapolation says far more.
    assert out.loc[0, "p_body"] < 1e-4
    assert "extract_share" in out.loc[0, "body_reasons"]


def test_a_body_tied_by_one_kind_of_link_must_also_be_extraction_heavy() -> None:
    agg = _aggregates(3_000, seed=6)
    # A coding-agent fleet: one system prompt, all tools, nothing extractive.
    agg.loc[:39, "n_tool"] = agg.loc[:39, "n"]
    agg.loc[:39, "top_system"] = 7
    agg.loc[:39, "top_system_n"] = agg.loc[:39, "n"]
    fleet = list(agg["account_id"][:40])
    test = BodyTest(agg, draws=1000, random_state=0, reference=set(agg["account_id"][40:]))
    corroborated = test.test({"fleet": fleet}).loc[0, "p_body"]
    single = test.test({"fleet": fleet}, single_kind={"fleet"}).loc[0, "p_body"]
    assert corroborated < 1e-4
    assert single > 0.01
    assert set(BODY_FEATURES) >= {"extract_share", "tool_share"}


def _edges(rows: list[tuple[str, str, str]]) -> pa.Table:
    return pa.table(
        {
            "account_id": [r[0] for r in rows],
            "indicator": [r[1] for r in rows],
            "kind": [r[2] for r in rows],
            "weight": [1.0] * len(rows),
            "n_holders": [2] * len(rows),
        }
    )


def test_corroboration_needs_two_kinds_and_lets_suspects_join_on_one() -> None:
    accts = ["c1", "c2", "c3", "bystander"]
    members = pd.DataFrame({"account_id": accts, "cluster_id": "k1", "cluster_size": 4})
    rows = [(a, "pf:card", "payment") for a in ("c1", "c2")]
    rows += [(a, "ip:10.0.0", "network") for a in ("c1", "c2", "c3")]
    rows += [("bystander", "ip:10.0.0", "network")]
    edges = _edges(rows)
    assert corroborated_clusters(members, edges) == {"k1": ["c1", "c2"]}
    assert corroborated_clusters(members, edges, suspect={"c3"}) == {"k1": ["c1", "c2", "c3"]}
    # One kind only: nothing is corroborated at two kinds, everyone who shares it forms the loose body.
    one_kind = _edges([(a, "ip:10.0.0", "network") for a in accts])
    assert corroborated_clusters(members, one_kind) == {}
    assert corroborated_clusters(members, one_kind, min_kinds=1) == {"k1": sorted(accts)}


def test_a_bystander_sharing_one_rare_value_does_not_join_a_loose_body() -> None:
    fleet = [f"s{i:02d}" for i in range(30)]
    members = pd.DataFrame({"account_id": [*fleet, "dev"], "cluster_id": "k1", "cluster_size": 31})
    rows = [(a, "tk:system:persona", "template") for a in fleet]
    rows += [("s00", "tk:user:popular", "template"), ("dev", "tk:user:popular", "template")]
    edges = _edges(rows)
    loose = corroborated_clusters(members, edges, min_kinds=1, min_holder_share=0.1)
    assert loose == {"k1": sorted(fleet)}


def test_a_few_unlinked_outliers_do_not_mask_each_other() -> None:
    rng = np.random.default_rng(7)
    population = rng.gamma(2.0, 0.3, 2_000)
    relays = np.array([population.max() * 3.0, population.max() * 3.1, population.max() * 3.2])
    ref = np.sort(np.concatenate([population, relays]))
    trimmed = trim_outliers(ref, alpha=2e-4)
    assert len(trimmed) == len(population)  # exactly the three relays are set aside
    p = tail_extrapolated_p(trimmed, relays, beyond_only=True)
    assert (p < 2e-4).all()
    # Without outliers nothing is removed: the population's own maximum keeps its rank.
    assert len(trim_outliers(np.sort(population), alpha=2e-4)) == len(population)


def _pooled_one(test: BodyTest, members: np.ndarray) -> dict[str, float]:
    """Reference: a group's pooled features computed directly, one group at a time."""
    n = test.n[members].sum()
    if n <= 0:
        return dict.fromkeys(BODY_FEATURES, 0.0)
    hist = test.hod[members].sum(axis=0)
    p = hist[hist > 0] / hist.sum()
    return {
        "extract_share": test.counts["n_extract"][members].sum() / n,
        "single_turn_share": test.counts["n_single"][members].sum() / n,
        "tool_share": test.counts["n_tool"][members].sum() / n,
        "refusal_share": test.counts["n_refused"][members].sum() / n,
        "template_top_share": np.bincount(test.t_code[members], weights=test.t_n[members]).max() / n,
        "param_top_share": np.bincount(test.p_code[members], weights=test.p_n[members]).max() / n,
        "hour_entropy": float(-(p * np.log(p)).sum()),
        "new_model_share": test.counts["n_new_model"][members].sum() / n,
        "system_top_share": np.bincount(test.s_code[members], weights=test.s_n[members]).max() / n,
        "ips_per_request": test.ips[members].sum() / n,
        "round_the_clock_members": float(test.busy[members].mean()),
    }


def test_vectorised_pooling_matches_one_group_at_a_time() -> None:
    agg = _aggregates(500, seed=8)
    agg.loc[:9, "n"] = 0  # empty accounts pool to zeros
    agg.loc[:9, [f"h{h:02d}" for h in range(HOURS)]] = 0.0
    test = BodyTest(agg)
    rng = np.random.default_rng(9)
    groups = np.stack([rng.choice(500, size=7, replace=False) for _ in range(50)])
    groups[0] = np.arange(7)  # a group of empty accounts only
    many = test.pooled_many(groups)
    for i, g in enumerate(groups):
        one = _pooled_one(test, g)
        for k in BODY_FEATURES:
            assert many.loc[i, k] == pytest.approx(one[k], rel=1e-9, abs=1e-12), (i, k)


def test_loose_bodies_are_corrected_for_how_many_were_tested() -> None:
    agg = _aggregates(3_000, seed=10)
    agg.loc[:7, "n_extract"] = (agg.loc[:7, "n"] * 0.5).astype(int)
    team = list(agg["account_id"][:8])
    test = BodyTest(agg, draws=1000, random_state=0, reference=set(agg["account_id"][8:]))
    alone = test.test({"team": team}, single_kind={"team"}).set_index("cluster_id")["p_body"]
    rng = np.random.default_rng(11)
    others = {f"g{i}": list(rng.choice(agg["account_id"][8:], size=8, replace=False)) for i in range(9)}
    among = test.test({"team": team, **others}, single_kind={"team", *others}).set_index("cluster_id")[
        "p_body"
    ]
    assert among["team"] == pytest.approx(min(1.0, alone["team"] * 10))
