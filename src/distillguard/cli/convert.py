"""``distillguard convert``: rewrite traffic logs as JSONL, JSONL.gz or Parquet, or adapt gateway logs."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from distillguard.cli.common import err, fail, out, progress
from distillguard.cli.validate import (
    IssuePrinter,
    RejectsWriter,
    check_kind,
    default_rejects_path,
    expand_paths,
    progress_task,
)
from distillguard.io.readers import (
    DEFAULT_BATCH_SIZE,
    Issue,
    ReadError,
    ReadResult,
    StreamCorrupt,
    corrupt_issue,
    iter_lines,
    read_batches,
)
from distillguard.io.records import RecordBuilder, RecordError
from distillguard.io.writers import TrafficWriter, format_of

SOURCES = ("traffic", "litellm", "otel")
_MIB = 1 << 20


def convert(
    inputs: Annotated[list[Path], typer.Argument(help="Input files (or directories of traffic files).")],
    output: Annotated[
        Path,
        typer.Option("--out", "-o", help="Output file: .jsonl, .jsonl.gz or .parquet.", dir_okay=False),
    ],
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind", help="Record kind: requests, accounts or labels (default: from the file name)."
        ),
    ] = None,
    source: Annotated[
        str,
        typer.Option("--from", help="Input format: traffic (traffic-log-v1), litellm or otel."),
    ] = "traffic",
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid", help="Leave out bad records (saved to a rejects file) instead of failing."
        ),
    ] = False,
    rejects: Annotated[
        Path | None,
        typer.Option(
            "--rejects",
            help="Rejects file (default with --skip-invalid: <input>.rejects.jsonl).",
            dir_okay=False,
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print no progress bar.")] = False,
) -> None:
    """Convert traffic logs between JSONL, JSONL.gz and Parquet, or from LiteLLM / OpenTelemetry logs."""
    check_kind(kind)
    if source not in SOURCES:
        raise fail(f"unknown --from {source!r}; expected one of {', '.join(SOURCES)}")
    try:
        format_of(output)
    except ValueError as exc:
        raise fail(str(exc)) from None
    files = _resolve_inputs(inputs, kind, source)
    out_kind = files[0][1]
    if output.resolve() in {p.resolve() for p, _ in files}:
        raise fail(f"--out {output} is one of the inputs")
    adapter: Callable[[Any], Iterator[dict[str, Any]]] | None = None
    adapter_error: type[Exception] = Exception
    if source != "traffic":
        adapter, adapter_error = _load_adapter(source)

    printer = IssuePrinter()
    shared = RejectsWriter(rejects) if rejects is not None else None
    writers: list[RejectsWriter] = []
    writer: TrafficWriter | None = TrafficWriter(output, out_kind)
    written = invalid = 0
    fatal: list[str] = []
    try:
        with progress(quiet) as bar:
            for path, file_kind in files:
                side = shared
                if side is None and skip_invalid:
                    side = RejectsWriter(default_rejects_path(path))
                    writers.append(side)
                task, size = progress_task(bar, path)
                if adapter is None:
                    results = _traffic_results(path, file_kind)
                else:
                    results = _adapted_results(path, adapter, adapter_error)
                for result in results:
                    for issue in result.issues:
                        printer.emit(issue)
                        if issue.fatal:
                            fatal.append(str(issue))
                        else:
                            invalid += 1
                        if side is not None and issue.raw:
                            side.write(issue.raw)
                    if writer is not None and (fatal or (invalid and not skip_invalid)):
                        # Keep reading to report every bad record, but write nothing more.
                        writer.abort()
                        writer = None
                    if writer is not None and result.batch.num_rows:
                        writer.write_batch(result.batch)
                        written += result.batch.num_rows
                    bar.update(task, completed=round(min(result.bytes_read / _MIB, size), 1))
                bar.update(task, completed=round(size, 1))
        if writer is not None:
            writer.close()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    finally:
        for side in [*writers, *([shared] if shared else [])]:
            side.close()

    for side in [*writers, *([shared] if shared else [])]:
        if side.count:
            out.print(
                f"wrote {side.count:,} rejected line(s) to {side.path}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
    if writer is None:
        why = "unreadable input" if fatal else f"{invalid:,} bad record(s)"
        hint = "" if fatal else "; use --skip-invalid to leave them out"
        err.print(f"[bold red]error:[/] {why}; no output written{hint}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    skipped = f", skipped {invalid:,} bad record(s)" if invalid else ""
    out.print(
        f"wrote {written:,} {out_kind} record(s) to {output}{skipped}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def _resolve_inputs(inputs: list[Path], kind: str | None, source: str) -> list[tuple[Path, str]]:
    if source != "traffic":
        if kind not in (None, "requests"):
            raise fail(f"--from {source} produces requests records, not {kind}")
        for path in inputs:
            if not path.is_file():
                raise fail(f"{path}: no such file")
        return [(path, "requests") for path in inputs]
    files = [item for group in expand_paths(inputs, kind) for item in group]
    kinds = sorted({k for _, k in files})
    if len(kinds) > 1:
        raise fail(f"the inputs hold several record kinds ({', '.join(kinds)}); convert one kind at a time")
    return files


def _load_adapter(source: str) -> tuple[Callable[[Any], Iterator[dict[str, Any]]], type[Exception]]:
    # Imported here so that plain conversions work without the adapters package.
    try:
        from distillguard.io.adapters import ADAPTERS, AdapterError
    except ImportError as exc:
        raise fail(f"--from {source}: the adapters are not available ({exc})") from None
    if source not in ADAPTERS:
        raise fail(f"--from {source}: no such adapter; available: {', '.join(sorted(ADAPTERS))}")
    return ADAPTERS[source], AdapterError


def _traffic_results(path: Path, kind: str) -> Iterator[ReadResult]:
    try:
        yield from read_batches(path, kind)
    except ReadError as exc:
        yield ReadResult(RecordBuilder(kind).build(), [exc.issue], [], 0)


# ---- adapter input ------------------------------------------------------------------------------


@dataclass
class _Doc:
    line: int | None
    prefix: str  # "[3]" for the 4th element of a JSON array
    value: Any
    raw: bytes


def _adapted_results(
    path: Path,
    adapter: Callable[[Any], Iterator[dict[str, Any]]],
    adapter_error: type[Exception],
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> Iterator[ReadResult]:
    """Run each source document through the adapter and then through traffic-log-v1 validation."""
    name = str(path)
    builder = RecordBuilder("requests")
    issues: list[Issue] = []
    numbers: list[int] = []
    position = [0]
    for item in _documents(path, position):
        if isinstance(item, Issue):
            issues.append(item)
            continue
        before = len(builder)
        issues.extend(_adapt_one(item, name, adapter, adapter_error, builder))
        numbers.extend([item.line or 0] * (len(builder) - before))
        if len(builder) >= batch_size or len(issues) >= batch_size:
            yield ReadResult(builder.build(), issues, numbers, position[0])
            issues, numbers = [], []
    yield ReadResult(builder.build(), issues, numbers, position[0])


def _adapt_one(
    doc: _Doc,
    name: str,
    adapter: Callable[[Any], Iterator[dict[str, Any]]],
    adapter_error: type[Exception],
    builder: RecordBuilder,
) -> list[Issue]:
    def issue(field: str, reason: str) -> Issue:
        where = f"{doc.prefix}.{field}" if doc.prefix and field else (doc.prefix or field)
        return Issue(name, doc.line, where, reason, doc.raw)

    try:
        records = list(adapter(doc.value))
    except adapter_error as exc:
        return [issue(getattr(exc, "field", "") or "", getattr(exc, "reason", None) or str(exc))]
    except Exception as exc:  # an adapter bug must not hide which input triggered it
        return [issue("", f"the adapter failed: {type(exc).__name__}: {exc}")]
    rows = []
    problems = []
    for record in records:
        try:
            rows.append(builder.parse(record))
        except RecordError as exc:
            field = f"(converted record) {exc.field}" if exc.field else "(converted record)"
            problems.append(Issue(name, doc.line, field, exc.reason, doc.raw))
    if problems:
        # A document is kept or rejected whole, so its rejected line can be converted again later;
        # one issue per document keeps the count of issues equal to the count of rejected lines.
        first = problems[0]
        if len(problems) > 1:
            more = f" (and {len(problems) - 1} more bad record(s) from this document)"
            first = Issue(first.path, first.line, first.field, first.reason + more, first.raw)
        return [first]
    for row in rows:
        builder.append(row)
    return []


def _documents(path: Path, position: list[int]) -> Iterator[_Doc | Issue]:
    """Yield the source documents of a file: one per JSONL line, or the parts of a whole-file JSON."""
    name = str(path)
    lines = iter_lines(path, position)
    seen_any = False
    try:
        for lineno, line in lines:
            if not line or line.isspace():
                continue
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                # A pretty-printed JSON document fails on its first line with "end of data".
                if not seen_any and exc.pos >= len(line.rstrip()):
                    whole = _whole_file(path)
                    if whole is not None:
                        yield from _split(whole, 1, orjson.dumps(whole))
                        return
                seen_any = True
                yield Issue(name, lineno, "", f"not valid JSON at column {exc.pos + 1}: {exc.msg}", line)
                continue
            seen_any = True
            yield from _split(value, lineno, line)
    except StreamCorrupt as exc:
        yield corrupt_issue(name, exc)
        return
    except OSError as exc:
        yield Issue(name, None, "", f"cannot read the file: {exc}", fatal=True)
        return
    if not seen_any:
        yield Issue(name, None, "", "file is empty", fatal=True)


def _split(value: Any, line: int, raw: bytes) -> Iterator[_Doc]:
    if isinstance(value, list):  # an export holding many documents
        for i, item in enumerate(value):
            yield _Doc(line, f"[{i}]", item, orjson.dumps(item))
    else:
        yield _Doc(line, "", value, raw)


def _whole_file(path: Path) -> Any | None:
    """Parse a whole file as one JSON value (needs memory for all of it), or return None."""
    try:
        data = path.read_bytes()
        if path.name.lower().endswith(".gz"):
            data = gzip.decompress(data)
        return orjson.loads(data)
    except (OSError, EOFError, zlib.error, orjson.JSONDecodeError):
        return None


HELP = (
    "Convert traffic logs between JSONL, JSONL.gz and Parquet, or from LiteLLM / OpenTelemetry logs."
    "\n\n"
    "Records stream through validation: each bad one is printed as FILE:LINE: FIELD: REASON. "
    "Without --skip-invalid any bad record fails the run (exit 1) and no output file is left "
    "behind; with it, bad records are left out and their input lines are written, unchanged, to a "
    "rejects file. With --from litellm or --from otel each input line (or a whole-file JSON object "
    "or array) is one source document, turned into traffic-log-v1 requests by that adapter."
    "\n\n"
    "Example: distillguard convert requests.jsonl.gz --out requests.parquet"
    "\n\n"
    "Example: distillguard convert gateway.jsonl --from litellm --skip-invalid --out requests.jsonl.gz"
)


def register(app: typer.Typer) -> None:
    """Add the ``convert`` command to the app."""
    app.command("convert", help=HELP)(convert)


__all__ = ["convert", "register"]
