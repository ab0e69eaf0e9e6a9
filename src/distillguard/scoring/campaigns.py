"""Campaigns: flagged accounts grouped by cluster, with evidence a reviewer can check.

A campaign is a linkage cluster with at least one flagged account (its flagged members are the
campaign), or a flagged account that links to nobody. Each carries what a reviewer needs to
confirm or reject it without rerunning anything: sample request ids, the indicators its accounts
share, template examples, its hourly request series, and tactics coded with the industry's
distillation-method taxonomy and MITRE ATLAS technique ids.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
from ibis import _

# Intent class -> (industry distillation-method category, ATLAS techniques).
INTENT_TAXONOMY: dict[str, tuple[str, tuple[str, ...]]] = {
    "cot_elicitation": ("chain-of-thought exfiltration", ("AML.T0024.002", "AML.T0040")),
    "reasoning_coercion": ("chain-of-thought exfiltration", ("AML.T0024.002", "AML.T0040")),
    "rubric_grading": ("autograding", ("AML.T0024.002", "AML.T0040")),
    "rl_task_generation": ("RL prompt generation", ("AML.T0024.002", "AML.T0040")),
    "synthetic_data": ("synthetic data generation", ("AML.T0024.002", "AML.T0040")),
    "censorship_rewrite": ("synthetic data generation", ("AML.T0024.002", "AML.T0040")),
}
# Reason code -> infrastructure or behaviour tactic it points to.
REASON_TACTICS = {
    "release_chase": "release_chaser",
    "refusals": "technique_search",
    "ip_rotation": "proxy_rotation",
    "round_the_clock": "round_the_clock_harvest",
    "no_idle_hours": "round_the_clock_harvest",
    "high_volume": "high_volume_harvest",
    "template_reuse": "templated_persona",
    "tool_use": "agentic_harvest",
    # Pooled features of the account's body (``cluster_<feature>`` reason codes).
    "cluster_new_model_share": "release_chaser",
    "cluster_refusal_share": "technique_search",
    "cluster_ips_per_request": "proxy_rotation",
    "cluster_hour_entropy": "round_the_clock_harvest",
    "cluster_system_top_share": "templated_persona",
    "cluster_template_top_share": "templated_persona",
    "cluster_tool_share": "agentic_harvest",
    "cluster_round_the_clock_members": "round_the_clock_harvest",
}
# An extraction family is a campaign tactic when it is at least this share of the campaign's
# requests, and this many times its share of all traffic (the classifier has a base rate).
TACTIC_MIN_SHARE = 0.02
TACTIC_MIN_LIFT = 3.0
TEMPLATE_EXAMPLES = 3
BASE_ATLAS = ("AML.T0024.002", "AML.T0040")
INFRASTRUCTURE_TACTICS = {"proxy_rotation"}


def _campaign_id(accounts: list[str]) -> str:
    return "cmp_" + hashlib.blake2b("\n".join(sorted(accounts)).encode(), digest_size=6).hexdigest()


def build_campaigns(
    scores: pd.DataFrame,
    features: pd.DataFrame,
    edges: pa.Table,
    requests: ir.Table,
    con: Any,
    examples: pd.DataFrame | None = None,
) -> list[dict[str, Any]]:
    """Group flagged accounts into campaigns and gather their evidence.

    ``examples`` (template_id, system_example, user_example) supplies normalised template text for
    the evidence; without it, template examples list ids and counts only.
    """
    flagged = scores[scores["flagged"] == 1]
    if flagged.empty:
        return []
    groups: dict[str, list[str]] = {}
    for row in flagged.itertuples():
        key = row.cluster_id if row.cluster_size >= 2 else f"single:{row.account_id}"
        groups.setdefault(key, []).append(row.account_id)
    members = pa.table(
        {
            "account_id": [a for accts in groups.values() for a in accts],
            "group": [g for g, accts in groups.items() for _ in accts],
        }
    )
    m = ibis.memtable(members)
    r = requests.join(m, "account_id")
    summary = con.to_pyarrow(
        r.group_by("group").aggregate(
            first_seen=_.ts.min(),
            last_seen=_.ts.max(),
            requests=_.count(),
            output_tokens=_.output_tokens.sum(),
        )
    ).to_pylist()
    models = _counts(con, r, "model")
    intents = _counts(con, r.filter(r.intent != "none"), "intent")
    template_counts = _counts(con, r.filter(r.template_id != 0), "template_id")
    example_of = (
        {
            int(t): (sx, ux)
            for t, sx, ux in zip(
                examples["template_id"], examples["system_example"], examples["user_example"], strict=True
            )
        }
        if examples is not None
        else {}
    )
    everywhere = con.to_pyarrow(requests.group_by("intent").aggregate(n=_.count())).to_pylist()
    total = max(1, sum(x["n"] for x in everywhere))
    base_rate = {x["intent"]: x["n"] / total for x in everywhere}
    hourly = con.to_pyarrow(
        r.group_by(["group", r.ts.truncate("h").name("hour")])
        .aggregate(n=_.count())
        .order_by(["group", "hour"])
    ).to_pylist()
    samples = con.to_pyarrow(
        r.mutate(rn=ibis.row_number().over(group_by="group", order_by=[r.p_extract.desc(), r.request_id]))
        .filter(_.rn < 5)
        .select(
            "group",
            "request_id",
            "intent",
            "p_extract",
            *(["prompt_head"] if "prompt_head" in r.columns else []),
        )
    ).to_pylist()
    edge_rows = edges.to_pylist() if edges.num_rows else []
    risk = dict(zip(scores["account_id"], scores["risk"], strict=True))
    reasons = dict(zip(scores["account_id"], scores["reasons"], strict=True))
    out = []
    by_group = {s["group"]: s for s in summary}
    for g, accts in groups.items():
        s = by_group.get(g)
        if s is None:
            continue
        acct_set = set(accts)
        shared = Counter((e["kind"], e["indicator"]) for e in edge_rows if e["account_id"] in acct_set)
        reason_counts = Counter(code for a in accts for code in reasons[a].split(";") if code)
        intent_counts = intents.get(g, {})
        tactics = []
        for intent, n in sorted(intent_counts.items(), key=lambda kv: -kv[1]):
            share = n / max(1, s["requests"])
            if (
                intent in INTENT_TAXONOMY
                and n >= 3
                and share >= TACTIC_MIN_SHARE
                and share >= TACTIC_MIN_LIFT * base_rate.get(intent, 0.0)
            ):
                tactics.append(
                    {
                        "tactic": intent,
                        "method": INTENT_TAXONOMY[intent][0],
                        "atlas": list(INTENT_TAXONOMY[intent][1]),
                        "requests": n,
                    }
                )
        seen = set()
        for code, n in reason_counts.most_common():
            tactic = REASON_TACTICS.get(code)
            if tactic and tactic not in seen and n >= max(1, len(accts) // 3):
                seen.add(tactic)
                tactics.append(
                    {
                        "tactic": tactic,
                        "method": "infrastructure" if tactic in INFRASTRUCTURE_TACTICS else "behaviour",
                        "atlas": list(BASE_ATLAS),
                        "accounts": n,
                    }
                )
        kinds = Counter(kind for kind, _ in shared)
        out.append(
            {
                "campaign_id": _campaign_id(accts),
                "accounts": sorted(accts),
                "n_accounts": len(accts),
                "first_seen": s["first_seen"],
                "last_seen": s["last_seen"],
                "requests": s["requests"],
                "output_tokens": s["output_tokens"],
                "models": models.get(g, {}),
                "capabilities": intent_counts,
                "tactics": tactics,
                "confidence": round(float(sum(risk[a] for a in accts) / len(accts)), 6),
                "evidence": {
                    "reasons": dict(reason_counts.most_common()),
                    "link_kinds": dict(kinds),
                    "shared_indicators": [
                        {"kind": k, "indicator": i, "accounts": n}
                        for (k, i), n in shared.most_common(10)
                        if n >= 2
                    ],
                    "sample_requests": [
                        {k: v for k, v in x.items() if k != "group"} for x in samples if x["group"] == g
                    ],
                    "template_examples": [
                        {
                            "template_id": str(t),
                            "requests": n,
                            "system": example_of.get(int(t), ("", ""))[0],
                            "user": example_of.get(int(t), ("", ""))[1],
                        }
                        for t, n in sorted(
                            template_counts.get(g, {}).items(), key=lambda kv: (-kv[1], kv[0])
                        )[:TEMPLATE_EXAMPLES]
                    ],
                    "hourly_requests": [
                        {"hour": h["hour"], "requests": h["n"]} for h in hourly if h["group"] == g
                    ],
                },
            }
        )
    out.sort(key=lambda c: (-c["n_accounts"], -c["requests"]))
    return out


def _counts(con: Any, r: ir.Table, column: str) -> dict[str, dict[str, int]]:
    rows = con.to_pyarrow(r.group_by(["group", column]).aggregate(n=_.count())).to_pylist()
    out: dict[str, dict[str, int]] = {}
    for row in rows:
        out.setdefault(row["group"], {})[row[column]] = row["n"]
    return out
