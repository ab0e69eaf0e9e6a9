"""Record validation and conversion: spec JSON objects -> Arrow batches (io.records)."""

from __future__ import annotations

import copy
import datetime as dt

import orjson
import pyarrow as pa
import pytest

from distillguard.io.records import RecordBuilder, RecordError, parse_timestamp, records_to_batch
from distillguard.io.schema import ACCOUNTS, LABELS_SCHEMA, REQUESTS
from distillguard.io.writers import batch_to_json_rows

REQUEST = {
    "request_id": "req-1",
    "ts": "2026-03-01T12:00:00.123Z",
    "account_id": "acct-1",
    "api_key_id": "key-1",
    "ip": "203.0.113.7",
    "user_agent": "openai-python/1.54.0",
    "model": "frontier-2-2026-02-01",
    "endpoint": "/v1/chat/completions",
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hello, wörld ✓"},
        {"role": "assistant", "content": "Hi."},
        {"role": "tool", "content": "{}"},
    ],
    "params": {"temperature": 0.7, "top_p": 1, "max_tokens": 256, "stream": True, "reasoning_effort": "low"},
    "response": {"content": "Hello!", "reasoning": None, "finish_reason": "stop"},
    "usage": {"input_tokens": 12, "output_tokens": 3, "reasoning_tokens": 0},
    "status": 200,
}
ACCOUNT = {
    "account_id": "acct-1",
    "created_at": "2026-01-15T08:30:00Z",
    "tier": "payg",
    "country": "DE",
    "email_domain": "example.org",
    "payment_fingerprint": "fp-9",
    "verified": False,
}
LABEL = {
    "account_id": "acct-1",
    "label": "attack",
    "campaign_id": "c-1",
    "persona": "p",
    "tactics": ["a", "b"],
}


def parse(kind: str, record: object) -> dict:
    return RecordBuilder(kind).parse(record)


def with_(base: dict, **changes: object) -> dict:
    record = copy.deepcopy(base)
    for key, value in changes.items():
        record[key] = value
    return record


def without(base: dict, key: str) -> dict:
    record = copy.deepcopy(base)
    del record[key]
    return record


def test_valid_records_of_each_kind_build_batches_in_their_schema() -> None:
    for kind, record, schema in (
        ("requests", REQUEST, REQUESTS),
        ("accounts", ACCOUNT, ACCOUNTS),
        ("labels", LABEL, LABELS_SCHEMA),
    ):
        batch = records_to_batch([record, record], kind)
        assert batch.schema.equals(schema, check_metadata=True)
        assert batch.num_rows == 2


def test_request_round_trips_through_arrow() -> None:
    batch = records_to_batch([REQUEST], "requests")
    (back,) = batch_to_json_rows(batch)
    expected = copy.deepcopy(REQUEST)
    del expected["response"]["reasoning"]  # null and absent are the same
    assert back == expected
    assert isinstance(back["params"]["top_p"], float)  # an int is accepted for a float field


def test_timestamps_are_utc_microseconds() -> None:
    batch = records_to_batch([with_(REQUEST, ts="2026-03-01T13:30:00.000123+01:30")], "requests")
    value = batch.column("ts")[0].as_py()
    assert value == dt.datetime(2026, 3, 1, 12, 0, 0, 123, tzinfo=dt.UTC)
    assert batch.schema.field("ts").type == pa.timestamp("us", tz="UTC")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01T00:00:00.5Z", 500_000),
        ("1970-01-01T00:00:00.123456789Z", 123_456),  # finer than microseconds: truncated
        ("1970-01-01t00:00:01z", 1_000_000),  # RFC 3339 allows lower case
        ("1970-01-01T01:00:00+01:00", 0),
        ("1969-12-31T23:00:00-01:00", 0),
        ("2026-03-01T12:00:00.123Z", 1_772_366_400_123_000),
    ],
)
def test_parse_timestamp(text: str, expected: int) -> None:
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-01 12:00",
        "2026-03-01T12:00:00",  # no time zone
        "2026-03-01 12:00:00Z",  # space separator
        "2026-03-01T12:00Z",  # no seconds
        "2026-03-01T12:00:00+0100",
        "2026-3-1T12:00:00Z",
        "2026-03-01T12:00:00.Z",
        "١٢٣٤-03-01T12:00:00Z",  # non-ASCII digits
        "",
    ],
)
def test_timestamp_syntax_errors(text: str) -> None:
    with pytest.raises(RecordError) as info:
        parse("requests", with_(REQUEST, ts=text))
    assert info.value.field == "ts"
    assert info.value.reason == f"not an RFC 3339 timestamp with a time zone: {text!r}"


