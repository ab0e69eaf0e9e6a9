"""PRADA, SEAT and MMD baselines behave as their papers describe; the shared prompt sample is bounded, cached, deterministic."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from distillguard.eval.baselines import (
    embedding_baselines,
    mmd_scores,
    prada_distances,
    prada_scores,
    prada_statistic,
    seat_pair_count,
    seat_scores,
    seat_threshold,
)
from distillguard.eval.run import _at_same_fpr, default_baselines
from distillguard.features.samples import (
    SAMPLE_FILE,
    build_prompt_sample,
    choose_requests,
    embeddings_by_account,
    load_or_build_prompt_sample,
    read_prompt_sample,
    write_prompt_sample,
)
from distillguard.io.readers import ReadError

D = 16


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _natural(rng: np.random.Generator, n: int) -> np.ndarray:
    """Independent draws from one smooth distribution, as a person's varied queries are."""
    return rng.normal(size=(n, D)).astype(np.float32)


def _perturbations(rng: np.random.Generator, n: int, seeds: int = 4, eps: float = 0.05) -> np.ndarray:
    """A few seed queries each followed by small synthetic perturbations (the JbDA-style attacks PRADA targets)."""
    base = rng.normal(size=(seeds, D))
    rows = [base[i // (n // seeds)] + eps * rng.normal(size=D) for i in range(n)]
    return np.asarray(rows, dtype=np.float32)


# ---- PRADA ------------------------------------------------------------------------------------------


def test_prada_natural_stream_is_normal_and_synthetic_perturbations_are_not() -> None:
    rng = np.random.default_rng(0)
    natural = [prada_statistic(_natural(rng, 64)) for _ in range(20)]
    synthetic = [prada_statistic(_perturbations(rng, 64)) for _ in range(20)]
    assert min(natural) > 0.9
    assert max(synthetic) < 0.75
    scores = prada_scores({"natural": _natural(rng, 64), "attack": _perturbations(rng, 64)})
    assert scores["attack"] > scores["natural"]


def test_prada_growing_set_skips_near_duplicates() -> None:
    # The second point is a near copy of the first: it gives a small distance but does not join G,
    # so the third point's distance is measured to the first alone.
    x = np.array([[0.0, 0.0], [0.001, 0.0], [3.0, 4.0], [3.0, 4.0 + 1e-4]])
    d = prada_distances(x)
    assert d[0] == pytest.approx(0.001)
    assert d[1] == pytest.approx(5.0, rel=1e-3)
    assert d[2] == pytest.approx(1e-4, rel=1e-3)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(2, 25), st.just(3)), elements=st.floats(-10, 10)))
def test_prada_distance_is_never_below_the_nearest_earlier_query(x: np.ndarray) -> None:
    d = prada_distances(x)
    assert len(d) == len(x) - 1 and (d >= 0).all()
    for i in range(1, len(x)):
        nearest = np.sqrt(((x[:i] - x[i]) ** 2).sum(axis=1)).min()
        assert d[i - 1] >= nearest - 1e-9  # G is a subset of the earlier queries


def test_prada_too_few_queries_or_no_spread_is_least_suspicious() -> None:
    rng = np.random.default_rng(1)
    assert np.isnan(prada_statistic(_natural(rng, 3)))  # two distances: W undefined
    assert np.isnan(prada_statistic(np.ones((10, D), dtype=np.float32)))  # all distances zero
    scores = prada_scores({"short": _natural(rng, 2), "long": _perturbations(rng, 40)})
    assert scores["short"] == 0.0 and scores["long"] > 0.0
    with pytest.raises(ValueError, match="2-D"):
        prada_distances(np.zeros(5))


# ---- SEAT -------------------------------------------------------------------------------------------


def test_seat_counts_near_duplicate_pairs() -> None:
    rng = np.random.default_rng(2)
    population = {f"a{i}": _unit(_natural(rng, 8)) for i in range(200)}
    tau = seat_threshold(population)
    assert 0.0 < tau < np.sqrt(2.0)
    center = rng.normal(size=D)
    population["dupes"] = _unit(center + 0.01 * rng.normal(size=(8, D)))
    count, closest = seat_pair_count(population["dupes"], tau)
    assert count == 28 and closest < tau  # every one of the 8*7/2 pairs is similar
    scores = seat_scores(population, tau)
    assert scores.idxmax() == "dupes"
    assert (scores.drop("dupes") < 1.0).mean() > 0.9  # natural accounts rarely have a similar pair
    # More similar pairs always outrank fewer, whatever the tie-break.
    half = np.vstack([population["dupes"][:4], _unit(_natural(rng, 4))])
    ranked = seat_scores({"half": half, "all": population["dupes"]}, tau)
    assert ranked["all"] > ranked["half"] >= 6


