"""``distillguard eval``: measure the detector against ground-truth labels."""

from __future__ import annotations

import tempfile
from pathlib import Path

import typer

from distillguard.cli.common import QuietOption, err, fail, out


def evaluate(
    data_dir: Path = typer.Argument(..., help="Directory with requests.*, accounts.* and labels.jsonl."),
    fpr: float = typer.Option(0.001, "--fpr", help="False-positive rate the detector is calibrated to."),
    engine: str = typer.Option("duckdb", "--engine", help="duckdb or pyspark."),
    ablations: bool = typer.Option(
        True, "--ablations/--no-ablations", help="Also run with each signal family off."
    ),
    ttd: bool = typer.Option(True, "--time-to-detect/--no-time-to-detect", help="Scan growing prefixes."),
    step_hours: float = typer.Option(6.0, "--step-hours", help="Prefix step (hours) for time to detect."),
    report: Path | None = typer.Option(None, "--report", help="Also write the Markdown report here."),
    embeddings: bool = typer.Option(
        True,
        "--embeddings/--no-embeddings",
        help="Embed a prompt sample per account for the distribution test and the PRADA, SEAT and MMD "
        "baselines (about 8 prompts per account; the slowest step). Off: top-volume baseline only.",
    ),
    quiet: bool = QuietOption,
) -> None:
    """Evaluate detection against labels: recall, FPR per persona, time to detect, baselines, ablations.

    Works on simulator output or on your own logs with a labels.jsonl
    ({account_id, label: benign|attack, campaign_id}).

    Example:

        distillguard eval runs/demo --report runs/demo-eval.md
    """
    from distillguard.eval.run import run_eval, top_volume

    def say(msg: str) -> None:
        if not quiet:
            err.print(f"[dim]{msg}[/]", highlight=False)

    with tempfile.TemporaryDirectory(prefix="distillguard-eval-") as work:
        try:
            result = run_eval(
                data_dir,
                work,
                fpr=fpr,
                engine=engine,
                ablations=ablations,
                time_to_detect=ttd,
                step_hours=step_hours,
                on_step=say,
                distribution=embeddings,
                baselines=None if embeddings else {"top-volume": top_volume},
            )
        except ValueError as exc:
            raise fail(str(exc)) from None
    text = result.markdown()
    out.print(text, markup=False, highlight=False)
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(text, encoding="utf-8")
        err.print(f"wrote {report}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""
    app.command("eval")(evaluate)