@pytest.mark.parametrize(
    ("text", "reason_start"),
    [
        ("2026-02-30T12:00:00Z", "not a valid calendar date"),
        ("2026-03-01T24:00:00Z", "not a valid time of day"),
        ("2026-03-01T12:60:00Z", "not a valid time of day"),
        ("2026-03-01T12:00:60Z", "not a valid time of day"),
        ("2026-03-01T12:00:00+24:00", "not a valid time zone offset"),
        ("0999-12-31T23:59:59Z", "timestamp outside the years 1000 to 9999"),
        ("1000-01-01T00:30:00+01:00", "timestamp outside the years 1000 to 9999"),
    ],
)
def test_timestamp_value_errors(text: str, reason_start: str) -> None:
    with pytest.raises(RecordError) as info:
        parse("accounts", with_(ACCOUNT, created_at=text))
    assert info.value.field == "created_at"
    assert info.value.reason.startswith(reason_start)


def test_timestamp_must_be_a_string() -> None:
    with pytest.raises(RecordError) as info:
        parse("requests", with_(REQUEST, ts=1_772_366_400))
    assert (info.value.field, info.value.reason) == (
        "ts",
        "expected an RFC 3339 timestamp string, got integer 1772366400",
    )


BAD_REQUESTS = [
    (without(REQUEST, "model"), "model", "required field is missing"),
    (with_(REQUEST, account_id=None), "account_id", "required field is null"),
    (without(REQUEST, "messages"), "messages", "required field is missing"),
    (with_(REQUEST, request_id=12), "request_id", "expected a string, got integer 12"),
    (with_(REQUEST, status="200"), "status", "expected an integer, got string '200'"),
    (with_(REQUEST, status=200.0), "status", "expected an integer, got number 200.0"),
    (with_(REQUEST, status=True), "status", "expected an integer, got boolean true"),
    (with_(REQUEST, status=2**63), "status", f"integer out of the 64-bit range: {2**63}"),
    (
        with_(REQUEST, usage={"output_tokens": "12"}),
        "usage.output_tokens",
        "expected an integer, got string '12'",
    ),
    (
        with_(REQUEST, usage={"input_tokens": 3.0}),
        "usage.input_tokens",
        "expected an integer, got number 3.0",
    ),
    (
        with_(REQUEST, params={"temperature": "hot"}),
        "params.temperature",
        "expected a number, got string 'hot'",
    ),
    (
        with_(REQUEST, params={"temperature": False}),
        "params.temperature",
        "expected a number, got boolean false",
    ),
    (with_(REQUEST, params={"stream": 1}), "params.stream", "expected a boolean, got integer 1"),
    (with_(REQUEST, params=[1]), "params", "expected an object, got array"),
    (with_(REQUEST, response="ok"), "response", "expected an object, got string 'ok'"),
    (with_(REQUEST, usage=7), "usage", "expected an object, got integer 7"),
    (with_(REQUEST, messages={"role": "user"}), "messages", "expected an array of messages, got object"),
    (
        with_(REQUEST, messages=[{"role": "user", "content": "a"}, "hi"]),
        "messages[1]",
        "expected a message object with role and content, got string 'hi'",
    ),
    (
        with_(
            REQUEST,
            messages=[{"role": "user", "content": "a"}, {"role": "u", "content": "b"}, {"role": "bot"}],
        ),
        "messages[1].role",
        "unknown role 'u'; expected system, user, assistant or tool",
    ),
    (
        with_(REQUEST, messages=[{"role": "user", "content": "a"}] * 2 + [{"role": "bot", "content": "b"}]),
        "messages[2].role",
        "unknown role 'bot'; expected system, user, assistant or tool",
    ),
    (with_(REQUEST, messages=[{"content": "a"}]), "messages[0].role", "required field is missing"),
    (with_(REQUEST, messages=[{"role": "user"}]), "messages[0].content", "required field is missing"),
    (
        with_(REQUEST, messages=[{"role": "user", "content": ["part"]}]),
        "messages[0].content",
        "expected a string, got array",
    ),
    (
        with_(REQUEST, messages=[{"role": "user", "content": "a", "name": "x"}]),
        "messages[0].name",
        "unknown message field; a message has only role and content",
    ),
    (
        with_(REQUEST, messages=[{"role": 1, "content": "a"}]),
        "messages[0].role",
        "expected a string, got integer 1",
    ),
]


@pytest.mark.parametrize(("record", "field", "reason"), BAD_REQUESTS)
def test_bad_request_fields(record: dict, field: str, reason: str) -> None:
    with pytest.raises(RecordError) as info:
        parse("requests", record)
    assert (info.value.field, info.value.reason) == (field, reason)
    assert str(info.value) == f"{field}: {reason}"


