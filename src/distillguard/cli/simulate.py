"""``distillguard simulate``: generate labelled benign and attack traffic from real prompt corpora."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from distillguard.cli.common import QuietOption, err, fail, out, progress


def simulate(
    scenario: str = typer.Option("mixed", "--scenario", "-s", help="Scenario name; see --list."),
    out_dir: Path = typer.Option(Path("runs/sim"), "--out", "-o", help="Directory to write into."),
    days: int = typer.Option(3, "--days", "-d", help="Length of the simulated window in days."),
    scale: float = typer.Option(1.0, "--scale", help="Multiplier on every population and campaign size."),
    seed: int = typer.Option(1, "--seed", help="Random seed; the same seed gives the same files."),
    fmt: str = typer.Option("parquet", "--format", "-f", help="parquet, jsonl or jsonl.gz."),
    start: str = typer.Option("2026-03-01", "--start", help="First day of the window (UTC)."),
    list_scenarios: bool = typer.Option(False, "--list", help="List the scenarios and exit."),
    quiet: bool = QuietOption,
) -> None:
    """Simulate API traffic: benign personas and distillation campaigns, with ground-truth labels.

    Writes requests, accounts and labels in the traffic-log-v1 format, plus scenario.json.

    Example:

        distillguard simulate --scenario mixed --days 3 --seed 1 --out runs/demo
    """
    from distillguard.simulate.scenarios import SCENARIOS

    if list_scenarios:
        table = Table("scenario", "what it contains")
        for sc in SCENARIOS.values():
            table.add_row(sc.name, sc.summary)
        out.print(table)
        return
    from distillguard.simulate.engine import run_simulation

    with progress(quiet) as bar:
        task = bar.add_task(f"simulating {scenario}", total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            result = run_simulation(
                scenario, out_dir, days=days, scale=scale, seed=seed, fmt=fmt, start=start, on_progress=tick
            )
        except ValueError as exc:
            raise fail(str(exc)) from None

    table = Table(
        title=f"{result.requests:,} requests from {result.accounts:,} accounts in {result.seconds:.1f} s",
        title_justify="left",
    )
    table.add_column("persona / campaign")
    table.add_column("label")
    table.add_column("accounts", justify="right")
    table.add_column("requests", justify="right")
    table.add_column("tactics")
    for name, c in result.personas.items():
        if not name.startswith("attack:"):
            table.add_row(name, "benign", f"{c['accounts']:,}", f"{c['requests']:,}", "")
    for cid, c in result.campaigns.items():
        table.add_row(cid, "attack", f"{c['accounts']:,}", f"{c['requests']:,}", ", ".join(c["tactics"]))
    out.print(table)
    for path in result.files:
        err.print(f"wrote {path}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""
    app.command("simulate")(simulate)
