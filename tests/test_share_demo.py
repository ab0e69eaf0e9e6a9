"""The two-provider demonstration: B's recall rises after retro-hunting A's shared indicators."""

from __future__ import annotations

from typer.testing import CliRunner

from distillguard.cli import app


def test_two_provider_demo_raises_b_recall_without_false_matches(tmp_path):
    r = CliRunner().invoke(
        app, ["share", "demo", "--out", str(tmp_path), "--scale", "0.3", "--days", "1", "-q"]
    )
    assert r.exit_code == 0, r.output
    line = next(x for x in r.output.splitlines() if x.startswith("recall before"))
    before = float(line.split("before ")[1].split(",")[0])
    after = float(line.split("after ")[1].split(";")[0])
    benign = int(line.split("hunt matched ")[1].split(" ")[0])
    assert after >= before + 0.2, line
    assert benign == 0, line
    assert (tmp_path / "b" / "evidence.json").exists() and (tmp_path / "a" / "bundle.json").exists()