@pytest.mark.parametrize(
    ("kind", "record", "field", "reason"),
    [
        (
            "accounts",
            with_(ACCOUNT, tier="gold"),
            "tier",
            "unknown tier 'gold'; expected free, payg, enterprise, education, startup or research",
        ),
        ("accounts", with_(ACCOUNT, verified="yes"), "verified", "expected a boolean, got string 'yes'"),
        ("accounts", without(ACCOUNT, "created_at"), "created_at", "required field is missing"),
        ("labels", with_(LABEL, label="evil"), "label", "unknown label 'evil'; expected benign or attack"),
        ("labels", with_(LABEL, tactics=["a", 3]), "tactics[1]", "expected a string, got integer 3"),
        ("labels", with_(LABEL, tactics="a"), "tactics", "expected an array of strings, got string 'a'"),
        ("labels", without(LABEL, "label"), "label", "required field is missing"),
    ],
)
def test_bad_account_and_label_fields(kind: str, record: dict, field: str, reason: str) -> None:
    with pytest.raises(RecordError) as info:
        parse(kind, record)
    assert (info.value.field, info.value.reason) == (field, reason)


@pytest.mark.parametrize(
    ("value", "got"),
    [([1], "array"), ("x", "string 'x'"), (None, "null"), (3, "integer 3"), (True, "boolean true")],
)
def test_a_record_must_be_an_object(value: object, got: str) -> None:
    with pytest.raises(RecordError) as info:
        parse("requests", value)
    assert (info.value.field, info.value.reason) == ("", f"expected a JSON object, got {got}")


def test_long_strings_are_shortened_in_reasons() -> None:
    with pytest.raises(RecordError) as info:
        parse("requests", with_(REQUEST, status="x" * 500))
    assert info.value.reason == "expected an integer, got string '" + "x" * 37 + "...'"


def test_unknown_fields_are_kept_in_extra() -> None:
    record = with_(
        REQUEST,
        trace={"id": "abc", "tags": [1, None]},
        extra="clash with the column name",
        params={"temperature": 0.5, "seed": 42, "stop": ["\n"]},
        usage={"input_tokens": 1, "cached_tokens": 5},
        response={"content": "x", "refusal": None},
    )
    batch = records_to_batch([record], "requests")
    extra = orjson.loads(batch.column("extra")[0].as_py())
    assert extra == {
        "trace": {"id": "abc", "tags": [1, None]},
        "extra": "clash with the column name",
        "params": {"seed": 42, "stop": ["\n"]},
        "usage": {"cached_tokens": 5},
        "response": {"refusal": None},
    }
    assert batch.column("params")[0].as_py()["temperature"] == 0.5
    (back,) = batch_to_json_rows(batch)
    assert back == record


def test_a_record_without_unknown_fields_has_null_extra() -> None:
    assert records_to_batch([ACCOUNT], "accounts").column("extra")[0].as_py() is None


def test_empty_known_object_is_kept() -> None:
    (back,) = batch_to_json_rows(records_to_batch([with_(REQUEST, params={})], "requests"))
    assert back["params"] == {}


def test_builder_is_unchanged_by_a_bad_record() -> None:
    builder = RecordBuilder("requests")
    builder.add(REQUEST)
    bad = with_(REQUEST, usage={"input_tokens": 1, "output_tokens": "x"})  # fails after other fields parsed
    with pytest.raises(RecordError):
        builder.add(bad)
    builder.add(with_(REQUEST, request_id="req-2"))
    batch = builder.build()
    assert batch.column("request_id").to_pylist() == ["req-1", "req-2"]
    assert len(builder) == 0
    assert builder.build().num_rows == 0


def test_records_to_batch_names_the_bad_record() -> None:
    with pytest.raises(RecordError) as info:
        records_to_batch(
            [REQUEST, REQUEST, with_(REQUEST, messages=[{"role": "bot", "content": ""}])], "requests"
        )
    assert info.value.field == "[2].messages[0].role"


def test_lone_surrogates_are_rejected_not_crashing_arrow() -> None:
    with pytest.raises(RecordError) as info:
        parse("requests", with_(REQUEST, messages=[{"role": "user", "content": "a\ud800b"}]))
    assert info.value.field == "messages[0].content"


def test_non_finite_floats_are_rejected() -> None:
    with pytest.raises(RecordError) as info:
        parse("requests", with_(REQUEST, params={"temperature": float("nan")}))
    assert info.value.field == "params.temperature"


def test_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown record kind 'sessions'"):
        RecordBuilder("sessions")
