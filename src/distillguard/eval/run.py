"""``distillguard eval``: run the detector (and baselines, ablations, time to detect) against labels.

Works on any directory with ``requests.*``, ``accounts.*`` (optional) and ``labels.jsonl``: the
simulator's output, or a user's own labelled logs (``labels.jsonl`` rows need only
``account_id``, ``label`` and ``campaign_id``; ``persona`` enables per-persona rows).

Baselines get an advantage on purpose: their thresholds are set *with* the labels so that their
benign false-positive rate matches the detector's, so the comparison is recall at equal FPR.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from distillguard.eval.metrics import Metrics, evaluate, read_labels
from distillguard.io.readers import find_traffic_files
from distillguard.scan import SIGNAL_FAMILIES, ScanConfig, detect, read_accounts, stage


@dataclass
class EvalReport:
    """All figures of one evaluation run."""

    detector: Metrics
    baselines: dict[str, Metrics] = field(default_factory=dict)
    ablations: dict[str, Metrics] = field(default_factory=dict)
    per_account_only: Metrics | None = None  # no linkage at all: what account features alone catch
    time_to_detect: dict[str, float | None] = field(default_factory=dict)
    campaign_rates: dict[str, float] = field(default_factory=dict)

    def markdown(self) -> str:
        """The report as Markdown tables."""
        lines = [
            "## Detection",
            "",
            _table({"distillguard": self.detector.row(), **{k: v.row() for k, v in self.baselines.items()}}),
            "",
        ]
        lines += [
            "### Recall per campaign",
            "",
            "| campaign | recall | recall, per-account features only | requests/day | time to detect (h) |",
            "|---|---:|---:|---:|---:|",
        ]
        for cid, rec in sorted(self.detector.recall_by_campaign.items()):
            rate = self.campaign_rates.get(cid, float("nan"))
            if not self.time_to_detect:
                ttd_text = "not measured"
            else:
                ttd = self.time_to_detect.get(cid)
                ttd_text = "not detected" if ttd is None else f"{ttd:.1f}"
            alone = (
                f"{self.per_account_only.recall_by_campaign.get(cid, 0.0):.3f}"
                if self.per_account_only is not None
                else "not measured"
            )
            lines.append(f"| {cid} | {rec:.3f} | {alone} | {rate:,.0f} | {ttd_text} |")
        lines += ["", "### False-positive rate per benign persona", "", "| persona | FPR |", "|---|---:|"]
        for persona, fpr in sorted(self.detector.fpr_by_persona.items()):
            lines.append(f"| {persona} | {fpr:.4f} |")
        if self.ablations:
            lines += [
                "",
                "## Ablation: one signal family switched off",
                "",
                _table({f"without {k}": v.row() for k, v in self.ablations.items()}),
            ]
        return "\n".join(lines) + "\n"


def _table(rows: dict[str, dict[str, object]]) -> str:
    if not rows:
        return ""
    cols = list(next(iter(rows.values())))
    out = ["| detector | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
    for name, row in rows.items():
        out.append(f"| {name} | " + " | ".join(str(row[c]) for c in cols) + " |")
    return "\n".join(out)


def locate(data_dir: str | Path) -> tuple[list[Path], Path | None, Path]:
    """The requests files, accounts file and labels file of a labelled directory."""
    d = Path(data_dir)
    found = find_traffic_files(d)
    labels = found.get("labels") or []
    if not found.get("requests"):
        raise ValueError(f"{d}: no requests.* file found")
    if not labels:
        raise ValueError(f"{d}: no labels.jsonl found; eval needs ground truth")
    accounts = (found.get("accounts") or [None])[0]
    return found["requests"], accounts, labels[0]


def run_eval(
    data_dir: str | Path,
    work_dir: str | Path,
    *,
    fpr: float = 0.001,
    engine: str = "duckdb",
    ablations: bool = True,
    time_to_detect: bool = True,
    step_hours: float = 24.0,
    baselines: dict[str, Callable[..., pd.Series]] | None = None,
    on_step: Callable[[str], None] | None = None,
    distribution: bool = False,
) -> EvalReport:
    """Stage once, then detect on the full window, per ablation and on growing prefixes.

    ``distribution`` embeds a prompt sample per account once (shared with the embedding baselines)
    and adds the distribution test's evidence to the full-window detection. The test informs and does
    not decide (``scan.distribution_evidence``), so ablations and prefix scans run without it.
    """
    requests, accounts_path, labels_path = locate(data_dir)
    labels = read_labels(labels_path)
    say = on_step or (lambda _msg: None)
    say("running kernels over the requests")
    stage(requests, work_dir)
    accounts, _issues = read_accounts(accounts_path)
    cfg = ScanConfig(fpr=fpr, engine=engine)
    samples = None
    if distribution:
        from distillguard.features.samples import load_or_build_prompt_sample

        say("embedding a prompt sample per account (distribution test)")
        samples = load_or_build_prompt_sample(work_dir, requests)
    say("detecting on the full window")
    full = detect(work_dir, accounts, cfg, samples)
    volume = full.features.set_index("account_id")["n_requests"]
    report = EvalReport(evaluate(full.accounts, labels, volume))
    report.campaign_rates = _campaign_rates(full.features, labels)
    if ablations:
        say("per-account features only (no linkage)")
        alone = frozenset({"linkage_infrastructure", "linkage_content"})
        det = detect(work_dir, accounts, ScanConfig(fpr=fpr, engine=engine, disabled=alone))
        report.per_account_only = evaluate(det.accounts, labels, volume)
        for family in SIGNAL_FAMILIES:
            say(f"ablation: without {family}")
            det = detect(work_dir, accounts, ScanConfig(fpr=fpr, engine=engine, disabled=frozenset({family})))
            report.ablations[family] = evaluate(det.accounts, labels, volume)
    for name, baseline in (baselines or default_baselines(requests, say)).items():
        say(f"baseline: {name}")
        scores = baseline(full.features, work_dir)
        report.baselines[name] = evaluate(
            _at_same_fpr(scores, labels, report.detector.benign_fpr), labels, volume
        )
    if time_to_detect:
        report.time_to_detect = _time_to_detect(work_dir, accounts, cfg, labels, full, step_hours, say)
    return report


def _campaign_rates(features: pd.DataFrame, labels: pd.DataFrame) -> dict[str, float]:
    """Requests per day of each labelled campaign over its active span."""
    f = features.merge(labels[labels["label"] == "attack"], on="account_id")
    out = {}
    for cid, g in f.groupby("campaign_id"):
        span = max((g["last_epoch"].max() - g["first_epoch"].min()) / 86400.0, 1.0 / 24)
        out[str(cid)] = float(g["n_requests"].sum() / span)
    return out


def _at_same_fpr(scores: pd.Series, labels: pd.DataFrame, target_fpr: float) -> pd.DataFrame:
    """Flag the top-scoring accounts, with the threshold chosen so benign FPR matches the target."""
    benign = set(labels.loc[labels["label"] == "benign", "account_id"])
    b = np.sort(scores[scores.index.isin(benign)].to_numpy())[::-1]
    k = int(np.floor(target_fpr * len(b)))
    threshold = b[k] if k < len(b) else -np.inf
    flagged = (scores > threshold).astype(int)
    return pd.DataFrame({"account_id": scores.index, "flagged": flagged.to_numpy()})


def top_volume(features: pd.DataFrame, _work: object) -> pd.Series:
    """Baseline: flag the accounts that send the most requests per day."""
    return features.set_index("account_id")["requests_per_day"]


def default_baselines(
    requests: list[Path] | None = None, on_step: Callable[[str], None] | None = None
) -> dict[str, Callable[..., pd.Series]]:
    """The baselines re-implemented from their papers that are available in this install."""
    out: dict[str, Callable[..., pd.Series]] = {"top-volume": top_volume}
    try:
        from distillguard.eval.baselines import embedding_baselines

        say = on_step or (lambda _msg: None)
        out.update(
            embedding_baselines(
                requests,
                on_progress=lambda phase, done, total: (
                    say(f"prompt sample: {phase} {done:,}/{total:,}")
                    if done in (0, total) or done % 4096 == 0
                    else None
                ),
            )
        )
    except ImportError:
        pass
    return out


def _time_to_detect(
    work_dir: str | Path,
    accounts: object,
    cfg: ScanConfig,
    labels: pd.DataFrame,
    full: object,
    step_hours: float,
    say: Callable[[str], None],
) -> dict[str, float | None]:
    """Hours from each campaign's first request to the first prefix scan that flags any of its accounts."""
    start, end = full.window  # type: ignore[attr-defined]
    attack = labels[labels["label"] == "attack"]
    first_req = full.features.set_index("account_id")["first_seen"]  # type: ignore[attr-defined]
    camp_start = {
        cid: pd.Timestamp(first_req[first_req.index.isin(set(g["account_id"]))].min())
        for cid, g in attack.groupby("campaign_id")
    }
    detected: dict[str, float | None] = {cid: None for cid in camp_start}
    t = pd.Timestamp(start).floor("D") + pd.Timedelta(hours=step_hours)
    while t <= pd.Timestamp(end) + pd.Timedelta(hours=step_hours) and any(
        v is None for v in detected.values()
    ):
        say(f"time to detect: scanning up to {t:%Y-%m-%d %H:%M}")
        prefix = ScanConfig(fpr=cfg.fpr, engine=cfg.engine, until=t.to_pydatetime())
        det = detect(work_dir, accounts, prefix)  # type: ignore[arg-type]
        flagged = set(det.accounts.loc[det.accounts["flagged"] == 1, "account_id"])
        for cid, g in attack.groupby("campaign_id"):
            if detected[cid] is None and flagged & set(g["account_id"]) and camp_start[cid] < t:
                detected[cid] = max(0.0, (t - camp_start[cid]).total_seconds() / 3600.0)
        t += pd.Timedelta(hours=step_hours)
    return detected
