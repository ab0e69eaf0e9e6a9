"""The simulator's promise to detectors: ground truth is hidden in combinations, never in one field."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from distillguard.simulate.engine import run_simulation


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mixed")
    run_simulation("mixed", out, days=2, scale=0.25, seed=7)
    return out


def _labels(out: Path) -> dict[str, dict]:
    return {r["account_id"]: r for r in map(json.loads, (out / "labels.jsonl").read_text().splitlines())}


def _per_account(out: Path) -> dict[str, dict[str, Counter]]:
    """For each account, a Counter of values per field, over all its requests."""
    t = pq.read_table(out / "requests.parquet")
    cols = {
        "user_agent": t["user_agent"].to_pylist(),
        "model": t["model"].to_pylist(),
        "endpoint": t["endpoint"].to_pylist(),
        "status": t["status"].to_pylist(),
        "ip_prefix": [ip.rsplit(".", 2)[0] if ip and "." in ip else "v6" for ip in t["ip"].to_pylist()],
    }
    params = t["params"].to_pylist()
    for key in ("temperature", "max_tokens", "reasoning_effort", "stream", "tools", "n"):
        cols[key] = [(p or {}).get(key) for p in params]
    accounts = t["account_id"].to_pylist()
    out_: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for i, acct in enumerate(accounts):
        for key, values in cols.items():
            out_[acct][key][values[i]] += 1
    return out_


def _best_lookup(values: dict[str, object], attack: set[str]) -> tuple[float, float]:
    """Recall and FPR of 'flag an account when most OTHER accounts with its value are attack' (leave one out)."""
    by_value: dict[object, list[str]] = defaultdict(list)
    for acct, v in values.items():
        by_value[v].append(acct)
    flagged = set()
    for accts in by_value.values():
        n_attack = sum(a in attack for a in accts)
        for a in accts:
            others, others_attack = len(accts) - 1, n_attack - (a in attack)
            if others and others_attack / others >= 0.5:
                flagged.add(a)
    benign = set(values) - attack
    recall = len(flagged & attack) / max(1, len(attack))
    fpr = len(flagged & benign) / max(1, len(benign))
    return recall, fpr


def test_no_single_field_separates_attack_from_benign(mixed: Path) -> None:
    labels = _labels(mixed)
    attack = {a for a, r in labels.items() if r["label"] == "attack"}
    accounts = pq.read_table(mixed / "accounts.parquet").to_pylist()
    fields: dict[str, dict[str, object]] = defaultdict(dict)
    for row in accounts:
        for key in ("tier", "country", "email_domain", "verified", "payment_fingerprint"):
            fields[key][row["account_id"]] = row[key]
    for acct, per_field in _per_account(mixed).items():
        for key, counter in per_field.items():
            fields[key][acct] = counter.most_common(1)[0][0]
    seen = {a for a in fields["model"]}
    for key, values in fields.items():
        values = {a: v for a, v in values.items() if a in seen}
        recall, fpr = _best_lookup(values, attack & seen)
        assert not (recall >= 0.9 and fpr <= 0.01), (
            f"{key} alone separates: recall {recall:.2f}, fpr {fpr:.3f}"
        )


def test_no_volume_threshold_separates(mixed: Path) -> None:
    labels = _labels(mixed)
    t = pq.read_table(mixed / "requests.parquet", columns=["account_id"])
    counts = Counter(t["account_id"].to_pylist())
    vol = np.array([counts[a] for a in labels])
    is_attack = np.array([labels[a]["label"] == "attack" for a in labels])
    for thr in np.unique(vol):
        flagged = vol >= thr
        recall = (flagged & is_attack).sum() / is_attack.sum()
        fpr = (flagged & ~is_attack).sum() / (~is_attack).sum()
        assert not (recall >= 0.9 and fpr <= 0.01), f"volume >= {thr} separates"


STEPWISE = re.compile(r"step[- ]by[- ]step|one step at a time|in clear steps|show all the steps")


def test_hard_negatives_share_the_attack_signals(mixed: Path) -> None:
    """Each axis an attack shows is also shown by some benign persona."""
    labels = _labels(mixed)
    t = pq.read_table(mixed / "requests.parquet", columns=["account_id", "messages"]).to_pylist()
    step_by_step = Counter()
    for row in t:
        text = " ".join(m["content"] for m in row["messages"]).lower()
        if STEPWISE.search(text):
            step_by_step[labels[row["account_id"]]["persona"]] += 1
    # Benign personas ask for step-by-step reasoning too.
    assert {"benchmark_harness", "classroom", "tutoring_app"} <= set(step_by_step)
    accounts = pq.read_table(mixed / "accounts.parquet").to_pylist()
    shared = defaultdict(set)
    for row in accounts:
        shared[row["payment_fingerprint"]].add(labels[row["account_id"]]["label"])
    multi = [
        labels_
        for fp, labels_ in shared.items()
        if sum(1 for r in accounts if r["payment_fingerprint"] == fp) > 2
    ]
    assert any(x == {"benign"} for x in multi), "benign teams share cards"
    assert any(x == {"attack"} for x in multi), "some campaigns share cards"
