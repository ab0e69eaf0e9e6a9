"""``distillguard policy``: check a policy file, and replay logs through it to see whom it touches."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Column, Table

from distillguard.cli.common import QuietOption, err, fail, out, progress
from distillguard.io.readers import ReadError
from distillguard.respond.policy import DEFAULT_POLICY_YAML, PolicyError, load_policy
from distillguard.respond.replay import read_labels, replay, write_report
from distillguard.respond.watchlist import Watchlist, WatchlistError

policy_app = typer.Typer(help="Check response policies and replay logs through them.", no_args_is_help=True)


@policy_app.command("check")
def check(policy: Annotated[Path, typer.Argument(help="Policy YAML file.")]) -> None:
    """Check a policy file and print its rules."""
    try:
        p = load_policy(policy)
    except PolicyError as exc:
        raise fail(str(exc)) from None
    out.print(f"{p.label}: {len(p.rules)} rules, window {p.window_s:g}s")
    for r in p.rules:
        acts = ", ".join(a.action.value + (" (approval)" if a.approval else "") for a in r.then)
        out.print(f"  {r.id}: {acts}", highlight=False)


@policy_app.command("default")
def default() -> None:
    """Print the shipped default policy, a starting point for your own."""
    typer.echo(DEFAULT_POLICY_YAML, nl=False)


@policy_app.command("test")
def test(
    policy: Annotated[Path, typer.Argument(help="Policy YAML file.")],
    logs: Annotated[list[Path], typer.Argument(help="Request log files (traffic-log-v1).")],
    scan: Annotated[
        Path | None, typer.Option(help="A scan output directory to load as the watchlist.")
    ] = None,
    sightings: Annotated[Path | None, typer.Option(help="Partner sightings (JSON lines).")] = None,
    labels: Annotated[
        Path | None, typer.Option(help="Ground-truth labels; default: labels.jsonl beside the first log.")
    ] = None,
    report: Annotated[Path | None, typer.Option("--out", help="Write the full report (JSON) here.")] = None,
    top: Annotated[int, typer.Option(help="How many touched accounts to list (all are in --out).")] = 20,
    quiet: bool = QuietOption,
) -> None:
    """Replay logs through a policy: what would have happened to whom, and how many benign accounts."""
    try:
        p = load_policy(policy)
        watch = Watchlist.load(scan, sightings)
    except (PolicyError, WatchlistError) as exc:
        raise fail(str(exc)) from None
    for log in logs:
        if not log.exists():
            raise fail(f"{log}: no such file")
    if labels is None and (logs[0].parent / "labels.jsonl").is_file():
        labels = logs[0].parent / "labels.jsonl"
    try:
        truth = read_labels(labels) if labels else None
        with progress(quiet) as bar:
            task = bar.add_task("replaying", total=None)
            result = replay(
                p, logs, watch, truth, lambda done, total: bar.update(task, completed=done, total=total)
            )
    except ReadError as exc:
        raise fail(str(exc.issue)) from None
    for issue in result.issues[:10]:
        err.print(f"[yellow]skipped:[/] {issue}", highlight=False)
    n_req = sum(result.decisions.values())
    out.print(f"{result.policy} replayed over {n_req:,} requests from {len(result.accounts):,} accounts")
    t = Table("decision", "requests", "accounts")
    for d in ("allow", "shape", "deny"):
        accts = sum(1 for o in result.accounts.values() if o.decisions[d])
        t.add_row(d, f"{result.decisions[d]:,}", f"{accts:,}")
    out.print(t)
    t = Table("action", "records", "accounts", "benign accounts" if truth else "")
    for action, row in sorted(result.actions_table().items()):
        t.add_row(
            action,
            f"{row['records']:,}",
            f"{row['accounts']:,}",
            f"{row['benign_accounts']:,}" if truth else "",
        )
    out.print(t)
    touched = sorted(
        ((a, o) for a, o in result.accounts.items() if o.touched),
        key=lambda item: (-(item[1].decisions["deny"] + item[1].decisions["shape"]), item[0]),
    )
    if touched:
        t = Table(
            Column("account", no_wrap=True),
            "label",
            "requests",
            "shaped",
            "denied",
            "actions",
            title=f"accounts touched (top {top})",
        )
        for a, o in touched[:top]:
            label = (truth or {}).get(a, "")
            t.add_row(
                a,
                label,
                f"{o.requests:,}",
                f"{o.decisions['shape']:,}",
                f"{o.decisions['deny']:,}",
                ", ".join(sorted(o.actions)),
            )
        out.print(t)
    by_label = result.by_label()
    if truth:
        for label in ("benign", "attack"):
            row = by_label.get(label, {"accounts": 0, "touched": 0, "restricted": 0})
            out.print(
                f"{label} accounts touched: {row['touched']:,} of {row['accounts']:,} "
                f"({row['restricted']:,} shaped or denied)"
            )
    else:
        row = by_label.get("unlabelled", {"accounts": 0, "touched": 0, "restricted": 0})
        out.print(
            f"accounts touched: {row['touched']:,} of {row['accounts']:,} ({row['restricted']:,} shaped or denied); "
            "no labels, so benign accounts cannot be counted (pass --labels)"
        )
    if report:
        write_report(result, report)
        out.print(f"report: {report}")


def register(app: typer.Typer) -> None:
    """Add the command group to the CLI."""
    app.add_typer(policy_app, name="policy")