def test_seat_threshold_input_errors() -> None:
    with pytest.raises(ValueError, match="at least two accounts"):
        seat_threshold({"only": np.eye(3, dtype=np.float32)})
    with pytest.raises(ValueError, match="quantile"):
        seat_threshold({"a": np.eye(3), "b": np.eye(3)}, quantile=1.5)


# ---- MMD window test alone ----------------------------------------------------------------------------


def test_mmd_baseline_ranks_the_off_population_account_first() -> None:
    rng = np.random.default_rng(3)
    accounts = {f"a{i:03d}": _natural(rng, 8) for i in range(150)}
    accounts["shifted"] = _natural(rng, 8) + 1.5
    scores = mmd_scores(accounts, n_permutations=100)
    assert scores.idxmax() == "shifted"
    assert sorted(scores) == list(range(1, len(accounts) + 1))  # a strict order: ties broken by MMD²
    again = mmd_scores(dict(reversed(list(accounts.items()))), n_permutations=100)
    assert again.sort_index().equals(scores.sort_index())  # independent of account order


# ---- the shared prompt sample -------------------------------------------------------------------------


def _index(counts: dict[str, int]) -> pd.DataFrame:
    rows = []
    for account, n in counts.items():
        for i in range(n):
            rows.append(
                (
                    account,
                    f"{account}-r{i:04d}",
                    pd.Timestamp("2026-03-01", tz="UTC") + pd.Timedelta(minutes=i),
                )
            )
    return pd.DataFrame(rows, columns=["account_id", "request_id", "ts"])


@settings(max_examples=30, deadline=None)
@given(st.dictionaries(st.sampled_from(list("abcdef")), st.integers(1, 60), min_size=1), st.integers(1, 10))
def test_choose_requests_is_bounded_spread_and_per_account(counts: dict[str, int], k: int) -> None:
    index = _index(counts)
    chosen = choose_requests(index, k, seed=7)
    for account, n in counts.items():
        mine = chosen[chosen["account_id"] == account]
        assert len(mine) == min(n, k)
        positions = sorted(int(r.rsplit("r", 1)[1]) for r in mine["request_id"])
        # One pick per equal time stratum: exactly one position in each [j*n/k, (j+1)*n/k).
        assert sorted({p * k // n for p in positions}) == sorted(p * k // n for p in positions)
        # The choice for one account does not depend on the others.
        alone = choose_requests(index[index["account_id"] == account], k, seed=7)
        assert alone["request_id"].tolist() == mine["request_id"].tolist()
    assert chosen.equals(choose_requests(index.sample(frac=1.0, random_state=1), k, seed=7))


def test_choose_requests_input_errors() -> None:
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['ts'\]"):
        choose_requests(pd.DataFrame({"account_id": ["a"], "request_id": ["r"]}))
    with pytest.raises(ValueError, match="per_account"):
        choose_requests(_index({"a": 3}), 0)


PROMPTS = {
    "acct_chat": [
        "What should I cook tonight with leftover rice?",
        "Explain how vaccines train the immune system.",
        "Write a haiku about autumn rain.",
        "How do I fix a flat bicycle tyre?",
        "Summarise the plot of Hamlet in three sentences.",
        "What is the capital of Australia and why not Sydney?",
    ],
    "acct_harvest": [
        f"Solve step by step and show all reasoning: what is {i} times {i + 7}?" for i in range(12)
    ],
    "acct_once": ["Translate 'good morning' into French."],
}


def _write_requests(path: Path) -> None:
    with path.open("w", encoding="utf-8") as f:
        for account, prompts in PROMPTS.items():
            for i, text in enumerate(prompts):
                f.write(
                    json.dumps(
                        {
                            "request_id": f"{account}-{i}",
                            "ts": f"2026-03-01T{i:02d}:00:00Z",
                            "account_id": account,
                            "model": "m",
                            "messages": [{"role": "user", "content": text}],
                        }
                    )
                    + "\n"
                )


def test_prompt_sample_is_bounded_cached_and_deterministic(tmp_path: Path) -> None:
    requests = tmp_path / "requests.jsonl"
    _write_requests(requests)
    work = tmp_path / "work"
    phases: list[tuple[str, int, int]] = []
    sample = load_or_build_prompt_sample(
        work, [requests], per_account=4, on_progress=lambda *a: phases.append(a)
    )
    assert sample.groupby("account_id").size().to_dict() == {
        "acct_chat": 4,
        "acct_harvest": 4,
        "acct_once": 1,
    }
    assert ("embedding", 9, 9) in phases and ("reading", 1, 1) in phases
    matrix = np.stack(sample["embedding"].to_numpy())
    assert matrix.shape == (9, 384) and np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-4)
    # Round trip through the cache file, and reuse: a second call embeds nothing.
    cached = work / SAMPLE_FILE
    stamp, reported = cached.stat().st_mtime_ns, len(phases)
    again = load_or_build_prompt_sample(
        work, [requests], per_account=4, on_progress=lambda *a: phases.append(a)
    )
    assert cached.stat().st_mtime_ns == stamp and len(phases) == reported
    assert again[["account_id", "request_id", "ts"]].equals(sample[["account_id", "request_id", "ts"]])
    assert np.array_equal(np.stack(again["embedding"].to_numpy()), matrix)
    # Other parameters make the cache stale; a fresh build chooses the same requests again.
    bigger = load_or_build_prompt_sample(work, [requests], per_account=6)
    assert len(bigger) == 13 and cached.stat().st_mtime_ns != stamp
    rebuilt = build_prompt_sample([requests], per_account=4)
    assert rebuilt["request_id"].tolist() == sample["request_id"].tolist()
    assert np.allclose(np.stack(rebuilt["embedding"].to_numpy()), matrix, atol=1e-5)
    by_account = embeddings_by_account(sample)
    assert {k: len(v) for k, v in by_account.items()} == {"acct_chat": 4, "acct_harvest": 4, "acct_once": 1}


def test_prompt_sample_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="no such file"):
        build_prompt_sample([tmp_path / "requests.jsonl"])
    with pytest.raises(FileNotFoundError, match="no cached prompt sample"):
        load_or_build_prompt_sample(tmp_path, None)
    requests = tmp_path / "requests.jsonl"
    _write_requests(requests)
    with pytest.raises(ValueError, match="not in the requests files"):
        build_prompt_sample(
            [requests], index=pd.DataFrame({"account_id": ["x"], "request_id": ["gone"], "ts": [0]})
        )
    bad = tmp_path / "other.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(bad)
    with pytest.raises(ValueError, match="not a prompt sample"):
        read_prompt_sample(bad)


