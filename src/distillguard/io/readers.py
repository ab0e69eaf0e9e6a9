"""Stream traffic files (JSONL, JSONL.gz, Parquet) as validated Arrow batches in bounded memory.

:func:`read_batches` yields :class:`ReadResult` objects, each with at most ``batch_size`` valid
records and the problems met since the previous one. Memory stays bounded by the batch size (and
the longest line), whatever the file's size. Every bad record is an :class:`Issue` naming the file,
the 1-based line (for Parquet: the 1-based row), the field and the reason; for JSONL it also holds
the raw line so that nothing needs to be lost silently. Valid records around a bad one are kept.

Problems with the file as a whole (empty, not Parquet, wrong column types) are issues with
``fatal=True``; a truncated or corrupt gzip stream is reported once, keeping every record read
before it. Problems opening a path at all (missing file, unknown suffix or kind) raise
:class:`ReadError`, as does :func:`read_table` on the first issue of any kind.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from distillguard.io.records import RecordBuilder, RecordError
from distillguard.io.schema import LABELS, ROLES, SCHEMAS, TIERS, schema_for
from distillguard.io.writers import batch_to_json_rows, format_of

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "KINDS",
    "REJECTS_SUFFIX",
    "Issue",
    "ReadError",
    "ReadResult",
    "StreamCorrupt",
    "corrupt_issue",
    "find_traffic_files",
    "infer_kind",
    "is_traffic_file",
    "iter_lines",
    "read_batches",
    "read_table",
]

DEFAULT_BATCH_SIZE = 10_000
KINDS: tuple[str, ...] = tuple(SCHEMAS)
REJECTS_SUFFIX = ".rejects.jsonl"

_CHUNK = 1 << 20
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Issue:
    """One problem in a file: where (path, line or row, field) and why, with the raw line if known."""

    path: str
    line: int | None
    field: str
    reason: str
    raw: bytes | None = None
    fatal: bool = False  # the file as a whole could not be read (further)

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


class ReadError(Exception):
    """A file that cannot be read as traffic records; carries the first :class:`Issue`."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(str(issue))
        self.issue = issue


@dataclass
class ReadResult:
    """A batch of valid records, the line (or row) number of each, and the issues met along the way."""

    batch: pa.RecordBatch
    issues: list[Issue]
    line_numbers: list[int]
    bytes_read: int  # how far into the file (compressed bytes), for progress bars
    lines_read: int = 0  # lines (or rows) consumed so far, good or bad


class StreamCorrupt(Exception):
    """Raised by :func:`iter_lines` when a gzip stream ends early or is corrupt."""

    def __init__(self, line: int, partial: bytes, detail: str) -> None:
        super().__init__(f"line {line}: gzip stream is truncated/corrupt ({detail})")
        self.line = line
        self.partial = partial
        self.detail = detail


# ---- finding files and kinds ------------------------------------------------------------------------


def is_traffic_file(path: str | os.PathLike[str]) -> bool:
    """Say whether a path has a traffic file suffix (and is not a rejects or unfinished file)."""
    name = os.fspath(path)
    if name.lower().endswith(REJECTS_SUFFIX):
        return False
    try:
        format_of(name)
    except ValueError:
        return False
    return True


def infer_kind(path: str | os.PathLike[str]) -> str:
    """Infer the record kind from a file name (``requests.jsonl``, ``accounts-001.parquet``...).

    A Parquet file whose name says nothing is asked for the kind its writer recorded.
    """
    kind = _kind_from_name(path)
    if kind is not None:
        return kind
    if os.fspath(path).lower().endswith(".parquet"):
        # Our writers record the kind in the schema metadata; use it when the name says nothing.
        try:
            meta = pq.read_schema(path).metadata or {}
        except (pa.ArrowException, OSError):
            meta = {}
        recorded = meta.get(b"kind", b"").decode(errors="replace")
        if recorded in KINDS:
            return recorded
    raise ReadError(
        Issue(
            os.fspath(path),
            None,
            "",
            "cannot tell the record kind from the file name; name it requests.*, accounts.* or "
            "labels.*, or pass --kind",
            fatal=True,
        )
    )


def _kind_from_name(path: str | os.PathLike[str]) -> str | None:
    name = Path(path).name.lower()
    for kind in KINDS:
        if name.startswith(kind) and len(name) > len(kind) and name[len(kind)] in ".-_":
            return kind
    return None


