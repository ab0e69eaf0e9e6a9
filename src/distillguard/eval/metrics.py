"""Detection metrics against ground-truth labels (simulated, or a user's own labelled logs).

Labels are ``labels.jsonl`` rows ``{account_id, label, campaign_id, persona?}``; ``persona`` is
optional (a user's own labels often lack it, and per-persona rows then read ``unknown``). Only
accounts that sent at least one request in the evaluated window count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pandas as pd

CAMPAIGN_DETECTED_SHARE = 0.5


def read_labels(path: str | Path) -> pd.DataFrame:
    """Read labels.jsonl, failing with the line number of the first bad row."""
    rows = []
    with open(path, "rb") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = orjson.loads(line)
                if rec["label"] not in ("benign", "attack"):
                    raise ValueError(f"label must be benign or attack, got {rec['label']!r}")
                rows.append(
                    {
                        "account_id": str(rec["account_id"]),
                        "label": rec["label"],
                        "campaign_id": rec.get("campaign_id"),
                        "persona": rec.get("persona") or "unknown",
                    }
                )
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{path}:{i}: bad label row: {exc}") from None
    return pd.DataFrame(rows, columns=["account_id", "label", "campaign_id", "persona"])


@dataclass
class Metrics:
    """The figures the evaluation reports for one detector on one dataset."""

    attack_recall: float
    exchange_recall: float
    campaigns_detected: int
    campaigns_total: int
    benign_fpr: float
    benign_flagged: int
    benign_total: int
    fpr_by_persona: dict[str, float] = field(default_factory=dict)
    recall_by_campaign: dict[str, float] = field(default_factory=dict)

    def row(self) -> dict[str, object]:
        """The headline figures as one table row."""
        return {
            "attack recall": round(self.attack_recall, 4),
            "exchange recall": round(self.exchange_recall, 4),
            "campaigns": f"{self.campaigns_detected}/{self.campaigns_total}",
            "benign FPR": round(self.benign_fpr, 5),
            "benign flagged": f"{self.benign_flagged}/{self.benign_total}",
        }


def evaluate(flagged: pd.DataFrame, labels: pd.DataFrame, requests_per_account: pd.Series) -> Metrics:
    """Compare flags (account_id, flagged) with labels over accounts that sent requests."""
    seen = labels[labels["account_id"].isin(requests_per_account.index)].copy()
    flags = dict(zip(flagged["account_id"], flagged["flagged"].astype(int), strict=True))
    seen["flagged"] = seen["account_id"].map(flags).fillna(0).astype(int)
    seen["requests"] = seen["account_id"].map(requests_per_account).fillna(0)
    attack = seen[seen["label"] == "attack"]
    benign = seen[seen["label"] == "benign"]
    attack_recall = float(attack["flagged"].mean()) if len(attack) else 1.0
    exch = (
        float((attack["requests"] * attack["flagged"]).sum() / attack["requests"].sum())
        if len(attack)
        else 1.0
    )
    by_campaign = attack.groupby("campaign_id")["flagged"].mean() if len(attack) else pd.Series(dtype=float)
    detected = int((by_campaign >= CAMPAIGN_DETECTED_SHARE).sum())
    by_persona = benign.groupby("persona")["flagged"].mean() if len(benign) else pd.Series(dtype=float)
    return Metrics(
        attack_recall=attack_recall,
        exchange_recall=exch,
        campaigns_detected=detected,
        campaigns_total=len(by_campaign),
        benign_fpr=float(benign["flagged"].mean()) if len(benign) else 0.0,
        benign_flagged=int(benign["flagged"].sum()),
        benign_total=len(benign),
        fpr_by_persona={k: float(v) for k, v in by_persona.items()},
        recall_by_campaign={k: float(v) for k, v in by_campaign.items()},
    )
