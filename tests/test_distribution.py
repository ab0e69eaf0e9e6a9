"""MMD window test: calibration under the null, power under shifts, windows, determinism, exactness."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from distillguard.features.distribution import (
    MMDResult,
    MMDWindowTest,
    account_distribution_scores,
    cluster_distribution_scores,
    cluster_null_calibration,
    sample_reference,
)

D = 8


def _gauss(rng: np.random.Generator, n: int, shift: float = 0.0, scale: float = 1.0) -> np.ndarray:
    return (rng.normal(size=(n, D)) * scale + shift).astype(np.float32)


def test_null_false_positive_rate_and_uniform_p_values() -> None:
    rng = np.random.default_rng(0)
    p = []
    for rep in range(100):
        test = MMDWindowTest(window=32, n_permutations=100, reference_size=256, random_state=rep)
        test.fit(_gauss(rng, 400))
        p.append(test.score(_gauss(rng, int(rng.integers(20, 100)))).p_value)
    p_arr = np.array(p)
    assert (p_arr <= 0.05).mean() <= 0.1
    assert 0.35 < p_arr.mean() < 0.65  # roughly uniform, not piled up at 0 or 1


@pytest.mark.parametrize(("shift", "scale"), [(0.5, 1.0), (0.0, 0.4)])
def test_shifted_distribution_is_detected(shift: float, scale: float) -> None:
    rng = np.random.default_rng(1)
    test = MMDWindowTest(random_state=0).fit(_gauss(rng, 1000))
    res = test.score(_gauss(rng, 96, shift=shift, scale=scale))
    assert res.p_value < 0.01
    assert res.mmd2 > 0 and all(w.p_value < 0.05 for w in res.windows)
    null = test.score(_gauss(rng, 96))
    assert res.mmd2 > 5 * abs(null.mmd2)


def test_shift_that_starts_mid_account_is_located() -> None:
    rng = np.random.default_rng(2)
    # 500 permutations: with 200, two saturated windows out of five floor Simes at 5/(2*201) > 0.01.
    test = MMDWindowTest(window=32, n_permutations=500, random_state=0).fit(_gauss(rng, 600))
    sample = np.vstack([_gauss(rng, 96), _gauss(rng, 64, shift=1.0)])
    res = test.score(sample)
    assert res.p_value < 0.01
    assert [w.p_value < 0.01 for w in res.windows] == [False, False, False, True, True]


def test_windows_when_sample_is_small_or_uneven() -> None:
    rng = np.random.default_rng(3)
    test = MMDWindowTest(window=32, n_permutations=50, random_state=0).fit(_gauss(rng, 300))
    small = test.score(_gauss(rng, 10))
    assert [(w.start, w.size) for w in small.windows] == [(0, 10)] and small.n_samples == 10
    uneven = test.score(_gauss(rng, 70))
    assert [(w.start, w.size) for w in uneven.windows] == [(0, 32), (32, 38)]
    for degenerate in (_gauss(rng, 1), np.empty((0, D), dtype=np.float32)):
        res = test.score(degenerate)
        assert np.isnan(res.mmd2) and res.p_value == 1.0 and res.windows == ()


def test_max_samples_bounds_the_work() -> None:
    rng = np.random.default_rng(4)
    test = MMDWindowTest(window=32, n_permutations=20, max_samples=100, random_state=0).fit(_gauss(rng, 300))
    res = test.score(_gauss(rng, 5000))
    assert res.n_samples == 100 and sum(w.size for w in res.windows) == 100


def test_deterministic_with_random_state() -> None:
    rng = np.random.default_rng(5)
    ref, x = _gauss(rng, 700), _gauss(rng, 300, shift=0.1)

    def run(seed: int) -> MMDResult:
        return MMDWindowTest(max_samples=128, random_state=seed).fit(ref).score(x)

    assert run(7) == run(7)
    test = MMDWindowTest(random_state=7).fit(ref)
    assert test.score(x) == test.score(x)  # repeated calls do not consume shared state
    assert run(7) != run(8)


def test_permutation_p_values_match_brute_force() -> None:
    rng = np.random.default_rng(6)
    test = MMDWindowTest(window=10, n_permutations=40, reference_size=60, random_state=3).fit(_gauss(rng, 60))
    x = _gauss(rng, 25, shift=0.3)
    res = test.score(x)
    ref, gamma = test.reference_, 1.0 / (2.0 * test.bandwidth_**2)

    def mmd2(a: np.ndarray, b: np.ndarray) -> float:
        def k(u: np.ndarray, v: np.ndarray) -> np.ndarray:
            return np.exp(-gamma * ((u[:, None, :] - v[None, :, :]) ** 2).sum(-1))

        kaa, kbb = k(a, a), k(b, b)
        m, n = len(a), len(b)
        return float(
            (kaa.sum() - np.trace(kaa)) / (m * (m - 1))
            + (kbb.sum() - np.trace(kbb)) / (n * (n - 1))
            - 2 * k(a, b).mean()
        )

    assert res.mmd2 == pytest.approx(mmd2(x, ref), abs=1e-6)
    replay = np.random.default_rng(3)  # score() draws splits per window size, smallest-start first
    for w in res.windows:
        draws = replay.random((40, w.size + len(ref))).argpartition(w.size - 1, axis=1)[:, : w.size]
        pooled = np.vstack([x[w.start : w.start + w.size], ref])
        observed = mmd2(pooled[: w.size], ref)
        perms = []
        for d in draws:
            inside = np.zeros(len(pooled), dtype=bool)
            inside[d] = True
            perms.append(mmd2(pooled[inside], pooled[~inside]))
        assert w.mmd2 == pytest.approx(observed, abs=1e-6)
        assert w.p_value == pytest.approx((1 + sum(p >= observed - 1e-9 for p in perms)) / 41)


def test_simes_is_never_worse_than_bonferroni() -> None:
    rng = np.random.default_rng(7)
    ref, x = _gauss(rng, 500), _gauss(rng, 128, shift=0.2)
    simes = MMDWindowTest(random_state=0).fit(ref).score(x)
    bonf = MMDWindowTest(random_state=0, combine="bonferroni").fit(ref).score(x)
    assert simes.windows == bonf.windows
    assert simes.p_value <= bonf.p_value
    assert bonf.p_value == pytest.approx(min(1.0, 4 * min(w.p_value for w in bonf.windows)))


def test_account_scores_flag_the_shifted_account_and_ignore_order() -> None:
    rng = np.random.default_rng(8)
    accounts = {f"benign{i}": _gauss(rng, int(rng.integers(5, 80))) for i in range(6)}
    accounts["attacker"] = _gauss(rng, 200, shift=0.6)
    reference = sample_reference(accounts, size=256, per_account=40, random_state=0)
    scores = account_distribution_scores(accounts, reference, n_permutations=100)
    assert set(scores) == set(accounts)
    assert scores["attacker"].p_value < 0.01
    assert min(r.p_value for a, r in scores.items() if a != "attacker") > 0.01
    alone = account_distribution_scores({"benign3": accounts["benign3"]}, reference, n_permutations=100)
    assert alone["benign3"] == scores["benign3"]


def test_sample_reference_caps_each_account() -> None:
    accounts = {"big": np.full((1000, D), 1.0, dtype=np.float32)}
    accounts |= {f"a{i}": np.full((3, D), float(-i - 2), dtype=np.float32) for i in range(10)}
    ref = sample_reference(accounts, size=100, per_account=4, random_state=0)
    assert len(ref) == 4 + 10 * 3
    assert (ref[:, 0] == 1.0).sum() == 4
    assert len(sample_reference(accounts, size=10, per_account=4)) == 10


def test_input_validation() -> None:
    rng = np.random.default_rng(9)
    with pytest.raises(RuntimeError, match="not fitted"):
        MMDWindowTest().score(_gauss(rng, 10))
    test = MMDWindowTest().fit(_gauss(rng, 50))
    with pytest.raises(ValueError, match="columns"):
        test.score(rng.normal(size=(10, D + 1)))
    with pytest.raises(ValueError, match="NaN"):
        test.score(np.full((10, D), np.nan))
    with pytest.raises(ValueError):
        MMDWindowTest(window=1)
    with pytest.raises(ValueError):
        MMDWindowTest(combine="fisher")  # type: ignore[arg-type]


# ---- pooled tests of account groups -------------------------------------------------------------------


def _population(rng: np.random.Generator, accounts: int = 300, per_account: int = 8) -> pd.DataFrame:
    """Accounts that each ask about their own topic (a centre of their own), as real users do."""
    rows = []
    for a in range(accounts):
        centre = rng.normal(size=D)
        for i in range(per_account):
            rows.append(
                (
                    f"u{a:03d}",
                    pd.Timestamp("2026-03-01", tz="UTC") + pd.Timedelta(hours=i),
                    centre + 0.5 * rng.normal(size=D),
                )
            )
    return pd.DataFrame(rows, columns=["account_id", "ts", "embedding"])


def test_cluster_null_is_calibrated_for_random_groups_of_reference_accounts() -> None:
    rng = np.random.default_rng(10)
    samples = _population(rng)
    accounts = sorted(samples["account_id"].unique())
    groups = {f"g{i}": list(rng.choice(accounts, size=(3, 8, 20)[i % 3], replace=False)) for i in range(90)}
    calibrated = cluster_null_calibration(samples, groups, set(accounts), n_null=200)
    p = calibrated["null_p_value"].to_numpy()
    assert (p <= 0.05).mean() <= 0.08
    assert 0.35 < p.mean() < 0.65
    assert (calibrated["n_members"] == [(3, 8, 20)[i % 3] for i in range(90)]).all()
    # The prompt-level permutation test is not valid here: accounts are not random draws of the
    # population, so random benign groups look "off-population". This is why the null exists.
    naive = cluster_distribution_scores(
        samples, dict(list(groups.items())[:30]), set(accounts), n_permutations=100
    )
    assert (naive["p_value"] <= 0.05).mean() > 0.3
    assert set(naive.columns) == {"cluster_id", "mmd2", "p_value", "n_samples"}


def test_cluster_null_flags_a_focused_campaign_and_pools_members_evenly() -> None:
    rng = np.random.default_rng(11)
    samples = _population(rng)
    topic = rng.normal(size=D)
    campaign = [
        (
            f"c{a:02d}",
            pd.Timestamp("2026-03-02", tz="UTC") + pd.Timedelta(minutes=i),
            topic + 0.8 * rng.normal(size=D),
        )
        for a in range(20)
        for i in range(8 if a else 200)  # one busy member with 200 prompts
    ]
    samples = pd.concat([samples, pd.DataFrame(campaign, columns=samples.columns)], ignore_index=True)
    reference = set(samples["account_id"])  # unlabelled: the campaign is part of the reference too
    members = [f"c{a:02d}" for a in range(20)]
    benign = list(rng.choice(sorted(a for a in reference if a.startswith("u")), 20, replace=False))
    groups = {"campaign": members, "benign": benign}
    result = cluster_null_calibration(samples, groups, reference, n_null=200).set_index("cluster_id")
    assert result.loc["campaign", "null_p_value"] <= 1 / 201 + 1e-12
    assert result.loc["campaign", "mmd2"] > result.loc["campaign", "null_q95"]
    assert result.loc["benign", "null_p_value"] > 0.05
    scored = cluster_distribution_scores(samples, groups, reference, max_pooled=64).set_index("cluster_id")
    # 20 members share 64 slots: the busy member gets its even share (4), not the whole sample.
    assert scored.loc["campaign", "n_samples"] == 64
    again = cluster_distribution_scores(samples, groups, reference, max_pooled=64).set_index("cluster_id")
    assert again.equals(scored)


def test_cluster_functions_reject_bad_input() -> None:
    rng = np.random.default_rng(12)
    samples = _population(rng, accounts=20)
    with pytest.raises(ValueError, match="none of the reference accounts"):
        cluster_null_calibration(samples, {"g": ["u001"]}, {"nobody"})
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['embedding'\]"):
        cluster_distribution_scores(samples.drop(columns="embedding"), {"g": ["u001"]}, {"u001"})
    with pytest.raises(ValueError, match="n_null"):
        cluster_null_calibration(samples, {"g": ["u001"]}, {"u001"}, n_null=0)
    empty = cluster_null_calibration(samples, {"g": ["missing"]}, set(samples["account_id"]), n_null=10)
    assert empty.loc[0, "null_p_value"] == 1.0 and empty.loc[0, "n_members"] == 0
