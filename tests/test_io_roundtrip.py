"""Property tests: valid records survive JSONL/Parquet/JSONL.gz round trips; bad input only ever
raises RecordError (or becomes an Issue) and never crashes the parser or the reader."""

from __future__ import annotations

import datetime as dt
import gzip
import math
import tempfile
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from distillguard.io.readers import read_batches
from distillguard.io.records import RecordBuilder, RecordError
from distillguard.io.schema import (
    LABELS,
    NESTED_OBJECTS,
    ROLES,
    SCHEMAS,
    TIERS,
    format_ts,
)
from distillguard.io.writers import TrafficWriter, batch_to_json_rows

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FILE_SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---- strategies -----------------------------------------------------------------------------------

text = st.text(max_size=40)  # Hypothesis' text() has no lone surrogates: JSON parsers reject them
ids = st.text(min_size=1, max_size=12)
int64 = st.integers(-(2**63), 2**63 - 1)
# Ints stand for floats only up to 2**53: beyond, float() would round them.
number = st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**53), 2**53)

json_scalar = st.none() | st.booleans() | int64 | st.floats(allow_nan=False, allow_infinity=False) | text
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=8,
)


def unknown_keys(known: set[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Extra keys the spec does not name (never a known one)."""
    return st.dictionaries(text.filter(lambda k: k not in known), json_value, max_size=2)


_OFFSETS = st.integers(-23 * 60 - 59, 23 * 60 + 59)


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    """RFC 3339 text with Z or an offset, at second, milli- or microsecond precision."""
    moment = draw(st.datetimes(min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2200, 1, 1)))
    digits = draw(st.sampled_from([0, 3, 6, 1, 9]))
    offset = draw(st.none() | _OFFSETS)
    body = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        frac = f"{moment.microsecond:06d}" + "000"
        body += "." + frac[:digits]
    if offset is None:
        return body + draw(st.sampled_from(["Z", "z"]))
    sign = "+" if offset >= 0 else "-"
    return body + f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """An optional value: may be null (the same as absent)."""
    return st.none() | strategy


def optional_fields(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={k: maybe(v) for k, v in fields.items()})


@st.composite
def known_object(draw: st.DrawFn, name: str, **fields: st.SearchStrategy[Any]) -> dict[str, Any]:
    obj = draw(optional_fields(**fields))
    obj.update(draw(unknown_keys({f.name for f in NESTED_OBJECTS[name]})))
    return obj


messages = st.lists(st.fixed_dictionaries({"role": st.sampled_from(ROLES), "content": text}), max_size=4)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    record = {
        "request_id": draw(ids),
        "ts": draw(timestamps()),
        "account_id": draw(ids),
        "model": draw(ids),
        "messages": draw(messages),
    }
    record.update(
        draw(optional_fields(api_key_id=text, ip=text, user_agent=text, endpoint=text, status=int64))
    )
    parts = {
        "params": dict(
            temperature=number,
            top_p=number,
            max_tokens=int64,
            n=int64,
            stream=st.booleans(),
            logprobs=st.booleans(),
            top_logprobs=int64,
            tools=int64,
            reasoning_effort=text,
        ),
        "response": dict(content=text, reasoning=text, finish_reason=text),
        "usage": dict(input_tokens=int64, output_tokens=int64, reasoning_tokens=int64),
    }
    for name, fields in parts.items():
        if draw(st.booleans()):
            record[name] = draw(st.none() | known_object(name, **fields))
    record.update(draw(unknown_keys(set(SCHEMAS["requests"].names) - {"extra"})))
    return record


@st.composite
def accounts(draw: st.DrawFn) -> dict[str, Any]:
    record = {"account_id": draw(ids), "created_at": draw(timestamps())}
    record.update(
        draw(
            optional_fields(
                tier=st.sampled_from(TIERS),
                country=text,
                email_domain=text,
                payment_fingerprint=text,
                verified=st.booleans(),
            )
        )
    )
    record.update(draw(unknown_keys(set(SCHEMAS["accounts"].names) - {"extra"})))
    return record


@st.composite
def labels(draw: st.DrawFn) -> dict[str, Any]:
    record = {"account_id": draw(ids), "label": draw(st.sampled_from(LABELS))}
    record.update(draw(optional_fields(campaign_id=text, persona=text, tactics=st.lists(text, max_size=3))))
    record.update(draw(unknown_keys(set(SCHEMAS["labels"].names) - {"extra"})))
    return record


STRATEGIES = {"requests": requests(), "accounts": accounts(), "labels": labels()}
kind_and_records = st.sampled_from(sorted(STRATEGIES)).flatmap(
    lambda kind: st.tuples(st.just(kind), st.lists(STRATEGIES[kind], min_size=1, max_size=5))
)

# ---- normalisation: what "unchanged" means ------------------------------------------------------------


def normal_ts(value: str) -> str:
    """The UTC text the writers produce, computed independently of the parser under test."""
    text = value.upper().replace("Z", "+00:00")
    head, _, tail = text.partition(".")
    if tail:  # keep at most microseconds, as Arrow does
        frac = "".join(ch for ch in tail[: tail.find("+") if "+" in tail else tail.find("-")])
        zone = tail[len(frac) :]
        text = f"{head}.{frac[:6].ljust(6, '0')}{zone}"
    return format_ts(dt.datetime.fromisoformat(text))


def normal(value: Any, *, top: bool = True) -> Any:
    """Drop nulls (null and absent are the same), normalise timestamps, ints stand for their floats."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if item is None:
                continue
            if top and key in ("ts", "created_at") and isinstance(item, str):
                out[key] = normal_ts(item)
            else:
                out[key] = normal(item, top=False)
        return out
    if isinstance(value, list):
        return [normal(v, top=False) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
        return int(value)  # 1 and 1.0 are the same JSON number; keeps -0.0 == 0 too
    return value


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    data = b"".join(orjson.dumps(r) + b"\n" for r in records)
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)


def read_back(path: Path, kind: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for result in read_batches(path, kind, batch_size=3):
        assert result.issues == [], [str(i) for i in result.issues]
        rows.extend(batch_to_json_rows(result.batch))
    return rows


# ---- round trips --------------------------------------------------------------------------------------


@SETTINGS
@given(kind_and_records)
def test_jsonl_to_arrow_to_json(case: tuple[str, list[dict[str, Any]]]) -> None:
    kind, records = case
    builder = RecordBuilder(kind)
    for record in records:
        builder.add(orjson.loads(orjson.dumps(record)))
    assert [normal(r) for r in batch_to_json_rows(builder.build())] == [normal(r) for r in records]


@FILE_SETTINGS
@given(kind_and_records, st.sampled_from(["jsonl", "jsonl.gz", "parquet"]))
def test_file_round_trips(case: tuple[str, list[dict[str, Any]]], middle: str) -> None:
    """JSONL -> Arrow -> <middle format> -> Arrow -> JSONL text gives back the same records."""
    kind, records = case
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / f"{kind}.jsonl"
        write_jsonl(source, records)
        mid = Path(tmp) / f"{kind}-mid.{middle}"
        with TrafficWriter(mid, kind) as writer:
            for result in read_batches(source, kind, batch_size=2):
                assert result.issues == []
                writer.write_batch(result.batch)
        back = Path(tmp) / f"{kind}-back.jsonl"
        with TrafficWriter(back, kind) as writer:
            for result in read_batches(mid, kind, batch_size=2):
                assert result.issues == []
                writer.write_batch(result.batch)
        final = [orjson.loads(line) for line in back.read_bytes().splitlines()]
        assert [normal(r) for r in final] == [normal(r) for r in records]
        # The UTC text written out is itself canonical: a second pass changes nothing.
        assert read_back(back, kind) == final


@FILE_SETTINGS
@given(kind_and_records)
def test_gzip_input_reads_like_plain(case: tuple[str, list[dict[str, Any]]]) -> None:
    kind, records = case
    with tempfile.TemporaryDirectory() as tmp:
        plain, packed = Path(tmp) / f"{kind}.jsonl", Path(tmp) / f"{kind}.jsonl.gz"
        write_jsonl(plain, records)
        write_jsonl(packed, records)
        assert read_back(packed, kind) == read_back(plain, kind)


# ---- fuzzing ------------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(SCHEMAS)), json_value)
def test_parser_raises_only_record_error_on_any_json(kind: str, value: Any) -> None:
    builder = RecordBuilder(kind)
    try:
        builder.add(value)
    except RecordError as exc:
        assert isinstance(exc.field, str) and exc.reason
        return
    builder.build()


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A valid record with one field (or nested field) replaced by an arbitrary JSON value."""
    kind = draw(st.sampled_from(sorted(STRATEGIES)))
    record = draw(STRATEGIES[kind])
    names = [n for n in SCHEMAS[kind].names if n != "extra"]
    name = draw(st.sampled_from(names))
    replacement = draw(json_value)
    if name in NESTED_OBJECTS and draw(st.booleans()):
        sub = draw(st.sampled_from([f.name for f in NESTED_OBJECTS[name]]))
        record[name] = {sub: replacement}
    elif name == "messages" and draw(st.booleans()):
        record[name] = [{"role": draw(st.sampled_from([*ROLES, "bot"])), "content": replacement}]
    else:
        record[name] = replacement
    return kind, record


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_near_valid_records_raise_record_error_or_round_trip(case: tuple[str, dict[str, Any]]) -> None:
    kind, record = case
    builder = RecordBuilder(kind)
    try:
        builder.add(record)
    except RecordError as exc:
        head = exc.field.split(".")[0].split("[")[0]
        assert head in SCHEMAS[kind].names, exc.field  # the error names a real field
        return
    (back,) = batch_to_json_rows(builder.build())
    assert normal(back) == normal(record)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(max_size=60) | st.sampled_from([b"{}", b"[]", b"null", b"\xff\xfe", b'{"a":'])))
def test_reader_survives_arbitrary_bytes(lines: list[bytes]) -> None:
    data = b"\n".join(line.replace(b"\n", b" ") for line in lines)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "accounts.jsonl"
        path.write_bytes(data)
        seen: list[int] = []
        for result in read_batches(path, batch_size=4):
            seen.extend(result.line_numbers)
            seen.extend(i.line for i in result.issues if i.line is not None)
            for issue in result.issues:
                assert issue.raw is None or issue.raw in data
        # Every non-blank line is accounted for exactly once, as a record or as an issue.
        expected = [n for n, line in enumerate(data.split(b"\n"), 1) if line.strip(b" \t\r\x0b\x0c")]
        if data.startswith(b"\xef\xbb\xbf") and expected and expected[0] == 1:
            expected = expected if data.split(b"\n")[0][3:].strip() else expected[1:]
        assert sorted(seen) == expected


def test_normal_ts_helper() -> None:
    assert normal_ts("2026-03-01T13:30:00.1234567+01:30") == "2026-03-01T12:00:00.123456Z"
    assert normal_ts("2026-03-01t12:00:00z") == "2026-03-01T12:00:00.000Z"
    assert math.isclose(normal(1.0), 1)
