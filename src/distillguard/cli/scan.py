"""``distillguard scan``: find distillation campaigns in traffic logs."""

from __future__ import annotations

import tempfile
from pathlib import Path

import typer
from rich.table import Table

from distillguard.cli.common import QuietOption, err, fail, out, progress


def scan(
    requests: list[Path] = typer.Argument(
        ..., help="Request logs (JSONL, JSONL.gz or Parquet), or a directory."
    ),
    accounts: Path | None = typer.Option(
        None, "--accounts", "-a", help="Accounts file (enables payment/sign-up links)."
    ),
    out_dir: Path = typer.Option(
        Path("runs/scan"), "--out", "-o", help="Directory for accounts.csv, campaigns.json, report.html."
    ),
    fpr: float = typer.Option(
        0.001, "--fpr", help="False-positive rate to calibrate to (share of benign accounts)."
    ),
    engine: str = typer.Option("duckdb", "--engine", help="duckdb (embedded) or pyspark."),
    distribution: bool = typer.Option(
        False,
        "--distribution/--no-distribution",
        help="Embed 4 prompts per account and run the MMD distribution test on loose clusters "
        "(adds roughly one minute per 4,000 accounts on two cores).",
    ),
    quiet: bool = QuietOption,
) -> None:
    """Scan traffic for distillation campaigns, calibrated to a false-positive rate without labels.

    Writes accounts.csv (risk, flag, cluster, campaign, reasons per account), campaigns.json
    (campaigns with evidence) and report.html.

    Example:

        distillguard scan runs/demo/requests.parquet --accounts runs/demo/accounts.parquet --out runs/scan
    """
    from distillguard.io.readers import find_traffic_files
    from distillguard.scan import ScanConfig, detect, read_accounts, stage, write_outputs

    if not 0 < fpr < 1:
        raise fail("--fpr must be between 0 and 1, e.g. 0.001")
    paths: list[Path] = []
    for p in requests:
        if p.is_dir():
            found = find_traffic_files(p)
            paths.extend(found.get("requests", []))
            if accounts is None and found.get("accounts"):
                accounts = found["accounts"][0]
        elif p.exists():
            paths.append(p)
        else:
            raise fail(f"{p}: no such file or directory")
    if not paths:
        raise fail("no request logs found; pass files or a directory containing requests.*")
    with tempfile.TemporaryDirectory(prefix="distillguard-") as work:
        with progress(quiet) as bar:
            task = bar.add_task("reading requests", total=None)
            try:
                staged = stage(paths, work, on_progress=lambda n: bar.update(task, completed=n))
            except ValueError as exc:
                raise fail(str(exc)) from None
            bar.update(task, description=f"read {staged.requests:,} requests")
        for issue in staged.issues[:20]:
            err.print(f"[yellow]skipped[/] {issue}", highlight=False)
        if len(staged.issues) > 20:
            err.print(f"[yellow]skipped {len(staged.issues) - 20} more bad records[/]")
        acc_table, acc_issues = read_accounts(accounts)
        for issue in acc_issues[:20]:
            err.print(f"[yellow]skipped[/] {issue}", highlight=False)
        if staged.requests == 0:
            err.print("no valid requests: writing empty results")
        samples = None
        if distribution and staged.requests:
            from distillguard.features.samples import load_or_build_prompt_sample

            with progress(quiet) as bar:
                task = bar.add_task("embedding prompt samples", total=None)

                def _embedded(phase: str, done: int, total: int) -> None:
                    bar.update(task, description=f"{phase} prompt samples", completed=done, total=total)

                samples = load_or_build_prompt_sample(work, paths, per_account=4, on_progress=_embedded)
        try:
            det = detect(work, acc_table, ScanConfig(fpr=fpr, engine=engine), samples)
        except ValueError as exc:
            raise fail(str(exc)) from None
    files = write_outputs(det, out_dir)
    try:
        from distillguard.report.html import write_report

        files.append(write_report(det, out_dir, fpr=fpr))
    except ImportError:
        pass
    flagged = int(det.accounts["flagged"].sum()) if len(det.accounts) else 0
    table = Table(
        title=f"{len(det.accounts):,} accounts scanned, {flagged:,} flagged at FPR {fpr}",
        title_justify="left",
    )
    for col in ("campaign", "accounts", "requests", "tactics", "confidence"):
        table.add_column(col)
    for c in det.campaigns[:15]:
        table.add_row(
            c["campaign_id"],
            f"{c['n_accounts']:,}",
            f"{c['requests']:,}",
            ", ".join(t["tactic"] for t in c["tactics"][:4]),
            f"{c['confidence']:.4f}",
        )
    out.print(table)
    if len(det.campaigns) > 15:
        out.print(f"... and {len(det.campaigns) - 15} more campaigns in campaigns.json")
    for f in files:
        err.print(f"wrote {f}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the command to the CLI."""
    app.command("scan")(scan)