def test_write_and_read_prompt_sample_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(
        {
            "account_id": ["b", "a", "a"],
            "request_id": ["r1", "r2", "r3"],
            "ts": pd.to_datetime(["2026-03-02", "2026-03-01", "2026-03-03"], utc=True),
            "embedding": list(_unit(rng.normal(size=(3, 384)))),
        }
    )
    write_prompt_sample(frame, tmp_path / "s.parquet", {"per_account": 1})
    back = read_prompt_sample(tmp_path / "s.parquet")
    assert back[["account_id", "request_id"]].equals(frame[["account_id", "request_id"]])
    assert (back["ts"] == frame["ts"]).all()
    assert np.array_equal(np.stack(back["embedding"].to_numpy()), np.stack(frame["embedding"].to_numpy()))


def test_eval_baselines_score_every_account_and_build_the_sample_once(tmp_path: Path) -> None:
    requests = tmp_path / "requests.jsonl"
    _write_requests(requests)
    work = tmp_path / "work"
    features = pd.DataFrame({"account_id": ["acct_chat", "acct_harvest", "acct_once", "acct_silent"]})
    baselines = default_baselines([requests])
    assert {"top-volume", "PRADA", "SEAT", "MMD window test"} <= set(baselines)
    stamps = set()
    for name in ("PRADA", "SEAT", "MMD window test"):
        scores = baselines[name](features, work)
        stamps.add((work / SAMPLE_FILE).stat().st_mtime_ns)
        assert list(scores.index) == features["account_id"].tolist()
        assert scores.notna().all()
        assert scores["acct_silent"] == scores.min()  # no sampled prompts: least suspicious
    assert len(stamps) == 1  # built by the first baseline, read by the others
    # The templated harvester has many near-identical prompts: SEAT counts its pairs above the chat user's.
    seat = embedding_baselines([requests], per_account=8)["SEAT"](features, work)
    assert seat["acct_harvest"] > seat["acct_chat"]
    labels = pd.DataFrame(
        {"account_id": features["account_id"], "label": ["benign", "attack", "benign", "benign"]}
    )
    flagged = _at_same_fpr(seat, labels, 0.0)
    assert flagged.set_index("account_id")["flagged"].to_dict() == {
        "acct_chat": 0,
        "acct_harvest": 1,
        "acct_once": 0,
        "acct_silent": 0,
    }
