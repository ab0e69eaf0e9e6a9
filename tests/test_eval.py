"""Evaluation: exact metrics on hand-made flags, and the eval command end to end."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from distillguard.cli import app
from distillguard.eval.metrics import evaluate, read_labels
from distillguard.eval.run import run_eval, top_volume
from distillguard.simulate.engine import run_simulation


def test_metrics_on_a_hand_made_case() -> None:
    labels = pd.DataFrame(
        {
            "account_id": ["a1", "a2", "a3", "b1", "b2", "b3", "b4", "z"],
            "label": ["attack", "attack", "attack", "benign", "benign", "benign", "benign", "attack"],
            "campaign_id": ["c1", "c1", "c2", None, None, None, None, "c3"],
            "persona": ["x", "x", "x", "chat", "chat", "batch", "batch", "x"],
        }
    )
    flags = pd.DataFrame(
        {"account_id": ["a1", "a2", "a3", "b1", "b2", "b3", "b4"], "flagged": [1, 0, 1, 0, 0, 1, 0]}
    )
    volume = pd.Series({"a1": 90, "a2": 10, "a3": 100, "b1": 5, "b2": 5, "b3": 5, "b4": 5})  # z sent nothing
    m = evaluate(flags, labels, volume)
    assert m.attack_recall == pytest.approx(2 / 3)
    assert m.exchange_recall == pytest.approx(190 / 200)
    assert (m.campaigns_detected, m.campaigns_total) == (2, 2)  # c1 at 50% counts; c3 never seen
    assert m.benign_fpr == pytest.approx(0.25)
    assert m.fpr_by_persona == {"batch": 0.5, "chat": 0.0}
    assert m.recall_by_campaign == {"c1": 0.5, "c2": 1.0}


def test_labels_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text(
        '{"account_id": "a", "label": "attack", "campaign_id": "c"}\n{"account_id": "b", "label": "evil"}\n'
    )
    with pytest.raises(ValueError, match=r"labels.jsonl:2: bad label row: label must be benign or attack"):
        read_labels(path)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("evalsim")
    run_simulation("mixed", out, days=3, scale=0.25, seed=5)
    return out


def test_eval_reports_detection_baselines_ablations_and_time_to_detect(small: Path, tmp_path: Path) -> None:
    # Only top-volume here: the embedding baselines are tested on their own in test_baselines.py.
    report = run_eval(
        small,
        tmp_path / "work",
        ablations=True,
        time_to_detect=True,
        step_hours=24,
        baselines={"top-volume": top_volume},
    )
    text = report.markdown()
    for heading in (
        "## Detection",
        "### Recall per campaign",
        "### False-positive rate per benign persona",
        "## Ablation",
    ):
        assert heading in text
    assert "top-volume" in report.baselines
    assert set(report.ablations) == {
        "content",
        "templates",
        "behaviour",
        "distribution",
        "linkage_infrastructure",
        "linkage_content",
    }
    assert set(report.time_to_detect) == set(report.detector.recall_by_campaign)
    assert report.per_account_only is not None and "per-account features only" in text
    # On this small population (a quarter of the default) the detector still finds most campaigns and
    # most of the harvested exchanges while leaving legitimate heavy users alone; the thin swarm and a
    # four-account thick pool are too small here to clear FPR 0.001 (they are found at full scale).
    assert report.detector.campaigns_detected >= 4
    assert report.detector.exchange_recall >= 0.8
    assert report.detector.benign_fpr <= 0.01
    assert report.detector.attack_recall > report.baselines["top-volume"].attack_recall


def test_eval_command_needs_labels(tmp_path: Path) -> None:
    (tmp_path / "requests.jsonl").write_text("")
    result = CliRunner().invoke(app, ["eval", str(tmp_path), "--quiet"])
    assert result.exit_code == 2
    assert "no labels.jsonl found" in result.output
