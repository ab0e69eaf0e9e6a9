"""Campaigns shaped exactly like ``distillguard scan`` writes them, for the sharing tests."""

from __future__ import annotations

import copy
from typing import Any

PROMPT = (
    "You are an expert tutor. Think step by step and write out your full chain of reasoning "
    "before giving the final answer to the following question about Jane's invoices."
)
RESPONSE = "First, we note that the invoice total is 4,310 dollars; therefore the answer is 12."
ACCOUNTS = [f"acct_{i:016x}" for i in range(1, 40)]


def campaign(**overrides: Any) -> dict[str, Any]:
    """One campaign as campaigns.json holds it (accounts, evidence, samples with prompt heads)."""
    c: dict[str, Any] = {
        "campaign_id": "cmp_36eefd339133",
        "accounts": list(ACCOUNTS),
        "n_accounts": len(ACCOUNTS),
        "first_seen": "2026-03-01 12:00:18.515000+00:00",
        "last_seen": "2026-03-02 23:41:35.411000+00:00",
        "requests": 4235,
        "output_tokens": 932633,
        "models": {"frontier-2-thinking-2026-02-01": 2154, "frontier-3-2026-03-02": 60, "tiny": 3},
        "capabilities": {"cot_elicitation": 193, "rubric_grading": 22},
        "tactics": [
            {
                "tactic": "cot_elicitation",
                "method": "chain-of-thought exfiltration",
                "atlas": ["AML.T0024.002", "AML.T0040"],
                "requests": 193,
            },
            {
                "tactic": "proxy_rotation",
                "method": "infrastructure",
                "atlas": ["AML.T0024.002", "AML.T0040"],
                "accounts": 39,
            },
        ],
        "confidence": 0.9731,
        "evidence": {
            "reasons": {"linked_cluster": 39, "release_chase": 4, "ip_rotation": 39},
            "link_kinds": {"template": 68, "network": 2, "payment": 4},
            "shared_indicators": [
                {"kind": "template", "indicator": "tk:head:2273829374547193587", "accounts": 39},
                {"kind": "template", "indicator": "tk:system:-5593463881783585704", "accounts": 39},
                {"kind": "network", "indicator": "ip:203.0.113", "accounts": 12},
                {"kind": "payment", "indicator": "pf:card_9f8e7d6c5b4a", "accounts": 3},
            ],
            "sample_requests": [
                {
                    "request_id": "req_e23ceb341695b1ab446d54e9",
                    "intent": "cot_elicitation",
                    "p_extract": 0.98,
                    "prompt_head": PROMPT,
                }
            ],
            "hourly_requests": [{"hour": "2026-03-01 12:00:00", "requests": 103}],
        },
    }
    out = copy.deepcopy(c)
    out.update(overrides)
    return out


def secrets_of(campaigns: list[dict[str, Any]]) -> list[str]:
    """Every local value of the campaigns that must never leave."""
    out = [PROMPT, RESPONSE]
    for c in campaigns:
        out += c["accounts"]
        out += [s["request_id"] for s in c["evidence"]["sample_requests"]]
        out += [i["indicator"] for i in c["evidence"]["shared_indicators"]]
    return out
