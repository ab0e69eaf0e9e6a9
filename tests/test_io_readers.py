"""Streaming reads of traffic files (io.readers): bad input is located exactly, good input is kept."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from distillguard.io.readers import (
    Issue,
    ReadError,
    find_traffic_files,
    infer_kind,
    iter_lines,
    read_batches,
    read_table,
)
from distillguard.io.records import records_to_batch
from distillguard.io.writers import batch_to_json_rows, write_table


def request(i: int, **changes: object) -> dict:
    record = {
        "request_id": f"req-{i}",
        "ts": f"2026-03-01T12:00:{i % 60:02d}.000Z",
        "account_id": f"acct-{i % 3}",
        "model": "frontier-2",
        "messages": [{"role": "user", "content": f"question {i}"}],
        "usage": {"input_tokens": i, "output_tokens": 2 * i},
    }
    record.update(changes)
    return record


def line(record: dict) -> bytes:
    return orjson.dumps(record)


def collect(
    path: Path, kind: str | None = None, batch_size: int = 10_000
) -> tuple[list[dict], list[int], list[Issue]]:
    rows: list[dict] = []
    numbers: list[int] = []
    issues: list[Issue] = []
    for result in read_batches(path, kind, batch_size=batch_size):
        assert result.batch.num_rows == len(result.line_numbers)
        rows.extend(batch_to_json_rows(result.batch))
        numbers.extend(result.line_numbers)
        issues.extend(result.issues)
    return rows, numbers, issues


# Lines 1..12 of a file with every kind of bad record between good ones.
MIXED_LINES = [
    line(request(1)),  # 1
    b"this is not json",  # 2
    line(request(3)),  # 3
    b"",  # 4: blank, skipped silently
    line({k: v for k, v in request(5).items() if k != "model"}),  # 5: missing required field
    line(request(6, usage={"input_tokens": 1, "output_tokens": "12"})),  # 6: wrong type
    line(request(7, ts="2026-03-01 12:00")),  # 7: bad timestamp
    line(request(8, messages=[{"role": "user", "content": "a"}, {"role": "bot", "content": "b"}])),  # 8
    b"[1, 2, 3]",  # 9: JSON, not an object
    b"   \t",  # 10: blank
    line(request(11)) + b"\r",  # 11: CRLF line ending
    line(request(12)),  # 12
]
EXPECTED_ISSUES = [
    (2, "", "not valid JSON"),
    (5, "model", "required field is missing"),
    (6, "usage.output_tokens", "expected an integer, got string '12'"),
    (7, "ts", "not an RFC 3339 timestamp with a time zone: '2026-03-01 12:00'"),
    (8, "messages[1].role", "unknown role 'bot'; expected system, user, assistant or tool"),
    (9, "", "expected a JSON object, got array"),
]


def check_mixed(path: Path, batch_size: int = 10_000) -> None:
    rows, numbers, issues = collect(path, batch_size=batch_size)
    assert [r["request_id"] for r in rows] == ["req-1", "req-3", "req-11", "req-12"]
    assert numbers == [1, 3, 11, 12]
    assert [(i.line, i.field) for i in issues] == [(n, f) for n, f, _ in EXPECTED_ISSUES]
    for issue, (number, _field, reason) in zip(issues, EXPECTED_ISSUES, strict=True):
        assert issue.path == str(path)
        assert issue.reason.startswith(reason)
        assert issue.raw == MIXED_LINES[number - 1]  # byte for byte, without the newline
        assert not issue.fatal


def test_jsonl_bad_lines_are_located_and_good_ones_kept(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_bytes(b"\n".join(MIXED_LINES) + b"\n")
    check_mixed(path)
    check_mixed(path, batch_size=1)


def test_jsonl_gz_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl.gz"
    path.write_bytes(gzip.compress(b"\n".join(MIXED_LINES)))  # and no final newline
    check_mixed(path)


def test_issue_text_is_file_line_field_reason(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_bytes(b"\n".join(MIXED_LINES))
    _, _, issues = collect(path)
    assert str(issues[1]) == f"{path}:5: model: required field is missing"
    assert str(issues[0]) == f"{path}:2: not valid JSON at column 1: invalid literal, expected 'true'"


def test_batches_are_bounded(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_bytes(b"".join(line(request(i)) + b"\n" for i in range(1, 51)))
    sizes = [r.batch.num_rows for r in read_batches(path, batch_size=7)]
    assert max(sizes) == 7
    assert sum(sizes) == 50


def test_a_file_of_bad_lines_flushes_issues_in_bounded_batches(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_bytes(b"nope\n" * 25)
    counts = [len(r.issues) for r in read_batches(path, batch_size=10)]
    assert counts == [10, 10, 5]


def test_truncated_gzip_keeps_every_record_before_it(tmp_path: Path) -> None:
    lines = [line(request(i, messages=[{"role": "user", "content": f"q{i} " * 40}])) for i in range(1, 3001)]
    data = gzip.compress(b"\n".join(lines) + b"\n")
    path = tmp_path / "requests.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    rows, numbers, issues = collect(path)
    assert len(issues) == 1
    issue = issues[0]
    n = len(rows)
    assert 0 < n < 3000
    # Every complete line before the cut is kept, in order; the cut line is the reported one.
    assert numbers == list(range(1, n + 1))
    assert [r["request_id"] for r in rows] == [f"req-{i}" for i in range(1, n + 1)]
    assert issue.line == n + 1
    assert issue.reason.startswith("gzip stream is truncated/corrupt")
    assert not issue.fatal
    assert issue.raw is not None and lines[n].startswith(issue.raw)  # the partial line, for rejects
    assert str(issue).startswith(f"{path}:{n + 1}: gzip stream is truncated/corrupt")


def test_corrupt_gzip_is_reported(tmp_path: Path) -> None:
    data = bytearray(gzip.compress(b"".join(line(request(i)) + b"\n" for i in range(2000))))
    for k in range(len(data) // 2, len(data) // 2 + 64):
        data[k] ^= 0xFF
    path = tmp_path / "requests.jsonl.gz"
    path.write_bytes(bytes(data))
    rows, _, issues = collect(path)
    assert issues[-1].reason.startswith("gzip stream is truncated/corrupt")
    assert len(rows) < 2000


def test_not_gzip_at_all_is_fatal(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl.gz"
    path.write_bytes(line(request(1)))
    rows, _, issues = collect(path)
    assert rows == []
    assert [(i.line, i.fatal) for i in issues] == [(1, True)]
    assert issues[0].reason.startswith("gzip stream is truncated/corrupt: Not a gzipped file")


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("requests.jsonl", b"", "file is empty"),
        ("requests.jsonl.gz", gzip.compress(b""), "file is empty"),
        ("requests.jsonl", b"\n  \n\n", "file contains no records (only blank lines)"),
        ("requests.parquet", b"", "file is empty"),
    ],
)
def test_empty_files(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    rows, _, issues = collect(path)
    assert rows == []
    assert [(i.path, i.line, i.reason, i.fatal) for i in issues] == [(str(path), None, reason, True)]
    with pytest.raises(ReadError, match=reason.split(" (")[0]):
        read_table(path)


def test_empty_parquet_table(tmp_path: Path) -> None:
    path = tmp_path / "accounts.parquet"
    write_table(path, "accounts", records_to_batch([], "accounts"))
    _, _, issues = collect(path)
    assert [i.reason for i in issues] == ["file contains no records"]


def test_utf8_bom_and_long_lines(tmp_path: Path) -> None:
    big = request(2, messages=[{"role": "user", "content": "é" * 3_000_000}])  # longer than a read chunk
    path = tmp_path / "requests.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + line(request(1)) + b"\n" + line(big) + b"\n" + line(request(3)))
    rows, numbers, issues = collect(path)
    assert issues == []
    assert numbers == [1, 2, 3]
    assert rows[1]["messages"][0]["content"] == "é" * 3_000_000


def test_iter_lines_numbers_every_line(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(b"a\n\nb\r\nc")
    assert list(iter_lines(path)) == [(1, b"a"), (2, b""), (3, b"b\r"), (4, b"c")]


def test_read_table_raises_on_first_invalid_record(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_bytes(b"\n".join(MIXED_LINES))
    with pytest.raises(ReadError) as info:
        read_table(path)
    assert (info.value.issue.line, str(info.value)) == (2, str(info.value.issue))
    good = tmp_path / "requests-ok.jsonl"
    good.write_bytes(b"\n".join(line(request(i)) for i in range(5)))
    table = read_table(good)
    assert table.num_rows == 5
    assert table.column("request_id").to_pylist() == [f"req-{i}" for i in range(5)]


def test_open_errors_raise_read_error(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="no such file"):
        read_batches(tmp_path / "requests.jsonl")
    (tmp_path / "requests.csv").write_text("x")
    with pytest.raises(ReadError, match="cannot tell the format"):
        read_batches(tmp_path / "requests.csv")
    (tmp_path / "traffic.jsonl").write_text("{}")
    with pytest.raises(ReadError, match="cannot tell the record kind"):
        read_batches(tmp_path / "traffic.jsonl")
    with pytest.raises(ReadError, match="unknown record kind"):
        read_batches(tmp_path / "traffic.jsonl", "sessions")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("requests.jsonl", "requests"),
        ("Accounts.JSONL.GZ", "accounts"),
        ("labels.parquet", "labels"),
        ("requests-00003.parquet", "requests"),
        ("requests_2026-03.jsonl.gz", "requests"),
    ],
)
def test_infer_kind(name: str, kind: str) -> None:
    assert infer_kind(name) == kind


@pytest.mark.parametrize("name", ["requestsx.jsonl", "my-requests.jsonl", "requests"])
def test_infer_kind_refuses_other_names(name: str) -> None:
    with pytest.raises(ReadError, match="pass --kind"):
        infer_kind(name)


def test_infer_kind_from_parquet_metadata(tmp_path: Path) -> None:
    path = tmp_path / "export.parquet"
    write_table(path, "labels", records_to_batch([{"account_id": "a", "label": "benign"}], "labels"))
    assert infer_kind(path) == "labels"
    pq.write_table(pa.table({"x": [1]}), tmp_path / "other.parquet")
    with pytest.raises(ReadError, match="pass --kind"):
        infer_kind(tmp_path / "other.parquet")


def test_find_traffic_files(tmp_path: Path) -> None:
    for name in [
        "requests.jsonl",
        "requests-0001.parquet",
        "requests-0000.parquet",
        "accounts.jsonl.gz",
        "labels.jsonl",
        "requests.jsonl.rejects.jsonl",  # our own side output
        "requests.parquet.partial",  # an unfinished write
        "notes.txt",
        "summary.jsonl",
    ]:
        (tmp_path / name).write_text("")
    (tmp_path / "requests.d.jsonl").mkdir()
    # Only names count in a directory scan, not a kind recorded inside another file.
    write_table(tmp_path / "flagged.parquet", "requests", records_to_batch([request(1)], "requests"))
    found = find_traffic_files(tmp_path)
    assert {k: [p.name for p in v] for k, v in found.items()} == {
        "requests": ["requests-0000.parquet", "requests-0001.parquet", "requests.jsonl"],
        "accounts": ["accounts.jsonl.gz"],
        "labels": ["labels.jsonl"],
    }


# ---- Parquet --------------------------------------------------------------------------------------


def test_parquet_round_trip_with_extras(tmp_path: Path) -> None:
    records = [request(1, trace={"id": 1}, params={"temperature": 0.2, "seed": 3}), request(2)]
    path = tmp_path / "requests.parquet"
    write_table(path, "requests", records_to_batch(records, "requests"))
    rows, numbers, issues = collect(path)
    assert issues == []
    assert numbers == [1, 2]
    assert rows == records


def requests_table(**overrides: pa.Array) -> pa.Table:
    columns = {
        "request_id": pa.array(["a", "b", "c", "d"]),
        "ts": pa.array([1_500, 2_000, 3_000, 4_999], pa.timestamp("ns", tz="UTC")),
        "account_id": pa.array(["x", "y", "z", "w"]),
        "model": pa.array(["m"] * 4),
        "messages": pa.array(
            [
                [{"role": "user", "content": "1"}],
                [{"role": "user", "content": "2"}, {"role": "bot", "content": "3"}],
                [{"role": "user", "content": None}],
                [],
            ]
        ),
        "usage": pa.array([{"input_tokens": 1}, None, None, None], pa.struct([("input_tokens", pa.int32())])),
    }
    columns.update(overrides)
    return pa.table(columns)


def test_parquet_rows_breaking_rules_are_reported_by_row(tmp_path: Path) -> None:
    path = tmp_path / "requests.parquet"
    table = requests_table(account_id=pa.array(["x", None, "z", "w"]), cohort=pa.array([None, 1, 2, 3]))
    pq.write_table(table, path)
    rows, numbers, issues = collect(path)
    assert numbers == [1, 4]
    assert [(i.line, i.field, i.reason) for i in issues] == [
        (2, "account_id", "required field is null"),
        (3, "messages[0].content", "required field is missing"),
    ]
    assert rows[0]["usage"] == {"input_tokens": 1}
    assert rows[0]["ts"] == "1970-01-01T00:00:00.000001Z"  # nanoseconds truncated to microseconds
    assert rows[1] == {
        "request_id": "d",
        "ts": "1970-01-01T00:00:00.000004Z",
        "account_id": "w",
        "model": "m",
        "messages": [],
        "cohort": 3,  # an unknown column is kept like an unknown JSON field
    }
    # The rejected row comes back as a JSON line, for rejects files.
    assert orjson.loads(issues[0].raw)["request_id"] == "b"


def test_parquet_unknown_role_is_located(tmp_path: Path) -> None:
    path = tmp_path / "requests.parquet"
    pq.write_table(requests_table().slice(0, 2), path)
    _, _, issues = collect(path)
    assert [(i.line, i.field, i.reason) for i in issues] == [
        (2, "messages[1].role", "unknown role 'bot'; expected system, user, assistant or tool")
    ]


@pytest.mark.parametrize(
    ("table", "field", "reason"),
    [
        (requests_table().drop_columns(["model"]), "model", "required column is missing"),
        (
            requests_table(ts=pa.array(["2026-03-01T00:00:00Z"] * 4)),
            "ts",
            "column has type string; expected timestamp[us, tz=UTC]",
        ),
        (
            requests_table(ts=pa.array([1, 2, 3, 4], pa.timestamp("us"))),
            "ts",
            "column has type timestamp[us] without a time zone; expected timestamp[us, tz=UTC]",
        ),
        (requests_table(status=pa.array(["200"] * 4)), "status", "column has type string; expected int64"),
        (
            requests_table(usage=pa.array([{"input_tokens": "1"}] * 4)),
            "usage.input_tokens",
            "column has type string; expected int64",
        ),
        (
            requests_table(usage=pa.array([{"cached": 1}] * 4)),
            "usage.cached",
            "the schema has no such field (cannot keep it)",
        ),
    ],
)
def test_parquet_with_wrong_columns_is_a_clear_fatal_error(
    tmp_path: Path, table: pa.Table, field: str, reason: str
) -> None:
    path = tmp_path / "requests.parquet"
    pq.write_table(table, path)
    rows, _, issues = collect(path)
    assert rows == []
    assert [(i.field, i.reason, i.fatal) for i in issues] == [(field, reason, True)]
    assert str(issues[0]) == f"{path}: {field}: {reason}"


def test_not_a_parquet_file(tmp_path: Path) -> None:
    path = tmp_path / "requests.parquet"
    path.write_bytes(b"PAR1 but not really")
    _, _, issues = collect(path)
    assert len(issues) == 1 and issues[0].fatal
    assert issues[0].reason.startswith("not a readable Parquet file")


def test_parquet_batches_are_bounded(tmp_path: Path) -> None:
    path = tmp_path / "requests.parquet"
    write_table(path, "requests", records_to_batch([request(i) for i in range(25)], "requests"))
    results = list(read_batches(path, batch_size=10))
    assert [r.batch.num_rows for r in results] == [10, 10, 5]
    assert results[-1].line_numbers == list(range(21, 26))
