"""``distillguard validate``: check traffic files against traffic-log-v1 and report every bad record."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Annotated

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import typer
from rich.progress import Progress, TaskID
from rich.table import Table

from distillguard.cli.common import err, fail, out, progress
from distillguard.io.readers import (
    KINDS,
    REJECTS_SUFFIX,
    Issue,
    ReadError,
    StreamCorrupt,
    find_traffic_files,
    infer_kind,
    iter_lines,
    read_batches,
)
from distillguard.io.writers import batch_to_json_rows, format_of

_MIB = 1 << 20


# ---- helpers shared with ``convert`` ----------------------------------------------------------------


class IssuePrinter:
    """Print issues as ``FILE:LINE: FIELD: REASON`` lines on stdout, at most ``max_shown`` per file."""

    def __init__(self, max_shown: int = 0) -> None:
        self.max_shown = max_shown
        self._shown: dict[str, int] = {}
        self._hidden: dict[str, int] = {}
        # Rich's live progress bar swaps sys.stdout for a proxy that writes to its own console
        # (stderr); when stdout is piped, results must still reach the pipe, so keep the real one.
        self._stdout: IO[str] = sys.stdout

    def emit(self, issue: Issue) -> None:
        """Print one issue unless this file's quota of shown issues is used up."""
        shown = self._shown.get(issue.path, 0)
        if self.max_shown and shown >= self.max_shown:
            self._hidden[issue.path] = self._hidden.get(issue.path, 0) + 1
            return
        self._shown[issue.path] = shown + 1
        self.line(str(issue))

    def line(self, text: str) -> None:
        """Print one plain line on stdout (no Rich markup: fields like ``messages[2]`` are not tags)."""
        stream = sys.stdout if self._stdout.isatty() else self._stdout
        stream.write(text + "\n")
        stream.flush()

    def hidden_notes(self) -> list[str]:
        """Say how many issues per file ``--max-shown`` kept back."""
        return [
            f"note: {path}: {count} more issue(s) not shown (--max-shown {self.max_shown})"
            for path, count in self._hidden.items()
        ]


class RejectsWriter:
    """Append rejected lines, byte for byte, to a side file created on the first one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._handle: IO[bytes] | None = None
        self._partial = path.with_name(path.name + ".partial")

    def write(self, raw: bytes) -> None:
        """Write one rejected line (its newline is added)."""
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(self._partial, "wb")  # noqa: SIM115 - closed in close()
        self._handle.write(raw + b"\n")
        self.count += 1

    def close(self) -> None:
        """Move the finished file into place (nothing is written when nothing was rejected)."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
            os.replace(self._partial, self.path)


def default_rejects_path(path: Path) -> Path:
    """Return ``<input>.rejects.jsonl`` next to an input file."""
    return path.with_name(path.name + REJECTS_SUFFIX)


def check_kind(kind: str | None) -> str | None:
    """Return a valid ``--kind`` value or raise a clean usage error."""
    if kind is not None and kind not in KINDS:
        raise fail(f"unknown --kind {kind!r}; expected one of {', '.join(KINDS)}")
    return kind


def expand_paths(paths: Iterable[Path], kind: str | None) -> list[list[tuple[Path, str]]]:
    """Turn PATH arguments into groups of (file, kind): one group per directory, one for all files.

    Raises a clean usage error for a missing path, a directory without traffic files, or a file
    whose kind cannot be told.
    """
    groups: list[list[tuple[Path, str]]] = []
    loose: list[tuple[Path, str]] = []
    for path in paths:
        if path.is_dir():
            found = find_traffic_files(path)
            files = [(f, k) for k in KINDS for f in found.get(k, []) if kind is None or k == kind]
            if not files:
                wanted = f"{kind} files" if kind else "requests.*, accounts.* or labels.* files"
                raise fail(f"{path}: no {wanted} (.jsonl, .jsonl.gz or .parquet) in this directory")
            groups.append(files)
        elif path.exists():
            try:
                format_of(path)
                loose.append((path, kind or infer_kind(path)))
            except ReadError as exc:
                raise fail(str(exc.issue)) from None
            except ValueError as exc:
                raise fail(str(exc)) from None
        else:
            raise fail(f"{path}: no such file or directory")
    if loose:
        groups.append(loose)
    return groups


