"""The simulate command as a user runs it: summary, files, errors without tracebacks."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from distillguard.cli import app

runner = CliRunner()


def test_simulate_writes_files_prints_summary_and_validates(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = runner.invoke(
        app,
        [
            "simulate",
            "--scenario",
            "mixed",
            "--days",
            "1",
            "--scale",
            "0.05",
            "--format",
            "jsonl.gz",
            "--out",
            str(out),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (
        "requests from" in result.stdout
        and "C3-thin-persona" in result.stdout
        and "chat_user" in result.stdout
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "accounts.jsonl.gz",
        "labels.jsonl",
        "requests.jsonl.gz",
        "scenario.json",
    ]
    check = runner.invoke(app, ["validate", str(out), "--quiet"])
    assert check.exit_code == 0, check.output
    assert "valid" in check.output


def test_simulate_list_names_every_scenario() -> None:
    result = runner.invoke(app, ["simulate", "--list"])
    assert result.exit_code == 0
    for name in ("mixed", "benign", "thin_swarm", "pool_failover", "technique_search"):
        assert name in result.stdout


def test_simulate_bad_arguments_exit_2_with_a_message(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", "--scenario", "nope", "--out", str(tmp_path), "--quiet"])
    assert result.exit_code == 2
    assert "unknown scenario 'nope'" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(app, ["simulate", "--days", "0", "--out", str(tmp_path), "--quiet"])
    assert result.exit_code == 2 and "--days must be at least 1" in result.output


def test_help_has_an_example() -> None:
    result = runner.invoke(app, ["simulate", "--help"])
    assert result.exit_code == 0
    assert "distillguard simulate --scenario mixed" in result.stdout
