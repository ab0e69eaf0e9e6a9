"""Write traffic records (Arrow batches in the schemas of ``io.schema``) as JSONL, JSONL.gz or Parquet.

A writer fills ``<path>.partial`` and renames it into place only when closed without error, so a
crash or an interrupted run never leaves a file that looks complete but is not.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from distillguard.io.schema import NESTED_OBJECTS, format_ts, schema_for

FORMATS = ("jsonl", "jsonl.gz", "parquet")
# Nulls are omitted from JSON lines, except where the spec shows the key with a null value.
KEEP_NULL = frozenset({"campaign_id"})


def format_of(path: str | os.PathLike[str]) -> str:
    """Return the traffic file format that a path's suffix names, or raise ValueError."""
    name = os.fspath(path).lower()
    for fmt in ("jsonl.gz", "jsonl", "parquet"):
        if name.endswith("." + fmt):
            return fmt
    if name.endswith(".json.gz") or name.endswith(".ndjson.gz"):
        return "jsonl.gz"
    if name.endswith(".ndjson"):
        return "jsonl"
    raise ValueError(f"{path}: cannot tell the format from the suffix; use .jsonl, .jsonl.gz or .parquet")


def batch_to_json_rows(batch: pa.RecordBatch | pa.Table) -> list[dict[str, Any]]:
    """Turn an Arrow batch back into spec JSON objects: RFC 3339 times, nulls omitted, extras merged."""
    rows = batch.to_pylist()
    return [_json_row(row) for row in rows]


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    extra_text = row.pop("extra", None)
    extra: dict[str, Any] = orjson.loads(extra_text) if extra_text else {}
    out: dict[str, Any] = {}
    for key, value in row.items():
        if value is None:
            nested_extra = extra.pop(key, None) if key in NESTED_OBJECTS else None
            if nested_extra:
                out[key] = nested_extra
            elif key in KEEP_NULL:
                out[key] = None
            continue
        if key in ("ts", "created_at"):
            out[key] = format_ts(value)
        elif key in NESTED_OBJECTS:
            obj = {k: v for k, v in value.items() if v is not None}
            nested_extra = extra.pop(key, None)
            if nested_extra:
                obj.update(nested_extra)
            out[key] = obj
        else:
            out[key] = value
    for key, value in extra.items():
        out.setdefault(key, value)
    return out


class TrafficWriter:
    """Stream Arrow batches of one record kind into a file whose suffix picks the format."""

    def __init__(self, path: str | os.PathLike[str], kind: str, *, compression: str = "zstd") -> None:
        self.path = Path(path)
        self.kind = kind
        self.schema = schema_for(kind)
        self.format = format_of(self.path)
        self.rows_written = 0
        self._partial = self.path.with_name(self.path.name + ".partial")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._parquet: pq.ParquetWriter | None = None
        self._text: IO[bytes] | None = None
        if self.format == "parquet":
            self._parquet = pq.ParquetWriter(self._partial, self.schema, compression=compression)
        elif self.format == "jsonl.gz":
            self._text = gzip.open(self._partial, "wb", compresslevel=5)  # noqa: SIM115 - closed in close()
        else:
            self._text = open(self._partial, "wb")  # noqa: SIM115 - closed in close()

    def write_batch(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Append a batch whose columns match the kind's schema (missing optional columns become null)."""
        table = conform(batch, self.schema)
        if self._parquet is not None:
            self._parquet.write_table(table)
        else:
            assert self._text is not None
            self._text.write(b"".join(orjson.dumps(r) + b"\n" for r in batch_to_json_rows(table)))
        self.rows_written += table.num_rows

    def close(self) -> Path:
        """Finish the file and move it into place; return its path."""
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None
        if self._text is not None:
            self._text.close()
            self._text = None
        os.replace(self._partial, self.path)
        return self.path

    def abort(self) -> None:
        """Drop the unfinished file."""
        for handle in (self._parquet, self._text):
            if handle is not None:
                handle.close()
        self._parquet = self._text = None
        self._partial.unlink(missing_ok=True)

    def __enter__(self) -> TrafficWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def conform(batch: pa.RecordBatch | pa.Table, schema: pa.Schema) -> pa.Table:
    """Return the batch as a table in exactly ``schema``: columns reordered, absent optional ones null."""
    table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
    columns = []
    for field in schema:
        if field.name in table.column_names:
            col = table.column(field.name)
            columns.append(col if col.type == field.type else col.cast(field.type))
        elif field.nullable:
            columns.append(pa.nulls(table.num_rows, field.type))
        else:
            raise ValueError(f"batch lacks the required column {field.name!r}")
    return pa.Table.from_arrays(columns, schema=schema)


def write_table(path: str | os.PathLike[str], kind: str, table: pa.Table | pa.RecordBatch) -> Path:
    """Write a whole table of one kind in one call."""
    with TrafficWriter(path, kind) as writer:
        writer.write_batch(table)
    return writer.path
