"""``distillguard validate`` and ``distillguard convert`` end to end, through the Typer commands."""

from __future__ import annotations

import gzip
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import typer
from typer.testing import CliRunner

from distillguard.cli import convert as convert_cmd
from distillguard.cli import validate as validate_cmd
from distillguard.io.readers import read_table
from distillguard.io.writers import batch_to_json_rows

# Only the two commands under test, so that other commands' imports cannot break these tests.
app = typer.Typer(pretty_exceptions_enable=False)


@app.callback()
def _root() -> None:
    """Test app."""


validate_cmd.register(app)
convert_cmd.register(app)
runner = CliRunner()


def run(*args: str | Path) -> Any:
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def flat(text: str) -> str:
    """Undo Rich's word wrapping of messages, for substring checks."""
    return " ".join(text.split())


@pytest.fixture
def tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in the temp dir with relative paths: Rich would fold long temp paths inside messages."""
    monkeypatch.chdir(tmp_path)
    return Path()


def request(i: int, **changes: object) -> dict:
    record = {
        "request_id": f"req-{i}",
        "ts": f"2026-03-01T12:{i % 60:02d}:00.250+02:00",
        "account_id": f"acct-{i % 2}",
        "model": "frontier-2",
        "messages": [{"role": "user", "content": f"Frage {i} — ü"}],
        "params": {"temperature": 0.5, "seed": i},
    }
    record.update(changes)
    return record


def account(i: int) -> dict:
    return {"account_id": f"acct-{i}", "created_at": "2026-01-01T00:00:00Z", "tier": "free"}


def jsonl(*lines: bytes | dict) -> bytes:
    return b"".join((x if isinstance(x, bytes) else orjson.dumps(x)) + b"\n" for x in lines)


BAD_NOT_JSON = b'{"request_id": "req-x", "ts": '
BAD_ROLE = orjson.dumps(
    request(4, messages=[{"role": "user", "content": "a"}, {"role": "bot", "content": "b"}])
)
BAD_TYPE = orjson.dumps(request(6, status="200"))


def mixed_file(tmp_path: Path, name: str = "requests.jsonl") -> Path:
    path = tmp_path / name
    content = jsonl(request(1), BAD_NOT_JSON, request(3), BAD_ROLE, request(5), BAD_TYPE, request(7))
    path.write_bytes(gzip.compress(content) if name.endswith(".gz") else content)
    return path


def issue_lines(stdout: str, path: Path) -> list[str]:
    return [ln for ln in stdout.splitlines() if ln.startswith(f"{path}:")]


# ---- validate ----------------------------------------------------------------------------------


def test_help_has_an_example() -> None:
    for command in ("validate", "convert"):
        result = run(command, "--help")
        assert result.exit_code == 0
        assert f"Example: distillguard {command}" in result.stdout


def test_validate_clean_directory(tmp_path: Path) -> None:
    (tmp_path / "requests.jsonl").write_bytes(jsonl(*(request(i) for i in range(10))))
    (tmp_path / "accounts.jsonl.gz").write_bytes(gzip.compress(jsonl(account(0), account(1))))
    result = run("validate", tmp_path, "-q")
    assert result.exit_code == 0, result.output
    assert "validation summary" in result.stdout
    assert "all 12 record(s) valid" in result.output
    assert "warning:" not in result.output


def test_validate_reports_every_bad_record(tmp_path: Path) -> None:
    path = mixed_file(tmp_path)
    result = run("validate", path, "-q")
    assert result.exit_code == 1
    lines = issue_lines(result.stdout, path)
    assert len(lines) == 3
    assert lines[0] == f"{path}:2: not valid JSON at column 31: unexpected end of data"
    assert (
        lines[1]
        == f"{path}:4: messages[1].role: unknown role 'bot'; expected system, user, assistant or tool"
    )
    assert lines[2] == f"{path}:6: status: expected an integer, got string '200'"
    assert not (tmp_path / "requests.jsonl.rejects.jsonl").exists()


def test_validate_skip_invalid_writes_rejects_byte_for_byte(tmp_path: Path) -> None:
    path = mixed_file(tmp_path, "requests.jsonl.gz")
    result = run("validate", path, "--skip-invalid", "-q")
    assert result.exit_code == 0, result.output
    rejects = tmp_path / "requests.jsonl.gz.rejects.jsonl"
    assert rejects.read_bytes() == BAD_NOT_JSON + b"\n" + BAD_ROLE + b"\n" + BAD_TYPE + b"\n"
    assert f"wrote 3 rejected line(s) to {rejects}" in result.stdout
    assert len(issue_lines(result.stdout, path)) == 3
    # A second run over the directory does not take the rejects file for traffic.
    assert run("validate", tmp_path, "--skip-invalid", "-q").exit_code == 0


def test_validate_custom_rejects_file_collects_all_inputs(tmp_path: Path) -> None:
    first = mixed_file(tmp_path)
    second = tmp_path / "requests-2.jsonl"
    second.write_bytes(jsonl(request(9), b"oops"))
    rejects = tmp_path / "out" / "bad.jsonl"
    result = run("validate", first, second, "--skip-invalid", "--rejects", rejects, "-q")
    assert result.exit_code == 0
    assert rejects.read_bytes() == BAD_NOT_JSON + b"\n" + BAD_ROLE + b"\n" + BAD_TYPE + b"\noops\n"
    assert issue_lines(result.stdout, second) == [
        f"{second}:2: not valid JSON at column 1: unexpected character, expected a JSON value"
    ]


def test_validate_empty_file_is_an_error_even_when_skipping(tmp_path: Path) -> None:
    path = tmp_path / "accounts.jsonl"
    path.write_bytes(b"")
    for extra in ([], ["--skip-invalid"]):
        result = run("validate", path, "-q", *extra)
        assert result.exit_code == 1
        assert f"{path}: file is empty" in result.stdout


def test_validate_truncated_gzip(tmp_path: Path) -> None:
    data = gzip.compress(
        jsonl(*(request(i, messages=[{"role": "user", "content": "x" * 500}]) for i in range(3000)))
    )
    path = tmp_path / "requests.jsonl.gz"
    path.write_bytes(data[: len(data) // 3])
    result = run("validate", path, "-q")
    assert result.exit_code == 1
    (only,) = issue_lines(result.stdout, path)
    line_no = int(only.split(":")[1])
    assert (
        only
        == f"{path}:{line_no}: gzip stream is truncated/corrupt: the file ends before the end of the compressed stream"
    )
    assert f"{line_no - 1:,}" in result.stdout  # every record before the cut counted as ok
    skipped = run("validate", path, "-q", "--skip-invalid")
    assert skipped.exit_code == 0
    partial = (tmp_path / "requests.jsonl.gz.rejects.jsonl").read_bytes()
    assert partial.endswith(b"\n") and b"\n" not in partial[:-1]


def test_validate_duplicate_request_ids(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_bytes(jsonl(request(1), request(2), request(1), request(3), request(2), request(1)))
    result = run("validate", path, "-q")
    assert result.exit_code == 1
    assert issue_lines(result.stdout, path) == [
        f"{path}:3: request_id: duplicate request_id 'req-1' (first on line 1)",
        f"{path}:5: request_id: duplicate request_id 'req-2' (first on line 2)",
        f"{path}:6: request_id: duplicate request_id 'req-1' (first on line 1)",
    ]
    result = run("validate", path, "-q", "--skip-invalid")
    assert result.exit_code == 0
    rejects = (tmp_path / "requests.jsonl.rejects.jsonl").read_bytes()
    assert rejects == jsonl(request(1), request(2), request(1))


def test_validate_duplicates_in_parquet(tmp_path: Path) -> None:
    source = tmp_path / "src.jsonl"
    source.write_bytes(jsonl(request(1), request(2), request(1)))
    out = tmp_path / "requests.parquet"
    assert run("convert", source, "--kind", "requests", "--out", out, "-q").exit_code == 0
    result = run("validate", out, "-q")
    assert result.exit_code == 1
    assert issue_lines(result.stdout, out) == [
        f"{out}:3: request_id: duplicate request_id 'req-1' (first on line 1)"
    ]


def test_validate_unknown_accounts_are_warnings(tmp_path: Path) -> None:
    (tmp_path / "accounts.jsonl").write_bytes(jsonl(account(0)))
    (tmp_path / "requests.jsonl").write_bytes(jsonl(*(request(i) for i in range(5))))  # acct-1 x2 unknown
    (tmp_path / "labels.jsonl").write_bytes(jsonl({"account_id": "acct-0", "label": "benign"}))
    result = run("validate", tmp_path, "-q")
    assert result.exit_code == 0, result.output
    assert (
        "requests.jsonl: 2 record(s) name an account_id that the accounts file does not have (e.g. 'acct-1')"
        in (" ".join(result.stdout.split()))
    )
    assert "labels.jsonl: " not in result.stdout


def test_validate_max_shown(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_bytes(b"bad\n" * 7)
    result = run("validate", path, "-q", "--max-shown", "2")
    assert result.exit_code == 1
    assert len(issue_lines(result.stdout, path)) == 2
    assert f"note: {path}: 5 more issue(s) not shown (--max-shown 2)" in result.stdout


def test_validate_parquet_schema_error(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "accounts.parquet"
    pq.write_table(pa.table({"account_id": ["a"], "created_at": ["2026-01-01"]}), path)
    result = run("validate", path, "-q")
    assert result.exit_code == 1
    assert f"{path}: created_at: column has type string; expected timestamp[us, tz=UTC]" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "sessions"], "unknown --kind 'sessions'"),
        (["nope.jsonl"], "nope.jsonl: no such file or directory"),
    ],
)
def test_validate_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    mixed_file(tmp_path)
    result = (
        run("validate", tmp_path, *args) if args[0].startswith("--") else run("validate", tmp_path / args[0])
    )
    assert result.exit_code == 2
    assert message in flat(result.output)
    assert "Traceback" not in result.output


def test_validate_file_with_unknown_kind(tmp_path: Path) -> None:
    path = tmp_path / "traffic.jsonl"
    path.write_bytes(jsonl(request(1)))
    result = run("validate", path)
    assert result.exit_code == 2
    assert "cannot tell the record kind" in flat(result.output)
    assert run("validate", path, "--kind", "requests", "-q").exit_code == 0


def test_validate_empty_directory(tmp_path: Path) -> None:
    result = run("validate", tmp_path)
    assert result.exit_code == 2
    assert "no requests.*, accounts.* or labels.* files" in flat(result.output)


# ---- convert -----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["parquet", "jsonl.gz", "jsonl"])
def test_convert_round_trip(tmp_path: Path, suffix: str) -> None:
    records = [request(i, trace={"k": [i, None]}) for i in range(20)]
    source = tmp_path / "requests.jsonl"
    source.write_bytes(jsonl(*records))
    middle = tmp_path / "out" / f"requests.{suffix}"
    result = run("convert", source, "--out", middle, "-q")
    assert result.exit_code == 0, result.output
    assert f"wrote 20 requests record(s) to {middle}" in result.stdout
    back = tmp_path / "requests-back.jsonl"
    assert run("convert", middle, "--out", back, "-q").exit_code == 0
    rows = [orjson.loads(x) for x in back.read_bytes().splitlines()]
    expected = batch_to_json_rows(read_table(source))
    assert rows == expected
    assert rows[3]["ts"] == "2026-03-01T10:03:00.250Z"  # normalised to UTC
    assert rows[3]["trace"] == {"k": [3, None]}


def test_convert_invalid_input_fails_without_output(tmp_path: Path) -> None:
    source = mixed_file(tmp_path)
    out = tmp_path / "requests.parquet"
    result = run("convert", source, "--out", out, "-q")
    assert result.exit_code == 1
    assert len(issue_lines(result.stdout, source)) == 3  # every bad record is still reported
    assert "no output written" in result.output
    assert not out.exists()
    assert list(tmp_path.glob("*.partial")) == []


def test_convert_skip_invalid_keeps_good_records_and_rejects_bad_lines(tmp_path: Path) -> None:
    source = mixed_file(tmp_path, "requests.jsonl.gz")
    out = tmp_path / "clean.jsonl"
    result = run("convert", source, "--out", out, "--skip-invalid", "-q")
    assert result.exit_code == 0, result.output
    ids = [orjson.loads(x)["request_id"] for x in out.read_bytes().splitlines()]
    assert ids == ["req-1", "req-3", "req-5", "req-7"]
    rejects = tmp_path / "requests.jsonl.gz.rejects.jsonl"
    assert rejects.read_bytes() == BAD_NOT_JSON + b"\n" + BAD_ROLE + b"\n" + BAD_TYPE + b"\n"
    assert "skipped 3 bad record(s)" in result.stdout


def test_convert_truncated_gzip_with_skip_invalid_salvages_records(tmp_path: Path) -> None:
    data = gzip.compress(
        jsonl(*(request(i, messages=[{"role": "user", "content": "y" * 400}]) for i in range(4000)))
    )
    source = tmp_path / "requests.jsonl.gz"
    source.write_bytes(data[: len(data) // 2])
    out = tmp_path / "salvaged.parquet"
    assert run("convert", source, "--out", out, "-q").exit_code == 1
    assert not out.exists()
    result = run("convert", source, "--out", out, "-q", "--skip-invalid")
    assert result.exit_code == 0
    (issue,) = issue_lines(result.stdout, source)
    line_no = int(issue.split(":")[1])
    table = read_table(out, "requests")
    assert table.num_rows == line_no - 1
    assert table.column("request_id").to_pylist() == [f"req-{i}" for i in range(line_no - 1)]


def test_convert_empty_input_fails(tmp_path: Path) -> None:
    source = tmp_path / "labels.jsonl"
    source.write_bytes(b"")
    out = tmp_path / "labels.parquet"
    result = run("convert", source, "--out", out, "-q", "--skip-invalid")
    assert result.exit_code == 1
    assert f"{source}: file is empty" in result.stdout
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "x.csv"], "cannot tell the format from the suffix"),
        (["--out", "out.jsonl", "--from", "splunk"], "unknown --from 'splunk'"),
        (["--out", "out.jsonl", "--from", "litellm", "--kind", "accounts"], "produces requests records"),
    ],
)
def test_convert_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    source = mixed_file(tmp_path)
    result = run("convert", source, *args)
    assert result.exit_code == 2
    assert message in flat(result.output)


def test_convert_refuses_to_overwrite_its_input(tmp_path: Path) -> None:
    source = tmp_path / "requests.jsonl"
    source.write_bytes(jsonl(request(1)))
    result = run("convert", source, "--out", source)
    assert result.exit_code == 2
    assert "is one of the inputs" in flat(result.output)


def test_convert_mixed_kinds_refused(tmp_path: Path) -> None:
    (tmp_path / "requests.jsonl").write_bytes(jsonl(request(1)))
    (tmp_path / "accounts.jsonl").write_bytes(jsonl(account(1)))
    result = run("convert", tmp_path, "--out", tmp_path / "all.parquet")
    assert result.exit_code == 2
    assert "several record kinds" in flat(result.output)
    result = run("convert", tmp_path, "--kind", "accounts", "--out", tmp_path / "a.parquet", "-q")
    assert result.exit_code == 0
    assert read_table(tmp_path / "a.parquet", "accounts").num_rows == 1


# ---- convert --from <adapter> (with a stand-in adapter honouring the adapters' contract) ------


class FakeAdapterError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def fake_litellm(doc: Any) -> Iterator[dict]:
    if not isinstance(doc, dict):
        raise FakeAdapterError("", "expected an object")
    if "id" not in doc:
        raise FakeAdapterError("id", "required field is missing")
    records = [
        {
            "request_id": doc["id"],
            "ts": doc.get("startTime", "2026-03-01T00:00:00Z"),
            "account_id": doc.get("team_id", "team"),
            "model": doc.get("model", "m"),
            "messages": [
                {"role": m.get("role"), "content": m.get("content")} for m in doc.get("messages", [])
            ],
        }
    ]
    yield from records


@pytest.fixture
def fake_adapters(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("distillguard.io.adapters")
    module.ADAPTERS = {"litellm": fake_litellm, "otel": fake_litellm}  # type: ignore[attr-defined]
    module.AdapterError = FakeAdapterError  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "distillguard.io.adapters", module)


def litellm_doc(i: int, **changes: object) -> dict:
    doc = {"id": f"call-{i}", "startTime": "2026-03-01T12:00:00+00:00", "team_id": "t1", "model": "gpt"}
    doc["messages"] = [{"role": "user", "content": f"hi {i}"}]
    doc.update(changes)
    return doc


def test_convert_from_adapter_reports_source_errors_by_line(tmp_path: Path, fake_adapters: None) -> None:
    missing_id = orjson.dumps({"startTime": "2026-03-01T12:00:00Z"})
    bad_role = orjson.dumps(litellm_doc(4, messages=[{"role": "robot", "content": "x"}]))
    bad_ts = orjson.dumps(litellm_doc(5, startTime="yesterday"))
    source = tmp_path / "litellm.jsonl"
    source.write_bytes(jsonl(litellm_doc(1), missing_id, b"{oops", bad_role, bad_ts, litellm_doc(6)))
    out = tmp_path / "requests.jsonl"
    result = run("convert", source, "--from", "litellm", "--out", out, "-q")
    assert result.exit_code == 1
    lines = issue_lines(result.stdout, source)
    assert lines[0] == f"{source}:2: id: required field is missing"
    assert lines[1].startswith(f"{source}:3: not valid JSON")
    assert lines[2] == (
        f"{source}:4: (converted record) messages[0].role: unknown role 'robot'; "
        "expected system, user, assistant or tool"
    )
    assert (
        lines[3]
        == f"{source}:5: (converted record) ts: not an RFC 3339 timestamp with a time zone: 'yesterday'"
    )
    assert not out.exists()

    result = run("convert", source, "--from", "litellm", "--out", out, "-q", "--skip-invalid")
    assert result.exit_code == 0
    assert [orjson.loads(x)["request_id"] for x in out.read_bytes().splitlines()] == ["call-1", "call-6"]
    rejects = (tmp_path / "litellm.jsonl.rejects.jsonl").read_bytes()
    assert rejects == missing_id + b"\n{oops\n" + bad_role + b"\n" + bad_ts + b"\n"


def test_convert_from_adapter_whole_file_json(tmp_path: Path, fake_adapters: None) -> None:
    pretty = tmp_path / "export.json"
    pretty.write_bytes(
        orjson.dumps([litellm_doc(1), litellm_doc(2), {"no": "id"}], option=orjson.OPT_INDENT_2)
    )
    out = tmp_path / "requests.parquet"
    result = run("convert", pretty, "--from", "otel", "--out", out, "-q", "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert issue_lines(result.stdout, pretty) == [f"{pretty}:1: [2].id: required field is missing"]
    assert read_table(out).column("request_id").to_pylist() == ["call-1", "call-2"]

    single = tmp_path / "one.json.gz"
    single.write_bytes(gzip.compress(orjson.dumps(litellm_doc(7), option=orjson.OPT_INDENT_2)))
    result = run("convert", single, "--from", "otel", "--out", out, "-q")
    assert result.exit_code == 0, result.output
    assert read_table(out).column("request_id").to_pylist() == ["call-7"]
