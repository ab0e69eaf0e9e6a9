"""The one definition of the traffic log format (spec: traffic-log-v1) as Arrow schemas.

Every reader, writer, adapter and the simulator build on the schemas here, so a change to the
format is a change to this file only. Three record kinds exist: ``requests``, ``accounts`` and
``labels`` (ground truth, simulator and benchmarks only).

In Arrow, timestamps are ``timestamp[us, UTC]``. Fields that the spec does not name are kept,
never dropped: they travel in one ``extra`` column holding a JSON object text. Unknown keys inside
the known objects ``params``, ``response`` and ``usage`` are kept under ``extra[<object name>]``
so that a JSONL -> Parquet -> JSONL round trip gives back the same record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyarrow as pa

FORMAT_VERSION = "traffic-log-v1"

TIMESTAMP = pa.timestamp("us", tz="UTC")
ROLES = ("system", "user", "assistant", "tool")
TIERS = ("free", "payg", "enterprise", "education", "startup", "research")
LABELS = ("benign", "attack")

MESSAGE = pa.struct([pa.field("role", pa.string()), pa.field("content", pa.string())])

PARAMS = pa.struct(
    [
        pa.field("temperature", pa.float64()),
        pa.field("top_p", pa.float64()),
        pa.field("max_tokens", pa.int64()),
        pa.field("n", pa.int64()),
        pa.field("stream", pa.bool_()),
        pa.field("logprobs", pa.bool_()),
        pa.field("top_logprobs", pa.int64()),
        pa.field("tools", pa.int64()),
        pa.field("reasoning_effort", pa.string()),
    ]
)

RESPONSE = pa.struct(
    [
        pa.field("content", pa.string()),
        pa.field("reasoning", pa.string()),
        pa.field("finish_reason", pa.string()),
    ]
)

USAGE = pa.struct(
    [
        pa.field("input_tokens", pa.int64()),
        pa.field("output_tokens", pa.int64()),
        pa.field("reasoning_tokens", pa.int64()),
    ]
)

REQUESTS = pa.schema(
    [
        pa.field("request_id", pa.string(), nullable=False),
        pa.field("ts", TIMESTAMP, nullable=False),
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("api_key_id", pa.string()),
        pa.field("ip", pa.string()),
        pa.field("user_agent", pa.string()),
        pa.field("model", pa.string(), nullable=False),
        pa.field("endpoint", pa.string()),
        pa.field("messages", pa.list_(MESSAGE), nullable=False),
        pa.field("params", PARAMS),
        pa.field("response", RESPONSE),
        pa.field("usage", USAGE),
        pa.field("status", pa.int64()),
        pa.field("extra", pa.string()),
    ],
    metadata={"format": FORMAT_VERSION, "kind": "requests"},
)

ACCOUNTS = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("created_at", TIMESTAMP, nullable=False),
        pa.field("tier", pa.string()),
        pa.field("country", pa.string()),
        pa.field("email_domain", pa.string()),
        pa.field("payment_fingerprint", pa.string()),
        pa.field("verified", pa.bool_()),
        pa.field("extra", pa.string()),
    ],
    metadata={"format": FORMAT_VERSION, "kind": "accounts"},
)

# `persona` and `tactics` extend the spec's ground truth so that the evaluation can report false
# positives per benign persona and recall per attack tactic; readers of the spec ignore them.
LABELS_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("label", pa.string(), nullable=False),
        pa.field("campaign_id", pa.string()),
        pa.field("persona", pa.string()),
        pa.field("tactics", pa.list_(pa.string())),
        pa.field("extra", pa.string()),
    ],
    metadata={"format": FORMAT_VERSION, "kind": "labels"},
)

SCHEMAS: dict[str, pa.Schema] = {"requests": REQUESTS, "accounts": ACCOUNTS, "labels": LABELS_SCHEMA}

# Objects whose unknown keys are kept under extra[<name>] rather than at the top level.
NESTED_OBJECTS: dict[str, pa.StructType] = {"params": PARAMS, "response": RESPONSE, "usage": USAGE}


@dataclass(frozen=True)
class FieldRule:
    """What the spec demands of one top-level field, for validators and docs."""

    name: str
    kind: str  # string | timestamp | int | float | bool | messages | object | string_list
    required: bool
    choices: tuple[str, ...] = ()


def rules_for(kind: str) -> list[FieldRule]:
    """Return the field rules of one record kind, derived from its Arrow schema."""
    schema = schema_for(kind)
    choices = {"role": ROLES, "tier": TIERS, "label": LABELS}
    rules = []
    for field in schema:
        if field.name == "extra":
            continue
        rules.append(FieldRule(field.name, _kind_of(field), not field.nullable, choices.get(field.name, ())))
    return rules


def schema_for(kind: str) -> pa.Schema:
    """Return the Arrow schema of a record kind, or raise ValueError naming the known kinds."""
    try:
        return SCHEMAS[kind]
    except KeyError:
        raise ValueError(f"unknown record kind {kind!r}; expected one of {', '.join(SCHEMAS)}") from None


def format_ts(value: dt.datetime) -> str:
    """Format a UTC datetime as the spec's RFC 3339 text: milliseconds, or microseconds when needed."""
    value = value.astimezone(dt.UTC)
    if value.microsecond % 1000 == 0:
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _kind_of(field: pa.Field) -> str:
    t = field.type
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_string(t):
        return "string"
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_list(t):
        return "messages" if pa.types.is_struct(t.value_type) else "string_list"
    return "object"
