"""``distillguard policy test``: replay traffic logs through a policy and report who it would touch.

Requests are replayed in time order through the same ``DecisionEngine`` the online service runs,
with the log's timestamps as the clock, in-process window state and a throw-away in-memory
enforcement database. Signals come from the batch kernels (``intent_scores`` and
``template_keys``) over each batch, which give the same values as the online path (tested).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from distillguard.io.readers import Issue, read_batches
from distillguard.io.schema import REQUESTS
from distillguard.kernels.intent import intent_scores
from distillguard.kernels.templates import template_keys
from distillguard.respond.decision import DecideRequest, DecisionEngine, Signals
from distillguard.respond.enforcement import EnforcementStore
from distillguard.respond.policy import Policy
from distillguard.respond.state import MemoryState
from distillguard.respond.watchlist import Watchlist

BATCH = 20_000


@dataclass
class AccountOutcome:
    """What the policy did to one account over the replay."""

    requests: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    actions: set[str] = field(default_factory=set)
    first_action_ts: float | None = None

    @property
    def touched(self) -> bool:
        """Shaped, denied or given any enforcement record (review flags included)."""
        return bool(self.actions) or self.decisions["shape"] > 0 or self.decisions["deny"] > 0

    @property
    def restricted(self) -> bool:
        """Shaped or denied at least once: the account's traffic was actually changed."""
        return self.decisions["shape"] > 0 or self.decisions["deny"] > 0


@dataclass
class ReplayResult:
    """The whole replay: per-account outcomes, decision totals, audit records, read issues."""

    policy: str
    accounts: dict[str, AccountOutcome]
    decisions: Counter[str]
    audit: list[dict[str, Any]]
    issues: list[Issue]
    labels: dict[str, str] | None = None

    def by_label(self) -> dict[str, dict[str, int]]:
        """Accounts, touched and restricted accounts per ground-truth label (``unlabelled`` if none)."""
        out: dict[str, dict[str, int]] = defaultdict(lambda: {"accounts": 0, "touched": 0, "restricted": 0})
        for a, o in self.accounts.items():
            label = (self.labels or {}).get(a, "unlabelled")
            row = out[label]
            row["accounts"] += 1
            row["touched"] += o.touched
            row["restricted"] += o.restricted
        return dict(out)

    def actions_table(self) -> dict[str, dict[str, int]]:
        """Per action: records ordered, accounts affected, and of those benign accounts."""
        out: dict[str, dict[str, int]] = defaultdict(
            lambda: {"records": 0, "accounts": 0, "benign_accounts": 0}
        )
        for rec in self.audit:
            out[rec["action"]]["records"] += 1
        for a, o in self.accounts.items():
            for action in o.actions:
                out[action]["accounts"] += 1
                if self.labels and self.labels.get(a) == "benign":
                    out[action]["benign_accounts"] += 1
        return dict(out)

    def to_json(self) -> dict[str, Any]:
        """The report as JSON (``--out``)."""
        return {
            "policy": self.policy,
            "decisions": dict(self.decisions),
            "by_label": self.by_label(),
            "actions": self.actions_table(),
            "accounts": {
                a: {
                    "label": (self.labels or {}).get(a),
                    "requests": o.requests,
                    "decisions": dict(o.decisions),
                    "actions": sorted(o.actions),
                    "first_action_ts": o.first_action_ts,
                }
                for a, o in sorted(self.accounts.items())
                if o.touched
            },
            "audit": self.audit,
            "issues": [str(i) for i in self.issues],
        }


def read_labels(path: str | Path) -> dict[str, str]:
    """``account_id -> label`` from a ground-truth labels file."""
    labels: dict[str, str] = {}
    for result in read_batches(path, "labels"):
        for a, lab in zip(
            result.batch.column("account_id").to_pylist(),
            result.batch.column("label").to_pylist(),
            strict=True,
        ):
            labels[a] = lab
    return labels


def _read_requests(paths: Sequence[str | Path]) -> tuple[pa.Table, list[Issue]]:
    batches, issues = [], []
    for p in paths:
        for result in read_batches(p, "requests"):
            issues.extend(result.issues)
            if result.batch.num_rows:
                batches.append(result.batch)
    if not batches:
        return REQUESTS.empty_table(), issues
    table = pa.Table.from_batches(batches)
    return table.sort_by([("ts", "ascending"), ("request_id", "ascending")]), issues


def _signals(batch: pa.Table) -> list[Signals]:
    """Batch-kernel signals of every request of a batch, in order."""
    scores = intent_scores(batch)
    keys = template_keys(batch)
    per_request: list[dict[str, list[int]]] = [{} for _ in range(batch.num_rows)]
    # template_keys is request-major in batch order; map request ids to positions to regroup.
    position = {rid: i for i, rid in enumerate(batch.column("request_id").to_pylist())}
    for rid, part, key in zip(
        keys.column("request_id").to_pylist(),
        keys.column("part").to_pylist(),
        keys.column("key").to_pylist(),
        strict=True,
    ):
        per_request[position[rid]].setdefault(part, []).append(key)
    return [
        Signals(intent, float(p), per_request[i])
        for i, (intent, p) in enumerate(
            zip(scores.column("intent").to_pylist(), scores.column("p_extract").to_pylist(), strict=True)
        )
    ]


def replay(
    policy: Policy,
    logs: Sequence[str | Path],
    watchlist: Watchlist | None = None,
    labels: dict[str, str] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ReplayResult:
    """Replay logs through the policy; ``on_progress(done, total)`` after each batch."""
    table, issues = _read_requests(logs)
    store = EnforcementStore("sqlite://")
    engine = DecisionEngine(policy, MemoryState(policy.window_s), store, watchlist)
    accounts: dict[str, AccountOutcome] = defaultdict(AccountOutcome)
    decisions: Counter[str] = Counter()
    total = table.num_rows
    for start in range(0, total, BATCH):
        batch = table.slice(start, BATCH)
        signals = _signals(batch)
        ts = pc.divide(pc.cast(pc.cast(batch.column("ts"), pa.int64()), pa.float64()), 1e6).to_pylist()
        params = batch.column("params").to_pylist()
        for i, row in enumerate(
            batch.select(["request_id", "account_id", "api_key_id", "ip", "model"]).to_pylist()
        ):
            req = DecideRequest(
                row["account_id"],
                [],
                api_key_id=row["api_key_id"],
                ip=row["ip"],
                model=row["model"],
                request_id=row["request_id"],
                params={k: v for k, v in (params[i] or {}).items() if v is not None},
            )
            d = engine.decide(req, now=ts[i], signals=signals[i])
            o = accounts[req.account_id]
            o.requests += 1
            o.decisions[d.decision] += 1
            decisions[d.decision] += 1
            for e in d.new_enforcements:
                o.actions.add(e.action)
                if e.account_id != req.account_id:
                    accounts[e.account_id].actions.add(e.action)
            if (d.new_enforcements or d.decision != "allow") and o.first_action_ts is None:
                o.first_action_ts = ts[i]
        if on_progress:
            on_progress(min(start + BATCH, total), total)
    audit = [e.to_json() for e in reversed(store.all(limit=10_000_000))]
    store.close()
    return ReplayResult(policy.label, dict(accounts), decisions, audit, issues, labels)


def write_report(result: ReplayResult, path: str | Path) -> Path:
    """Write the JSON report."""
    p = Path(path)
    p.write_text(json.dumps(result.to_json(), indent=2, default=str) + "\n")
    return p