def progress_task(bar: Progress, path: Path) -> tuple[TaskID, float]:
    """Add a progress task that counts MiB of a file; return it and the file size in MiB."""
    size = max(path.stat().st_size / _MIB, 0.01)
    return bar.add_task(f"{path.name} (MiB)", total=round(size, 1)), size


# ---- validate -----------------------------------------------------------------------------------


@dataclass
class FileReport:
    """What validation found in one file."""

    path: Path
    kind: str
    ok: int = 0
    invalid: int = 0
    duplicates: int = 0
    warnings: int = 0
    errors: list[str] = field(default_factory=list)  # file-level problems
    notes: list[str] = field(default_factory=list)


@dataclass
class _Context:
    printer: IssuePrinter
    skip_invalid: bool
    rejects: RejectsWriter | None  # one shared file from --rejects
    bar: Progress
    account_ids: set[str] | None = None
    writers: list[RejectsWriter] = field(default_factory=list)


def validate(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories to check.", show_default=False)],
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind", help="Record kind: requests, accounts or labels (default: from the file name)."
        ),
    ] = None,
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid", help="Exit 0 despite bad records, after writing each to a rejects file."
        ),
    ] = False,
    rejects: Annotated[
        Path | None,
        typer.Option(
            "--rejects",
            help="Write rejected lines here (with --skip-invalid the default is <input>.rejects.jsonl).",
            dir_okay=False,
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print no progress bar.")] = False,
    max_shown: Annotated[
        int, typer.Option("--max-shown", min=0, help="Print at most N issues per file (0: all).")
    ] = 0,
) -> None:
    """Check traffic files against the traffic-log-v1 format and report every bad record."""
    check_kind(kind)
    groups = expand_paths(paths, kind)
    inputs = {p.resolve() for g in groups for p, _ in g}
    if rejects is not None and rejects.resolve() in inputs:
        raise fail(f"--rejects {rejects} is one of the inputs")
    printer = IssuePrinter(max_shown)
    reports: list[FileReport] = []
    # --rejects without --skip-invalid still writes the rejects, but bad records still fail the run.
    shared = RejectsWriter(rejects) if rejects is not None else None
    with progress(quiet) as bar:
        ctx = _Context(printer, skip_invalid, shared, bar)
        try:
            for group in groups:
                _validate_group(group, ctx, reports)
        finally:
            for writer in [*ctx.writers, *([shared] if shared else [])]:
                writer.close()
    _summarise(reports, printer, ctx, skip_invalid)
    bad = any(r.errors or r.invalid or r.duplicates for r in reports)
    fatal = any(r.errors for r in reports)
    if fatal or (bad and not skip_invalid):
        raise typer.Exit(1)


def _validate_group(group: list[tuple[Path, str]], ctx: _Context, reports: list[FileReport]) -> None:
    kinds = {k for _, k in group}
    cross = "accounts" in kinds and len(kinds) > 1
    # Accounts first so that requests and labels can be checked against the account ids.
    ordered = sorted(group, key=lambda item: KINDS.index(item[1]) if item[1] != "accounts" else -1)
    ctx.account_ids = set() if cross else None
    known: pa.Array | None = None
    for path, kind in ordered:
        if ctx.account_ids is not None and kind != "accounts" and known is None:
            known = pa.array(sorted(ctx.account_ids), pa.string())
        report = FileReport(path, kind)
        reports.append(report)
        _validate_file(report, ctx, known if kind != "accounts" else None)


def _validate_file(report: FileReport, ctx: _Context, known_accounts: pa.Array | None) -> None:
    path, kind = report.path, report.kind
    rejects = ctx.rejects
    if rejects is None and ctx.skip_invalid:
        rejects = RejectsWriter(default_rejects_path(path))
        ctx.writers.append(rejects)
    hashes: list[np.ndarray] = []
    lines: list[np.ndarray] = []
    unknown_examples: list[str] = []
    task, size = progress_task(ctx.bar, path)
    try:
        results = read_batches(path, kind)
        for result in results:
            for issue in result.issues:
                ctx.printer.emit(issue)
                if issue.fatal:
                    report.errors.append(issue.reason)
                else:
                    report.invalid += 1
                if rejects is not None and issue.raw:
                    rejects.write(issue.raw)
            batch = result.batch
            report.ok += batch.num_rows
            ctx.bar.update(task, completed=round(min(result.bytes_read / _MIB, size), 1))
            if not batch.num_rows:
                continue
            if kind == "accounts" and ctx.account_ids is not None:
                ctx.account_ids.update(batch.column("account_id").to_pylist())
            if kind == "requests":
                ids = batch.column("request_id").to_pylist()
                hashes.append(np.fromiter(map(hash, ids), dtype=np.int64, count=len(ids)))
                lines.append(np.asarray(result.line_numbers, dtype=np.int64))
            if known_accounts is not None:
                col = batch.column("account_id")
                missing = pc.invert(pc.is_in(col, value_set=known_accounts))
                count = pc.sum(missing).as_py() or 0
                if count:
                    report.warnings += count
                    if len(unknown_examples) < 3:
                        for value in pc.unique(col.filter(missing)).to_pylist():
                            if value not in unknown_examples and len(unknown_examples) < 3:
                                unknown_examples.append(value)
    except ReadError as exc:
        ctx.printer.emit(exc.issue)
        report.errors.append(exc.issue.reason)
    ctx.bar.update(task, completed=round(size, 1))
    if hashes:
        _find_duplicates(report, np.concatenate(hashes), np.concatenate(lines), ctx, rejects)
    if report.warnings:
        examples = ", ".join(repr(v) for v in unknown_examples)
        report.notes.append(
            f"warning: {path}: {report.warnings} record(s) name an account_id that the accounts "
            f"file does not have (e.g. {examples})"
        )


def _find_duplicates(
    report: FileReport, hashes: np.ndarray, lines: np.ndarray, ctx: _Context, rejects: RejectsWriter | None
) -> None:
    """Report request_ids seen more than once; 8 bytes per record, exact thanks to a second look."""
    order = np.argsort(hashes, kind="stable")
    sorted_hashes = hashes[order]
    repeated = sorted_hashes[1:] == sorted_hashes[:-1]
    if not repeated.any():
        return
    candidate = np.zeros(len(hashes), dtype=bool)
    candidate[order[1:][repeated]] = True
    candidate[order[:-1][repeated]] = True
    wanted = set(lines[candidate].tolist())
    # Equal hashes may still be different ids: look at the actual ids of the candidate lines.
    seen: dict[str, int] = {}
    duplicates: list[tuple[int, str, int, bytes | None]] = []
    for line, request_id, raw in _lines_with_ids(report, wanted):
        first = seen.setdefault(request_id, line)
        if first != line:
            duplicates.append((line, request_id, first, raw))
    for line, request_id, first, raw in sorted(duplicates):
        issue = Issue(
            str(report.path),
            line,
            "request_id",
            f"duplicate request_id {request_id!r} (first on line {first})",
        )
        ctx.printer.emit(issue)
        report.duplicates += 1
        report.ok -= 1
        if rejects is not None and raw is not None:
            rejects.write(raw)


def _lines_with_ids(report: FileReport, wanted: set[int]) -> Iterable[tuple[int, str, bytes | None]]:
    if format_of(report.path) == "parquet":
        for result in read_batches(report.path, report.kind):
            ids = result.batch.column("request_id").to_pylist()
            for i, line in enumerate(result.line_numbers):
                if line in wanted:
                    row = result.batch.slice(i, 1)
                    yield line, ids[i], orjson.dumps(batch_to_json_rows(row)[0])
        return
    try:
        for line, raw in iter_lines(report.path):
            if line in wanted:
                yield line, orjson.loads(raw)["request_id"], raw
    except (StreamCorrupt, OSError, orjson.JSONDecodeError, KeyError, TypeError):
        return  # the first pass already reported whatever is wrong with the stream


def _summarise(reports: list[FileReport], printer: IssuePrinter, ctx: _Context, skip_invalid: bool) -> None:
    for note in printer.hidden_notes():
        out.print(note, markup=False, highlight=False, soft_wrap=True)
    table = Table(title="validation summary", title_justify="left")
    table.add_column("file", overflow="fold", min_width=26)
    table.add_column("kind")
    table.add_column("ok", justify="right")
    table.add_column("invalid", justify="right")
    table.add_column("duplicates", justify="right")
    table.add_column("warnings", justify="right")
    table.add_column("status")
    for r in reports:
        if r.errors:
            status = "[red]unreadable (see above)[/]"
        elif r.invalid or r.duplicates:
            status = "[yellow]invalid records[/]" if not skip_invalid else "[yellow]rejects written[/]"
        elif r.warnings:
            status = "[yellow]ok, with warnings[/]"
        else:
            status = "[green]ok[/]"
        table.add_row(
            str(r.path).replace("[", r"\["),
            r.kind,
            f"{r.ok:,}",
            f"{r.invalid:,}",
            f"{r.duplicates:,}",
            f"{r.warnings:,}",
            status,
        )
    out.print(table)
    for r in reports:
        for note in r.notes:
            out.print(note, markup=False, highlight=False, soft_wrap=True)
    total_bad = sum(r.invalid + r.duplicates for r in reports)
    writers = [w for w in [*ctx.writers, *([ctx.rejects] if ctx.rejects else [])] if w.count]
    for w in writers:
        out.print(
            f"wrote {w.count:,} rejected line(s) to {w.path}", markup=False, highlight=False, soft_wrap=True
        )
    if skip_invalid and total_bad:
        out.print(
            f"--skip-invalid: {total_bad:,} bad record(s) skipped; the rejects file(s) above keep every "
            "rejected line unchanged",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    files_with_errors = sum(1 for r in reports if r.errors)
    total_ok = sum(r.ok for r in reports)
    if files_with_errors or total_bad:
        err.print(
            f"{total_bad:,} bad record(s), {files_with_errors} file(s) with errors, "
            f"{total_ok:,} valid record(s)",
            highlight=False,
            soft_wrap=True,
        )
    else:
        err.print(f"all {total_ok:,} record(s) valid", highlight=False, soft_wrap=True)


HELP = (
    "Check traffic files against the traffic-log-v1 format and report every bad record."
    "\n\n"
    "Each bad record is printed on stdout as FILE:LINE: FIELD: REASON (for Parquet, LINE is the row "
    "number), followed by a summary per file. A directory is checked file by file (requests.*, "
    "accounts.*, labels.*); when it holds accounts as well, records whose account_id has no account "
    "are counted as warnings. A request_id seen twice in a file is an error."
    "\n\n"
    "Exit code: 0 when every record is valid, 1 when any is not or a file cannot be read, 2 for usage "
    "errors. With --skip-invalid bad records do not fail the run; every rejected line is written "
    "unchanged to <input>.rejects.jsonl (or --rejects) so that nothing is lost silently."
    "\n\n"
    "Example: distillguard validate runs/sim/ --skip-invalid --rejects bad.jsonl"
)


def register(app: typer.Typer) -> None:
    """Add the ``validate`` command to the app."""
    app.command("validate", help=HELP)(validate)


__all__ = ["FileReport", "IssuePrinter", "RejectsWriter", "expand_paths", "register", "validate"]