def find_traffic_files(directory: str | os.PathLike[str]) -> dict[str, list[Path]]:
    """Return the traffic files directly in a directory, by kind (sorted by name; kinds may be absent)."""
    found: dict[str, list[Path]] = {}
    for entry in sorted(Path(directory).iterdir()):
        if not entry.is_file() or not is_traffic_file(entry):
            continue
        kind = _kind_from_name(entry)
        if kind is not None:
            found.setdefault(kind, []).append(entry)
    return found


# ---- reading ----------------------------------------------------------------------------------------


def read_batches(
    path: str | os.PathLike[str],
    kind: str | None = None,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> Iterator[ReadResult]:
    """Stream a traffic file as validated batches of at most ``batch_size`` records, with their issues.

    ``kind`` defaults to the one the file name implies. Raises ReadError if the file cannot be opened.
    """
    path = Path(path)
    if kind is None:
        kind = infer_kind(path)
    try:
        schema_for(kind)
    except ValueError as exc:
        raise ReadError(Issue(str(path), None, "", str(exc), fatal=True)) from None
    try:
        fmt = format_of(path)
    except ValueError as exc:
        raise ReadError(Issue(str(path), None, "", str(exc).split(": ", 1)[-1], fatal=True)) from None
    if not path.is_file():
        reason = "is a directory, not a file" if path.is_dir() else "no such file"
        raise ReadError(Issue(str(path), None, "", reason, fatal=True))
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if fmt == "parquet":
        return _read_parquet(path, kind, batch_size)
    return _read_jsonl(path, kind, batch_size)


def read_table(path: str | os.PathLike[str], kind: str | None = None) -> pa.Table:
    """Read a whole traffic file into one table; raise ReadError at the first invalid record."""
    kind = kind or infer_kind(path)
    batches = []
    for result in read_batches(path, kind):
        if result.issues:
            raise ReadError(result.issues[0])
        batches.append(result.batch)
    return pa.Table.from_batches(batches, schema=schema_for(kind))


def iter_lines(
    path: str | os.PathLike[str], position: list[int] | None = None
) -> Iterator[tuple[int, bytes]]:
    """Yield ``(line number, line without its newline)`` of a text or gzip file, reading in chunks.

    Blank lines are yielded too (callers skip them). A UTF-8 byte order mark is dropped. If given,
    ``position[0]`` follows the bytes consumed from disk. A gzip stream that ends early or is corrupt
    raises :class:`StreamCorrupt` after every complete line before it was yielded.
    """
    path = Path(path)
    gz = os.fspath(path).lower().endswith(".gz")
    with open(path, "rb") as raw:
        stream: Any = gzip.GzipFile(fileobj=raw, mode="rb") if gz else raw
        # read1: one decompression step per call, so nothing decoded is lost when a later one fails.
        read = stream.read1 if gz else stream.read
        lineno = 0
        pending: list[bytes] = []
        first = True
        while True:
            if gz:
                try:
                    chunk = read(_CHUNK)
                except (EOFError, OSError, zlib.error) as exc:
                    raise StreamCorrupt(lineno + 1, b"".join(pending), _gzip_detail(exc)) from None
            else:
                chunk = read(_CHUNK)
            if position is not None:
                position[0] = raw.tell()
            if not chunk:
                break
            if first:
                first = False
                if chunk.startswith(_BOM):
                    chunk = chunk[len(_BOM) :]
            if b"\n" not in chunk:
                pending.append(chunk)  # a line longer than a chunk
                continue
            if pending:
                pending.append(chunk)
                chunk = b"".join(pending)
                pending = []
            lines = chunk.split(b"\n")
            tail = lines.pop()
            if tail:
                pending.append(tail)
            for line in lines:
                lineno += 1
                yield lineno, line
        if pending:
            yield lineno + 1, b"".join(pending)


def corrupt_issue(path: str, exc: StreamCorrupt) -> Issue:
    """Turn a StreamCorrupt into an issue: fatal only if nothing at all could be decompressed."""
    fatal = exc.line == 1 and not exc.partial
    reason = f"gzip stream is truncated/corrupt: {exc.detail}"
    return Issue(path, exc.line, "", reason, exc.partial or None, fatal=fatal)


def _gzip_detail(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "the file ends before the end of the compressed stream"
    text = str(exc) or type(exc).__name__
    return text


def _read_jsonl(path: Path, kind: str, batch_size: int) -> Iterator[ReadResult]:
    name = str(path)
    builder = RecordBuilder(kind)
    add = builder.add
    loads = orjson.loads
    issues: list[Issue] = []
    numbers: list[int] = []
    position = [0]
    records = 0
    lineno = 0
    try:
        for lineno, line in iter_lines(path, position):
            if not line or line.isspace():
                continue
            try:
                add(loads(line))
            except orjson.JSONDecodeError as exc:
                issues.append(
                    Issue(name, lineno, "", f"not valid JSON at column {exc.pos + 1}: {exc.msg}", line)
                )
            except RecordError as exc:
                issues.append(Issue(name, lineno, exc.field, exc.reason, line))
            else:
                numbers.append(lineno)
                records += 1
                if len(numbers) >= batch_size:
                    yield ReadResult(builder.build(), issues, numbers, position[0], lineno)
                    issues, numbers = [], []
                    continue
            if len(issues) >= batch_size:  # a file of nothing but bad lines must not pile up
                yield ReadResult(builder.build(), issues, numbers, position[0], lineno)
                issues, numbers = [], []
    except StreamCorrupt as exc:
        issues.append(corrupt_issue(name, exc))
        lineno = exc.line
    except OSError as exc:
        issues.append(Issue(name, None, "", f"cannot read the file: {exc.strerror or exc}", fatal=True))
    if records == 0 and not issues:
        reason = "file is empty" if lineno == 0 else "file contains no records (only blank lines)"
        issues.append(Issue(name, None, "", reason, fatal=True))
    if numbers or issues:
        yield ReadResult(builder.build(), issues, numbers, position[0], lineno)


# ---- Parquet ----------------------------------------------------------------------------------------


class _SchemaProblem(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(f"{column}: {reason}")
        self.column = column
        self.reason = reason


def _read_parquet(path: Path, kind: str, batch_size: int) -> Iterator[ReadResult]:
    name = str(path)
    schema = schema_for(kind)
    size = path.stat().st_size
    if size == 0:
        yield _fatal(schema, Issue(name, None, "", "file is empty", fatal=True))
        return
    try:
        pfile = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        yield _fatal(schema, Issue(name, None, "", f"not a readable Parquet file: {exc}", fatal=True))
        return
    file_schema = pfile.schema_arrow
    problem = _check_columns(file_schema, schema)
    if problem is not None:
        yield _fatal(schema, Issue(name, None, problem.column, problem.reason, fatal=True))
        return
    total = pfile.metadata.num_rows
    if total == 0:
        yield _fatal(schema, Issue(name, None, "", "file contains no records", fatal=True))
        return
    unknown = [n for n in file_schema.names if n not in schema.names]
    done = 0
    try:
        for raw_batch in pfile.iter_batches(batch_size=batch_size):
            first_row = done + 1
            done += raw_batch.num_rows
            try:
                table = _conform_parquet(raw_batch, schema, unknown)
            except _SchemaProblem as exc:
                yield _fatal(schema, Issue(name, None, exc.column, exc.reason, fatal=True))
                return
            batch, numbers, issues = _check_rows(table, first_row, name)
            yield ReadResult(batch, issues, numbers, int(size * done / total), done)
    except (pa.ArrowException, OSError) as exc:
        yield _fatal(schema, Issue(name, done + 1, "", f"cannot read the Parquet file: {exc}", fatal=True))


def _fatal(schema: pa.Schema, issue: Issue) -> ReadResult:
    return ReadResult(_empty(schema), [issue], [], 0)


def _empty(schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([], schema=schema)


def _compatible(actual: pa.DataType, expected: pa.DataType, column: str) -> None:
    """Raise _SchemaProblem unless a column of type ``actual`` can stand for ``expected``."""
    if actual == expected or pa.types.is_null(actual):
        return
    ok = False
    if pa.types.is_string(expected):
        ok = pa.types.is_string(actual) or pa.types.is_large_string(actual) or pa.types.is_string_view(actual)
    elif pa.types.is_integer(expected):
        ok = pa.types.is_integer(actual)
    elif pa.types.is_floating(expected):
        ok = pa.types.is_floating(actual) or pa.types.is_integer(actual)
    elif pa.types.is_boolean(expected):
        ok = pa.types.is_boolean(actual)
    elif pa.types.is_timestamp(expected):
        if pa.types.is_timestamp(actual) and actual.tz is None:
            raise _SchemaProblem(column, f"column has type {actual} without a time zone; expected {expected}")
        ok = pa.types.is_timestamp(actual)
    elif pa.types.is_list(expected) and (pa.types.is_list(actual) or pa.types.is_large_list(actual)):
        _compatible(actual.value_type, expected.value_type, f"{column}[]")
        return
    elif pa.types.is_struct(expected) and pa.types.is_struct(actual):
        for child in actual:
            idx = expected.get_field_index(child.name)
            if idx < 0:
                raise _SchemaProblem(
                    f"{column}.{child.name}", "the schema has no such field (cannot keep it)"
                )
            _compatible(child.type, expected.field(idx).type, f"{column}.{child.name}")
        return
    if not ok:
        raise _SchemaProblem(column, f"column has type {actual}; expected {expected}")


def _check_columns(actual: pa.Schema, expected: pa.Schema) -> _SchemaProblem | None:
    for fld in expected:
        idx = actual.get_field_index(fld.name)
        if idx < 0:
            if not fld.nullable:
                return _SchemaProblem(fld.name, "required column is missing")
            continue
        try:
            _compatible(actual.field(idx).type, fld.type, fld.name)
        except _SchemaProblem as exc:
            return exc
    return None


def _cast(arr: pa.Array, target: pa.DataType, column: str) -> pa.Array:
    if arr.type == target:
        return arr
    if pa.types.is_null(arr.type):
        return pa.nulls(len(arr), target)
    try:
        if pa.types.is_struct(target):
            children = []
            for fld in target:
                idx = arr.type.get_field_index(fld.name)
                child = arr.field(idx) if idx >= 0 else pa.nulls(len(arr), fld.type)
                children.append(_cast(child, fld.type, f"{column}.{fld.name}"))
            return pa.StructArray.from_arrays(children, fields=list(target), mask=arr.is_null())
        if pa.types.is_list(target):
            values = _cast(arr.values, target.value_type, f"{column}[]")
            offsets = arr.offsets.cast(pa.int32())
            mask = arr.is_null() if arr.null_count else None
            return pa.ListArray.from_arrays(offsets, values, type=target, mask=mask)
        if pa.types.is_timestamp(target):
            return arr.cast(target, safe=False)  # finer units are truncated to microseconds
        return arr.cast(target)
    except pa.ArrowException as exc:
        raise _SchemaProblem(column, f"cannot convert {arr.type} to {target}: {exc}") from None


def _conform_parquet(batch: pa.RecordBatch, schema: pa.Schema, unknown: list[str]) -> pa.Table:
    columns = []
    for fld in schema:
        idx = batch.schema.get_field_index(fld.name)
        if idx < 0:
            columns.append(pa.nulls(batch.num_rows, fld.type))
        else:
            columns.append(_cast(batch.column(idx), fld.type, fld.name))
    if unknown:
        columns[schema.get_field_index("extra")] = _merge_unknown_columns(batch, unknown)
    return pa.Table.from_arrays(columns, schema=schema)


def _merge_unknown_columns(batch: pa.RecordBatch, unknown: list[str]) -> pa.Array:
    """Move columns the schema does not name into the ``extra`` JSON text, as JSONL input would be."""
    names = batch.schema.names
    extras = batch.column(names.index("extra")).to_pylist() if "extra" in names else [None] * batch.num_rows
    others = {n: batch.column(names.index(n)).to_pylist() for n in unknown}
    merged: list[str | None] = []
    for i, text in enumerate(extras):
        try:
            obj = orjson.loads(text) if text else {}
        except orjson.JSONDecodeError:
            merged.append(text)  # left for _check_rows to report
            continue
        if not isinstance(obj, dict):
            merged.append(text)
            continue
        for n in unknown:
            value = others[n][i]
            if value is not None:
                obj.setdefault(n, value)
        merged.append(orjson.dumps(obj, default=str).decode() if obj else None)
    return pa.array(merged, pa.string())


_CHOICE_COLUMNS = {"tier": TIERS, "label": LABELS}


def _check_rows(table: pa.Table, first_row: int, name: str) -> tuple[pa.RecordBatch, list[int], list[Issue]]:
    """Apply the record rules that the column types cannot express, vectorised; drop breaking rows."""
    n = table.num_rows
    bad: dict[int, tuple[str, str]] = {}

    def flag(indices: Any, field: str | list[str], reason: str | list[str]) -> None:
        for j, i in enumerate(np.asarray(indices).tolist()):
            if i not in bad:
                bad[i] = (
                    field if isinstance(field, str) else field[j],
                    reason if isinstance(reason, str) else reason[j],
                )

    for fld in table.schema:
        col = table.column(fld.name)
        if not fld.nullable and col.null_count:
            flag(pc.indices_nonzero(col.is_null()), fld.name, "required field is null")
        if fld.name in _CHOICE_COLUMNS:
            choices = _CHOICE_COLUMNS[fld.name]
            wrong = pc.and_(col.is_valid(), pc.invert(pc.is_in(col, value_set=pa.array(choices))))
            idx = pc.indices_nonzero(wrong)
            if len(idx):
                values = col.take(idx).to_pylist()
                flag(idx, fld.name, [f"unknown {fld.name} {v!r}; expected {_or(choices)}" for v in values])
    if "messages" in table.column_names:
        _check_messages(table.column("messages").combine_chunks(), flag)
    if "extra" in table.column_names:
        extra = table.column("extra")
        if extra.null_count < n:
            for i, text in enumerate(extra.to_pylist()):
                if text is None:
                    continue
                try:
                    ok = isinstance(orjson.loads(text), dict)
                except orjson.JSONDecodeError:
                    ok = False
                if not ok:
                    flag([i], "extra", "not a JSON object text")
    issues: list[Issue] = []
    if bad:
        rows = sorted(bad)
        for i in rows:
            fld_name, reason = bad[i]
            issues.append(Issue(name, first_row + i, fld_name, reason, _row_json(table.slice(i, 1))))
        keep = np.ones(n, dtype=bool)
        keep[rows] = False
        table = table.filter(pa.array(keep))
        numbers = [first_row + i for i in np.flatnonzero(keep).tolist()]
    else:
        numbers = list(range(first_row, first_row + n))
    batch = table.combine_chunks().to_batches()
    return (batch[0] if batch else _empty(table.schema)), numbers, issues


def _check_messages(col: pa.Array, flag: Any) -> None:
    if len(col) == 0 or col.null_count == len(col):
        return
    flat = pc.list_flatten(col)
    if len(flat) == 0:
        return
    parents = np.asarray(pc.list_parent_indices(col))
    offsets = np.asarray(col.offsets)
    position = np.arange(len(flat)) - (offsets[parents] - offsets[0])
    role = pc.struct_field(flat, "role")
    content = pc.struct_field(flat, "content")
    role_missing = np.asarray(role.is_null())
    role_wrong = np.asarray(pc.invert(pc.is_in(role, value_set=pa.array(ROLES)))) & ~role_missing
    content_missing = np.asarray(content.is_null())
    for mask, what in ((role_missing, "role"), (role_wrong, "role"), (content_missing, "content")):
        hits = np.flatnonzero(mask)
        if not len(hits):
            continue
        if mask is role_wrong:
            values = role.take(pa.array(hits)).to_pylist()
            reasons: str | list[str] = [f"unknown role {v!r}; expected {_or(ROLES)}" for v in values]
        else:
            reasons = "required field is missing"
        fields = [f"messages[{p}].{what}" for p in position[hits].tolist()]
        flag(parents[hits], fields, reasons)


def _or(choices: tuple[str, ...]) -> str:
    return ", ".join(choices[:-1]) + " or " + choices[-1]


def _row_json(table: pa.Table) -> bytes:
    """A Parquet row as a JSON line, for rejects files: spec JSON where possible."""
    try:
        return orjson.dumps(batch_to_json_rows(table)[0], default=str)
    except (orjson.JSONDecodeError, TypeError, AttributeError, ValueError):
        return orjson.dumps(table.to_pylist()[0], default=str)  # e.g. an extra that is not JSON
