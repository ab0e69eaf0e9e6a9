"""Tests for the LiteLLM and OpenTelemetry adapters (src/distillguard/io/adapters)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from distillguard.io.adapters import ADAPTERS, AdapterError, litellm, otel
from distillguard.io.schema import NESTED_OBJECTS, REQUESTS, ROLES

FIXTURES = Path(__file__).parent / "fixtures"
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(\d{3})?Z$")
SPAN = "resourceSpans[0].scopeSpans[0].spans[{}]"


def load(*parts: str) -> Any:
    return json.loads((FIXTURES.joinpath(*parts)).read_text(encoding="utf-8"))


def run(name: str, doc: Any) -> list[dict[str, Any]]:
    records = list(ADAPTERS[name](doc))
    for record in records:
        check_spec(record)
    return records


def one(name: str, *parts: str) -> dict[str, Any]:
    records = run(name, load(*parts))
    assert len(records) == 1
    return records[0]


def check_spec(rec: dict[str, Any]) -> None:
    """Assert that a record is a valid traffic-log-v1 request in JSON form and fits the Arrow schema."""
    for key in ("request_id", "ts", "account_id", "model", "messages"):
        assert key in rec, key
    for key in ("request_id", "account_id", "model"):
        assert isinstance(rec[key], str) and rec[key], key
    for key in ("api_key_id", "ip", "user_agent", "endpoint"):
        assert key not in rec or isinstance(rec[key], str), key
    assert TS_RE.match(rec["ts"]), rec["ts"]
    assert isinstance(rec["messages"], list)
    for msg in rec["messages"]:
        assert set(msg) == {"role", "content"}
        assert msg["role"] in ROLES
        assert isinstance(msg["content"], str)
    if "status" in rec:
        assert type(rec["status"]) is int and 100 <= rec["status"] <= 599
    for name, struct in NESTED_OBJECTS.items():
        if name in rec:
            assert isinstance(rec[name], dict) and rec[name], name
            assert set(rec[name]) <= {f.name for f in struct}, (name, rec[name])
            assert None not in rec[name].values()
    usage = rec.get("usage", {})
    assert all(type(v) is int and v >= 0 for v in usage.values())
    params = rec.get("params", {})
    for key in ("stream", "logprobs"):
        assert key not in params or type(params[key]) is bool
    for key in ("max_tokens", "n", "top_logprobs", "tools"):
        assert key not in params or type(params[key]) is int
    for key in ("temperature", "top_p"):
        assert key not in params or type(params[key]) in (int, float)
    resp = rec.get("response", {})
    assert all(isinstance(v, str) for v in resp.values())

    # The record must load into the one Arrow definition of the format.
    names = {f.name for f in REQUESTS}
    row = {k: v for k, v in rec.items() if k in names}
    row["ts"] = dt.datetime.strptime(rec["ts"], "%Y-%m-%dT%H:%M:%S.%f%z")
    row["extra"] = json.dumps({k: v for k, v in rec.items() if k not in names})
    pa.Table.from_pylist([row], schema=REQUESTS)
    json.dumps(rec, allow_nan=False)


# ---------------------------------------------------------------- LiteLLM


def test_litellm_chat_completion() -> None:
    rec = one("litellm", "litellm", "chat_success.json")
    assert rec["request_id"] == "chatcmpl-b980db26-9512-45cc-b1da-c511a363b83f"
    assert rec["ts"] == "2026-03-01T12:00:00.123Z"
    assert rec["account_id"] == "team-acme-research"  # team wins over org and user
    assert rec["api_key_id"] == "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b"
    assert rec["ip"] == "203.0.113.42"
    assert rec["user_agent"] == "OpenAI/Python 1.109.1"
    assert rec["model"] == "gpt-4o"  # the model group the client asked for
    assert rec["endpoint"] == "/v1/chat/completions"
    assert [m["role"] for m in rec["messages"]] == ["system", "user", "assistant", "tool"]
    assert (
        rec["messages"][1]["content"] == "What is in this chart, and what is the weather in Paris?\n[image]"
    )
    tool_calls = json.loads(rec["messages"][2]["content"])
    assert tool_calls[0]["function"]["name"] == "get_weather"
    assert rec["messages"][3]["content"] == "rainy, 57°F"
    assert rec["params"] == {
        "temperature": 0.2,
        "top_p": 0.9,
        "max_tokens": 2048,
        "n": 1,
        "stream": False,
        "logprobs": True,
        "top_logprobs": 3,
        "tools": 2,
        "reasoning_effort": "medium",
    }
    assert rec["response"] == {
        "content": "The chart shows monthly revenue rising steadily. In Paris it is rainy at 57°F.",
        "reasoning": "The user asks two things: describe the chart, then report the tool result.",
        "finish_reason": "stop",
    }
    assert rec["usage"] == {"input_tokens": 412, "output_tokens": 290, "reasoning_tokens": 128}
    assert rec["status"] == 200
    assert rec["source"]["deployment_model"] == "gpt-4o-2024-08-06"
    assert rec["source"]["account_field"] == "metadata.user_api_key_team_id"
    # Nothing large from the payload (the base64 image, tool schemas, tracebacks) is copied.
    assert "iVBORw0KGgo" not in json.dumps(rec)
    assert len(json.dumps(rec["source"])) < 400


def test_litellm_failure_uses_error_code_and_org_account() -> None:
    rec = one("litellm", "litellm", "failure_rate_limited.json")
    assert rec["status"] == 429
    assert rec["account_id"] == "org-globex"
    assert rec["ip"] == "2001:db8::7"
    assert "response" not in rec
    assert rec["params"] == {"temperature": 1.0, "max_tokens": 256, "stream": True}
    assert rec["usage"] == {"input_tokens": 0, "output_tokens": 0}


@pytest.mark.parametrize(
    ("code", "expected"),
    [("503", 503), ("429", 429), (None, 500), ("APIConnectionError", 500), ("99", 500), (404, 404)],
)
def test_litellm_failure_status_codes(code: Any, expected: int) -> None:
    doc = load("litellm", "failure_rate_limited.json")
    doc["error_information"]["error_code"] = code
    assert run("litellm", doc)[0]["status"] == expected


def test_litellm_anthropic_messages() -> None:
    rec = one("litellm", "litellm", "anthropic_messages.json")
    assert rec["endpoint"] == "/v1/messages"
    assert rec["model"] == "claude-sonnet-4-5-20250929"  # no model_group: the model as logged
    assert rec["account_id"] == "user-ines"
    assert rec["user_agent"] == "anthropic-sdk-python/0.69.0"
    assert rec["messages"] == [
        {"role": "system", "content": "You are a mathematician who writes rigorous proofs."},
        {"role": "user", "content": "Prove that the square root of 2 is irrational.\n[document]"},
    ]
    assert rec["response"]["reasoning"].startswith("Assume sqrt(2) = p/q")
    assert rec["response"]["content"].startswith("Suppose sqrt(2) = p/q")
    assert rec["response"]["finish_reason"] == "end_turn"
    assert rec["params"] == {"max_tokens": 4096, "stream": False}


def test_litellm_responses_api() -> None:
    rec = one("litellm", "litellm", "responses_api.json")
    assert rec["endpoint"] == "/v1/responses"
    assert rec["ts"] == "2026-03-02T08:30:00.250Z"
    assert rec["account_id"] == "customer-8812"
    assert rec["source"]["account_field"] == "end_user"
    assert "api_key_id" not in rec and "ip" not in rec
    assert rec["messages"] == [
        {"role": "system", "content": "Answer in English."},
        {"role": "user", "content": "Write a haiku about distillation."},
    ]
    assert rec["response"]["content"].startswith("Copper coils murmur")
    assert rec["response"]["reasoning"] == "Five, seven, five syllables about a still."
    assert rec["response"]["finish_reason"] == "stop"
    assert rec["params"] == {"max_tokens": 512, "stream": False, "reasoning_effort": "low"}
    assert rec["usage"] == {"input_tokens": 36, "output_tokens": 295, "reasoning_tokens": 256}


def test_litellm_batch_array_skips_embeddings() -> None:
    records = run("litellm", load("litellm", "generic_api_batch.json"))
    assert len(records) == 1
    rec = records[0]
    assert rec["endpoint"] == "/v1/completions"
    assert rec["response"] == {"content": "\n\nThis is indeed a test", "finish_reason": "length"}
    assert rec["params"] == {"temperature": 0.0, "max_tokens": 7, "logprobs": True, "top_logprobs": 5}


def test_litellm_callback_kwargs_wrapper() -> None:
    rec = one("litellm", "litellm", "callback_kwargs.json")
    assert rec["request_id"] == "chatcmpl-legacy-0001"
    assert rec["messages"][0] == {"role": "system", "content": "Be terse."}  # developer -> system
    assert rec["response"] == {"content": "openai", "finish_reason": "stop"}
    assert "user_agent" not in rec


def test_litellm_embedding_is_skipped() -> None:
    assert run("litellm", load("litellm", "embedding_only.json")) == []


def test_litellm_account_precedence_is_configurable() -> None:
    adapter = litellm.make_adapter(["metadata.user_api_key_org_id", "metadata.user_api_key_team_id"])
    rec = next(iter(adapter(load("litellm", "chat_success.json"))))
    assert rec["account_id"] == "org-acme"
    with pytest.raises(ValueError):
        litellm.make_adapter([])


def test_adapters_name_the_versions_they_follow() -> None:
    assert "001c64f2" in litellm.LITELLM_PAYLOAD_VERSION
    assert "001c64f2" in (litellm.__doc__ or "")
    assert otel.SEMCONV_VERSION in (otel.__doc__ or "")


LITELLM_BAD = [
    ("missing_model.json", "model"),
    ("missing_account.json", "metadata.user_api_key_team_id"),
    ("missing_messages.json", "messages"),
    ("wrong_type_temperature.json", "model_parameters.temperature"),
    ("wrong_type_content.json", "messages[0].content"),
    ("wrong_type_start_time.json", "startTime"),
    ("wrong_type_metadata.json", "metadata"),
    ("unknown_role.json", "messages[1].role"),
    ("unknown_call_type.json", "call_type"),
    ("unknown_status.json", "status"),
    ("empty_object.json", ""),
    ("garbage.json", ""),
]


@pytest.mark.parametrize(("name", "field"), LITELLM_BAD)
def test_litellm_bad_documents(name: str, field: str) -> None:
    with pytest.raises(AdapterError) as info:
        list(ADAPTERS["litellm"](load("litellm", "bad", name)))
    assert info.value.field == field
    assert info.value.reason
    assert isinstance(info.value, ValueError)


def test_litellm_error_paths_inside_a_batch() -> None:
    good = load("litellm", "callback_kwargs.json")["standard_logging_object"]
    bad = copy.deepcopy(good)
    bad["messages"][1]["role"] = 7
    with pytest.raises(AdapterError) as info:
        list(ADAPTERS["litellm"]([good, bad]))
    assert info.value.field == "[1].messages[1].role"


# ---------------------------------------------------------------- OpenTelemetry


def test_otel_chat_span_v1_38() -> None:
    records = run("otel", load("otel", "chat_v1_38.json"))
    # HTTP, invoke_agent, execute_tool and embeddings spans are not requests.
    assert len(records) == 1
    rec = records[0]
    assert rec["request_id"] == "5b8efff798038103d269b633813fc60c-eee19b7ec3c1b174"
    assert rec["ts"] == "2026-03-01T12:00:00.123Z"
    assert rec["account_id"] == "acct-acme"
    assert rec["ip"] == "203.0.113.42"
    assert rec["user_agent"] == "OpenAI/Python 1.109.1"
    assert rec["model"] == "gpt-4o"
    assert rec["endpoint"] == "/v1/chat/completions"
    assert [m["role"] for m in rec["messages"]] == ["system", "user", "assistant", "tool"]
    assert rec["messages"][0]["content"] == "You are a helpful weather assistant."
    assert json.loads(rec["messages"][2]["content"])["name"] == "get_weather"
    assert rec["messages"][3]["content"] == "rainy, 57°F"
    assert rec["params"] == {"temperature": 0.2, "top_p": 0.9, "max_tokens": 1024, "n": 2, "tools": 1}
    assert rec["response"] == {
        "content": "The weather in Paris is currently rainy with a temperature of 57°F.",
        "reasoning": "The tool says rainy and 57°F; answer briefly.",
        "finish_reason": "stop",
    }
    assert rec["usage"] == {"input_tokens": 97, "output_tokens": 52}
    assert rec["status"] == 200
    assert rec["source"]["response_model"] == "gpt-4o-2024-08-06"
    assert rec["source"]["semconv"] == otel.SEMCONV_VERSION == "1.38.0"


def test_otel_errors_structured_values_and_base64_ids() -> None:
    first, second = run("otel", load("otel", "errors_structured.json"))
    # Protobuf-JSON style base64 ids come out as the OTLP/JSON hex form.
    assert first["request_id"] == "5b8efff798038103d269b633813fc60c-eee19b7ec3c1b174"
    assert first["status"] == 429
    assert first["account_id"] == "tenant-42"
    assert first["source"]["account_attribute"] == "enduser.id"
    assert first["messages"] == [
        {"role": "system", "content": "Translate English to French."},
        {"role": "user", "content": "Good morning\n[image]"},
    ]
    assert first["params"] == {"max_tokens": 300, "stream": True}
    assert "response" not in first
    assert second["status"] == 500  # error.type "timeout" has no HTTP code
    assert second["account_id"] == "tenant-app-17"
    assert second["source"]["account_attribute"] == "resource:service.name"
    assert second["endpoint"] == "/v1/completions"
    assert second["ts"] == "2026-03-01T12:01:01.123Z"


def test_otel_older_emitters() -> None:
    events, flat, v127, details = run("otel", load("otel", "older_emitters.json"))
    assert events["messages"] == [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "How many languages are in the world?"},
    ]
    assert events["response"] == {"content": "About 7,000.", "finish_reason": "stop"}
    assert events["usage"] == {"input_tokens": 20, "output_tokens": 9}
    assert flat["messages"][1] == {"role": "user", "content": "What is 2+2?"}
    assert flat["response"] == {"content": "4", "finish_reason": "stop"}
    assert flat["source"]["operation"] == "chat"  # from llm.request.type
    assert v127["messages"] == [{"role": "user", "content": "Name three primes."}]
    assert v127["response"] == {"content": "2, 3 and 5.", "finish_reason": "end_turn"}
    assert details["model"] == "gemini-2.5-flash"
    assert details["response"]["reasoning"] == "Rayleigh scattering."
    assert details["usage"] == {"input_tokens": 11, "output_tokens": 30, "reasoning_tokens": 18}


def test_otel_non_genai_spans_are_skipped() -> None:
    assert run("otel", load("otel", "no_genai_spans.json")) == []
    assert run("otel", {"resourceSpans": []}) == []


def test_otel_malformed_telemetry_outside_genai_spans_is_ignored() -> None:
    doc = load("otel", "no_genai_spans.json")
    doc["resourceSpans"][0]["resource"]["attributes"].append({"key": "odd", "value": {"weird": 1}})
    doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"].append({"key": 5})
    assert run("otel", doc) == []


def test_otel_operation_name_must_be_a_string() -> None:
    doc = load("otel", "chat_v1_38.json")
    chat = doc["resourceSpans"][0]["scopeSpans"][1]["spans"][2]
    for kv in chat["attributes"]:
        if kv["key"] == "gen_ai.operation.name":
            kv["value"] = {"intValue": "1"}
    with pytest.raises(AdapterError) as info:
        list(ADAPTERS["otel"](doc))
    assert info.value.field == "resourceSpans[0].scopeSpans[1].spans[2].attributes.gen_ai.operation.name"


def test_otel_account_attributes_are_configurable() -> None:
    adapter = otel.make_adapter(["resource:deployment.environment.name"])
    rec = next(iter(adapter(load("otel", "chat_v1_38.json"))))
    assert rec["account_id"] == "prod"
    assert rec["source"]["account_attribute"] == "resource:deployment.environment.name"
    with pytest.raises(ValueError):
        otel.make_adapter(["resource:"])


OTEL_BAD = [
    ("missing_model.json", SPAN.format(3) + ".attributes.gen_ai.request.model"),
    ("wrong_type_model.json", SPAN.format(0) + ".attributes.gen_ai.request.model"),
    ("missing_account.json", SPAN.format(0) + ".attributes.user.id"),
    ("invalid_messages_json.json", SPAN.format(0) + ".attributes.gen_ai.input.messages"),
    ("no_content_captured.json", SPAN.format(0) + ".attributes.gen_ai.input.messages"),
    ("missing_start_time.json", SPAN.format(0) + ".startTimeUnixNano"),
    ("wrong_type_tokens.json", SPAN.format(0) + ".attributes.gen_ai.usage.input_tokens"),
    ("unknown_role.json", SPAN.format(0) + ".attributes.gen_ai.input.messages[0].role"),
    ("empty_object.json", "resourceSpans"),
    ("wrong_type_resource_spans.json", "resourceSpans"),
]


@pytest.mark.parametrize(("name", "field"), OTEL_BAD)
def test_otel_bad_documents(name: str, field: str) -> None:
    with pytest.raises(AdapterError) as info:
        list(ADAPTERS["otel"](load("otel", "bad", name)))
    assert info.value.field == field
    assert info.value.reason


def test_otel_bad_document_yields_nothing_before_the_error() -> None:
    # Atomic per document: the three good spans before the bad one are not yielded either.
    produced = []
    with pytest.raises(AdapterError):
        for record in ADAPTERS["otel"](load("otel", "bad", "missing_model.json")):
            produced.append(record)
    assert produced == []


@pytest.mark.parametrize(
    "doc", [None, 7, "text", [1, 2], {"resourceSpans": [7]}, {"resourceSpans": [{"scopeSpans": 3}]}]
)
def test_otel_garbage(doc: Any) -> None:
    with pytest.raises(AdapterError):
        list(ADAPTERS["otel"](doc))


# ---------------------------------------------------------------- robustness

VOCAB = sorted(
    {
        "id",
        "call_type",
        "startTime",
        "model",
        "model_group",
        "metadata",
        "messages",
        "response",
        "model_parameters",
        "status",
        "error_information",
        "error_code",
        "prompt_tokens",
        "completion_tokens",
        "end_user",
        "user_api_key_team_id",
        "user_api_key_hash",
        "role",
        "content",
        "type",
        "text",
        "tool_calls",
        "choices",
        "message",
        "finish_reason",
        "output",
        "usage",
        "tools",
        "logprobs",
        "temperature",
        "standard_logging_object",
        "resourceSpans",
        "scopeSpans",
        "spans",
        "attributes",
        "key",
        "value",
        "stringValue",
        "intValue",
        "arrayValue",
        "kvlistValue",
        "values",
        "traceId",
        "spanId",
        "startTimeUnixNano",
        "events",
        "name",
        "parts",
        "gen_ai.operation.name",
        "gen_ai.request.model",
        "user.id",
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "code",
    }
)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
KEYS = st.sampled_from(VOCAB) | st.text(max_size=6)
JSON = st.recursive(
    SCALARS | st.sampled_from(["chat", "acompletion", "success", "failure", "user", "text", "system"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=40,
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_paths(v, (*prefix, i)))
    return out


def _replace(doc: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    doc = copy.deepcopy(doc)
    target = doc
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return doc


GOOD_DOCS = {
    "litellm": [load("litellm", p.name) for p in sorted((FIXTURES / "litellm").glob("*.json"))],
    "otel": [load("otel", p.name) for p in sorted((FIXTURES / "otel").glob("*.json"))],
}
CONVERTERS = {"litellm": litellm.convert, "otel": otel.convert}


@pytest.mark.parametrize("name", ["litellm", "otel"])
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=JSON)
def test_arbitrary_json_raises_only_adapter_error(name: str, doc: Any) -> None:
    # The bare converters have no safety net, so this checks the code, not the wrapper.
    try:
        records = CONVERTERS[name](doc)
    except AdapterError:
        return
    for record in records:
        check_spec(record)


@pytest.mark.parametrize("name", ["litellm", "otel"])
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_fixtures_raise_only_adapter_error(name: str, data: st.DataObject) -> None:
    doc = data.draw(st.sampled_from(GOOD_DOCS[name]))
    path = data.draw(st.sampled_from(_paths(doc)))
    mutated = _replace(doc, path, data.draw(JSON))
    try:
        records = CONVERTERS[name](mutated)
    except AdapterError as exc:
        assert isinstance(exc.field, str) and exc.reason
        return
    for record in records:
        check_spec(record)


def test_registry_contract() -> None:
    assert set(ADAPTERS) == {"litellm", "otel"}
    assert issubclass(AdapterError, ValueError)
    err = AdapterError("a.b", "why")
    assert (err.field, err.reason) == ("a.b", "why")
    assert "a.b" in str(err)
