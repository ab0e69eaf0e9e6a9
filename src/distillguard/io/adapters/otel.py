"""Adapter from OpenTelemetry GenAI spans exported as OTLP/JSON to traffic-log-v1 request records.

Input: one OTLP/JSON ``ExportTraceServiceRequest`` (``resourceSpans[].scopeSpans[].spans[]``), as
the OpenTelemetry Collector's file exporter writes one per line, or a JSON array of them.
Attribute values are OTLP ``AnyValue`` objects (``stringValue``, ``intValue`` -- often a string in
OTLP/JSON --, ``doubleValue``, ``boolValue``, ``arrayValue``, ``kvlistValue``, ``bytesValue``).

Semantic conventions followed: GenAI semconv **v1.38.0** (open-telemetry/semantic-conventions,
``docs/gen-ai/gen-ai-spans.md``, ``docs/gen-ai/gen-ai-input-messages.json``,
``docs/gen-ai/gen-ai-output-messages.json``, ``model/gen-ai/registry.yaml``): structured
``gen_ai.input.messages`` / ``gen_ai.output.messages`` / ``gen_ai.system_instructions`` (on the
span or on a ``gen_ai.client.inference.operation.details`` span event), message ``parts`` of type
``text``, ``tool_call``, ``tool_call_response``, ``reasoning`` (added in v1.38.0), ``blob``,
``file_data``, ``uri``. Cheap fallbacks for older emitters: the flattened
``gen_ai.prompt.<i>.role/content`` / ``gen_ai.completion.<i>.*`` attributes (OpenLLMetry, LiteLLM's
OTel callback), the v1.27 ``gen_ai.content.prompt`` / ``gen_ai.content.completion`` events, and
the v1.28-v1.36 per-message events (``gen_ai.user.message``, ``gen_ai.choice``, ...) whose body
sits in a ``gen_ai.event.content`` attribute.

Only spans whose ``gen_ai.operation.name`` is in :data:`REQUEST_OPERATIONS` are requests; every
other span (HTTP, embeddings, tool execution, agent spans that wrap the chat spans, spans of other
instrumentations) is skipped without error.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from distillguard.io.adapters import (
    MAX_DEPTH,
    Adapter,
    AdapterError,
    compact_json,
    content_text,
    drop_none,
    expect_list,
    expect_object,
    guarded,
    join,
    opt_bool,
    opt_float,
    opt_int,
    opt_str,
    spec_role,
    ts_from_epoch_us,
    type_name,
)

SEMCONV_VERSION = "1.38.0"
SEMCONV_SOURCE = "open-telemetry/semantic-conventions v1.38.0 docs/gen-ai/gen-ai-spans.md"

# Inference operations. ``invoke_agent``/``create_agent`` spans wrap the chat spans they cause,
# so counting them too would double every request; embeddings and tools are not generation.
REQUEST_OPERATIONS: frozenset[str] = frozenset({"chat", "text_completion", "generate_content"})

# OpenLLMetry's pre-semconv ``llm.request.type`` values, used only when the operation is unset.
_LEGACY_OPERATIONS = {"chat": "chat", "completion": "text_completion"}

RESOURCE_PREFIX = "resource:"

# Where the account comes from, tried in order: span attribute keys, or ``resource:<key>`` for a
# resource attribute. ``service.name`` is the last resort: right when each tenant's own app
# exports its spans, but it names the gateway itself when the gateway is the exporter -- the
# record's ``source.account_attribute`` says which one was used.
DEFAULT_ACCOUNT_ATTRIBUTES: tuple[str, ...] = ("user.id", "enduser.id", "resource:service.name")

_STATUS_CODE_ERROR = 2
_HEX = re.compile(r"[0-9a-fA-F]+")
_FLAT_PROMPT = re.compile(r"gen_ai\.(prompt|completion)\.(\d+)\.(\w+)")
_PER_MESSAGE_EVENTS = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
_DETAILS_EVENT = "gen_ai.client.inference.operation.details"
_SOURCE_STRING_LIMIT = 256


def convert(doc: Any) -> list[dict[str, Any]]:
    """Convert one OTLP/JSON ExportTraceServiceRequest into spec request records."""
    return _convert_document(doc, DEFAULT_ACCOUNT_ATTRIBUTES)


def make_adapter(account_attributes: Sequence[str] = DEFAULT_ACCOUNT_ATTRIBUTES) -> Adapter:
    """Return an adapter like ``ADAPTERS["otel"]`` that takes the account from other attributes.

    Each entry is a span attribute key (``"user.id"``) or ``"resource:<key>"`` for a resource
    attribute (``"resource:tenant.id"``); the first one set on a span wins.
    """
    keys = tuple(account_attributes)
    if not keys or not all(isinstance(k, str) and k.removeprefix(RESOURCE_PREFIX) for k in keys):
        raise ValueError("account_attributes must be a non-empty sequence of attribute keys")
    return guarded("otel", lambda doc: _convert_document(doc, keys))


def _convert_document(doc: Any, account_keys: tuple[str, ...]) -> list[dict[str, Any]]:
    if isinstance(doc, list):
        records: list[dict[str, Any]] = []
        for i, item in enumerate(doc):
            records.extend(_convert_request(item, f"[{i}]", account_keys))
        return records
    return _convert_request(doc, "", account_keys)


def _convert_request(doc: Any, base: str, account_keys: tuple[str, ...]) -> list[dict[str, Any]]:
    req = expect_object(doc, base)
    rs_key = join(base, "resourceSpans")
    if req.get("resourceSpans") is None:
        raise AdapterError(rs_key, "missing; expected an OTLP/JSON ExportTraceServiceRequest")
    records: list[dict[str, Any]] = []
    for i, rs_raw in enumerate(expect_list(req["resourceSpans"], rs_key)):
        rs_path = join(rs_key, i)
        rs = expect_object(rs_raw, rs_path)
        resource_raw = rs.get("resource")
        resource = {} if resource_raw is None else expect_object(resource_raw, join(rs_path, "resource"))
        res_attrs_path = join(rs_path, "resource.attributes")
        res_attrs: dict[str, Any] | None = None
        # ``instrumentationLibrarySpans`` is the pre-1.0 OTLP name that old exporters still write.
        scope_key = "scopeSpans" if "scopeSpans" in rs else "instrumentationLibrarySpans"
        for j, ss_raw in enumerate(expect_list(rs.get(scope_key) or [], join(rs_path, scope_key))):
            ss_path = join(join(rs_path, scope_key), j)
            ss = expect_object(ss_raw, ss_path)
            for k, span_raw in enumerate(expect_list(ss.get("spans") or [], join(ss_path, "spans"))):
                span_path = join(join(ss_path, "spans"), k)
                span = expect_object(span_raw, span_path)
                op = _operation(span.get("attributes"), join(span_path, "attributes"))
                if op is None:
                    continue
                if res_attrs is None:
                    # Decoded only for resources that hold requests: other telemetry is not our business.
                    res_attrs = _attributes(resource.get("attributes"), res_attrs_path)
                records.append(_convert_span(span, span_path, op, res_attrs, res_attrs_path, account_keys))
    return records


def _attributes(raw: Any, path: str) -> dict[str, Any]:
    """Decode an OTLP ``KeyValue`` list into a dict of plain Python values."""
    if raw is None:
        return {}
    result: dict[str, Any] = {}
    for i, kv_raw in enumerate(expect_list(raw, path)):
        kv = expect_object(kv_raw, join(path, i))
        key = kv.get("key")
        if not isinstance(key, str) or not key:
            raise AdapterError(
                join(join(path, i), "key"), f"expected a non-empty string, got {type_name(key)}"
            )
        result[key] = _any_value(kv.get("value"), join(path, key), 0)
    return result


def _any_value(value: Any, path: str, depth: int) -> Any:
    """Decode one OTLP ``AnyValue`` (arrays into lists, kvlists into dicts)."""
    if depth > MAX_DEPTH:
        raise AdapterError(path, "attribute value is nested too deeply")
    if value is None or isinstance(value, str | bool | int | float):
        # Not an AnyValue wrapper; some hand-rolled exporters write the bare value.
        return value
    obj = expect_object(value, path)
    if not obj:
        return None
    if "stringValue" in obj:
        return opt_str(obj["stringValue"], join(path, "stringValue")) or ""
    if "boolValue" in obj:
        return opt_bool(obj["boolValue"], join(path, "boolValue"))
    if "intValue" in obj:
        return opt_int(obj["intValue"], join(path, "intValue"), minimum=None)
    if "doubleValue" in obj:
        raw = obj["doubleValue"]
        if isinstance(raw, str) and raw in ("NaN", "Infinity", "-Infinity"):
            return float(raw.replace("Infinity", "inf"))
        return opt_float(raw, join(path, "doubleValue"))
    if "bytesValue" in obj:
        return opt_str(obj["bytesValue"], join(path, "bytesValue"))
    if "arrayValue" in obj:
        arr = expect_object(obj["arrayValue"] or {}, join(path, "arrayValue"))
        values = expect_list(arr.get("values") or [], join(path, "arrayValue.values"))
        return [
            _any_value(v, join(join(path, "arrayValue.values"), i), depth + 1) for i, v in enumerate(values)
        ]
    if "kvlistValue" in obj:
        kvl = expect_object(obj["kvlistValue"] or {}, join(path, "kvlistValue"))
        out: dict[str, Any] = {}
        values_path = join(path, "kvlistValue.values")
        for i, kv_raw in enumerate(expect_list(kvl.get("values") or [], values_path)):
            kv = expect_object(kv_raw, join(values_path, i))
            key = kv.get("key")
            if not isinstance(key, str):
                raise AdapterError(
                    join(join(values_path, i), "key"), f"expected a string, got {type_name(key)}"
                )
            out[key] = _any_value(kv.get("value"), join(path, key), depth + 1)
        return out
    raise AdapterError(path, f"unknown AnyValue with keys {sorted(obj)[:5]}")


class _Span:
    """One span's decoded attributes, with typed getters whose errors name the source path."""

    def __init__(self, attrs: dict[str, Any], path: str) -> None:
        self.attrs = attrs
        self.path = path

    def at(self, key: str) -> str:
        """Source path of one span attribute."""
        return f"{self.path}.attributes.{key}"

    def get_str(self, key: str) -> str | None:
        """A string attribute, None when absent."""
        return opt_str(self.attrs.get(key), self.at(key))

    def get_int(self, key: str) -> int | None:
        """An integer attribute, None when absent."""
        return opt_int(self.attrs.get(key), self.at(key))

    def get_float(self, key: str) -> float | None:
        """A numeric attribute, None when absent."""
        return opt_float(self.attrs.get(key), self.at(key))


def _operation(raw: Any, path: str) -> str | None:
    """The span's GenAI request operation, or None for spans that are not requests.

    Only the operation attributes are decoded, so a malformed attribute elsewhere on a span that
    is skipped anyway (an HTTP span, say) cannot fail the document.
    """
    if not isinstance(raw, list):
        return None
    found: dict[str, Any] = {}
    for kv in raw:
        if isinstance(kv, dict) and kv.get("key") in ("gen_ai.operation.name", "llm.request.type"):
            found[kv["key"]] = _any_value(kv.get("value"), join(path, kv["key"]), 0)
    op = found.get("gen_ai.operation.name")
    if op is not None and not isinstance(op, str):
        raise AdapterError(join(path, "gen_ai.operation.name"), f"expected a string, got {type_name(op)}")
    if op is None:
        legacy = found.get("llm.request.type")
        op = _LEGACY_OPERATIONS.get(legacy) if isinstance(legacy, str) else None
    return op if isinstance(op, str) and op in REQUEST_OPERATIONS else None


def _convert_span(
    span: dict[str, Any],
    path: str,
    op: str,
    res_attrs: dict[str, Any],
    res_attrs_path: str,
    account_keys: tuple[str, ...],
) -> dict[str, Any]:
    s = _Span(_attributes(span.get("attributes"), join(path, "attributes")), path)

    trace_id = _hex_id(span.get("traceId"), join(path, "traceId"), 16)
    span_id = _hex_id(span.get("spanId"), join(path, "spanId"), 8)
    start_ns = opt_int(span.get("startTimeUnixNano"), join(path, "startTimeUnixNano"))
    if not start_ns:
        raise AdapterError(join(path, "startTimeUnixNano"), "missing or zero; needed as ts")
    model = s.get_str("gen_ai.request.model")
    if model is None:
        raise AdapterError(s.at("gen_ai.request.model"), "missing; needed as model")
    account_id, account_key = _account(s, res_attrs, res_attrs_path, account_keys)
    events = _events(span.get("events"), join(path, "events"))

    record: dict[str, Any] = {
        "request_id": f"{trace_id}-{span_id}",
        "ts": ts_from_epoch_us(start_ns // 1000, join(path, "startTimeUnixNano")),
        "account_id": account_id,
        "ip": s.get_str("client.address"),
        "user_agent": _user_agent(s),
        "model": model,
        "endpoint": _endpoint(s),
        "messages": _input_messages(s, events),
    }
    params = _params(s)
    if params:
        record["params"] = params
    response = _response(s, events)
    if response:
        record["response"] = response
    usage = drop_none(
        {
            "input_tokens": _first_int(s, "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"),
            "output_tokens": _first_int(s, "gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"),
            "reasoning_tokens": s.get_int("gen_ai.usage.reasoning.output_tokens"),
        }
    )
    if usage:
        record["usage"] = usage
    record["status"] = _status(span, s, path)

    source = {
        "format": "otel",
        "semconv": SEMCONV_VERSION,
        "operation": op,
        "span_name": span.get("name"),
        "account_attribute": account_key,
        "provider": s.attrs.get("gen_ai.provider.name") or s.attrs.get("gen_ai.system"),
        "response_model": s.attrs.get("gen_ai.response.model"),
        "response_id": s.attrs.get("gen_ai.response.id"),
        "server_address": s.attrs.get("server.address"),
        "conversation_id": s.attrs.get("gen_ai.conversation.id"),
    }
    record["source"] = {
        k: v for k, v in source.items() if isinstance(v, str) and 0 < len(v) <= _SOURCE_STRING_LIMIT
    }
    return drop_none(record)


def _hex_id(value: Any, path: str, size: int) -> str:
    """Return a trace/span id as lowercase hex; OTLP/JSON says hex, protobuf's JSON says base64."""
    text = opt_str(value, path)
    if text is None:
        raise AdapterError(path, "missing; needed for request_id")
    if len(text) == 2 * size and _HEX.fullmatch(text):
        return text.lower()
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) == size:
        return raw.hex()
    if _HEX.fullmatch(text):
        return text.lower()
    raise AdapterError(path, f"expected a {2 * size}-digit hex id, got {text[:40]!r}")


def _account(
    s: _Span, res_attrs: dict[str, Any], res_attrs_path: str, keys: tuple[str, ...]
) -> tuple[str, str]:
    for key in keys:
        if key.startswith(RESOURCE_PREFIX):
            name = key.removeprefix(RESOURCE_PREFIX)
            value, path = res_attrs.get(name), join(res_attrs_path, name)
        else:
            value, path = s.attrs.get(key), s.at(key)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        account = opt_str(value, path)
        if account is not None and account.strip():
            return account, key
    first = keys[0]
    first_path = (
        join(res_attrs_path, first.removeprefix(RESOURCE_PREFIX))
        if first.startswith(RESOURCE_PREFIX)
        else s.at(first)
    )
    raise AdapterError(
        first_path, f"no account: none of {', '.join(keys)} is set; the spec requires account_id"
    )


def _user_agent(s: _Span) -> str | None:
    agent = s.get_str("user_agent.original")
    if agent:
        return agent
    header = s.attrs.get("http.request.header.user-agent")
    if isinstance(header, list) and header and isinstance(header[0], str):
        return header[0] or None
    return None


def _endpoint(s: _Span) -> str | None:
    for key in ("http.route", "url.path"):
        value = s.get_str(key)
        if value:
            return value
    full = s.get_str("url.full")
    if full:
        try:
            return urlsplit(full).path or None
        except ValueError:
            return None
    return None


def _events(raw: Any, path: str) -> list[tuple[str, dict[str, Any], str]]:
    """Decode span events into (name, attributes, attributes path) triples."""
    if raw is None:
        return []
    events = []
    for i, ev_raw in enumerate(expect_list(raw, path)):
        ev_path = join(path, i)
        ev = expect_object(ev_raw, ev_path)
        name = ev.get("name")
        if not isinstance(name, str):
            continue
        events.append(
            (
                name,
                _attributes(ev.get("attributes"), join(ev_path, "attributes")),
                join(ev_path, "attributes"),
            )
        )
    return events


def _structured(value: Any, path: str) -> Any:
    """Return a structured attribute (messages, parts) decoded from JSON text when it is a string."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except (ValueError, RecursionError):
            raise AdapterError(path, "expected JSON text (or a structured value)") from None
    return value


def _find(s: _Span, events: list[tuple[str, dict[str, Any], str]], key: str) -> tuple[Any, str] | None:
    """Find a content attribute on the span or on its inference details event."""
    if s.attrs.get(key) is not None:
        return s.attrs[key], s.at(key)
    for name, attrs, attrs_path in events:
        if name == _DETAILS_EVENT and attrs.get(key) is not None:
            return attrs[key], join(attrs_path, key)
    return None


def _input_messages(s: _Span, events: list[tuple[str, dict[str, Any], str]]) -> list[dict[str, str]]:
    messages: list[dict[str, str]] | None = None
    found = _find(s, events, "gen_ai.input.messages")
    if found is not None:
        value, path = found
        items = expect_list(_structured(value, path), path)
        messages = [_message(item, join(path, i)) for i, item in enumerate(items)]
    if messages is None:
        messages = _flat_messages(s, "prompt")
    if messages is None:
        messages = _event_messages(events)
    if messages is None:
        raise AdapterError(
            s.at("gen_ai.input.messages"),
            "missing (also looked for gen_ai.prompt.<i>.* attributes and gen_ai message events); "
            "enable content capture in the instrumentation",
        )
    system = _find(s, events, "gen_ai.system_instructions")
    if system is not None and not (messages and messages[0]["role"] == "system"):
        value, path = system
        try:
            parts = _structured(value, path)
        except AdapterError:
            # Plain text instructions are not the schema's form, but their meaning is clear.
            parts = value
        text = _parts_text(parts, path)[0] if not isinstance(parts, str) else parts
        if text:
            messages = [{"role": "system", "content": text}, *messages]
    return messages


def _message(item: Any, path: str) -> dict[str, str]:
    msg = expect_object(item, path)
    role = spec_role(msg.get("role"), join(path, "role"))
    if msg.get("parts") is None and "content" in msg:
        # Pre-1.37 shapes put OpenAI-style content on the message.
        text = content_text(msg.get("content"), join(path, "content"))
        if msg.get("tool_calls"):
            text = "\n".join(t for t in (text, compact_json(msg["tool_calls"])) if t)
        return {"role": role, "content": text}
    if msg.get("parts") is None:
        raise AdapterError(join(path, "parts"), "missing; a GenAI message needs parts")
    text, _ = _parts_text(msg["parts"], join(path, "parts"))
    return {"role": role, "content": text}


def _parts_text(parts_raw: Any, path: str) -> tuple[str, str | None]:
    """Join message parts into (content text, reasoning text or None)."""
    texts: list[str] = []
    reasoning: list[str] = []
    for i, part_raw in enumerate(expect_list(parts_raw, path)):
        part_path = join(path, i)
        if isinstance(part_raw, str):
            texts.append(part_raw)
            continue
        part = expect_object(part_raw, part_path)
        kind = part.get("type")
        if not isinstance(kind, str):
            raise AdapterError(join(part_path, "type"), f"expected a string, got {type_name(kind)}")
        if kind in ("text", "reasoning"):
            content = part.get("content")
            if not isinstance(content, str):
                raise AdapterError(join(part_path, "content"), f"expected a string, got {type_name(content)}")
            (texts if kind == "text" else reasoning).append(content)
        elif kind == "tool_call_response":
            result = part.get("response", part.get("result"))
            texts.append(result if isinstance(result, str) else compact_json(result))
        elif kind in ("tool_call", "server_tool_call", "server_tool_call_response"):
            texts.append(compact_json(part))
        elif kind in ("blob", "file_data", "file", "uri"):
            # Never copy the payload (base64 blobs); a placeholder says that media was sent.
            modality = part.get("modality")
            texts.append(f"[{modality}]" if isinstance(modality, str) and modality else "[file]")
        elif isinstance(part.get("content"), str):
            texts.append(part["content"])
        else:
            texts.append(f"[{kind}]")
    return "\n".join(texts), ("\n".join(reasoning) if reasoning else None)


def _flat_messages(s: _Span, kind: str) -> list[dict[str, str]] | None:
    """Read OpenLLMetry-style ``gen_ai.prompt.<i>.role`` / ``.content`` attributes."""
    fields: dict[int, dict[str, tuple[Any, str]]] = {}
    for key, value in s.attrs.items():
        m = _FLAT_PROMPT.fullmatch(key)
        if m and m.group(1) == kind:
            fields.setdefault(int(m.group(2)), {})[m.group(3)] = (value, s.at(key))
    if not fields:
        return None
    messages = []
    for index in sorted(fields):
        entry = fields[index]
        default_role = "assistant" if kind == "completion" else None
        role_value, role_path = entry.get("role", (default_role, s.at(f"gen_ai.{kind}.{index}.role")))
        content_value, content_path = entry.get("content", (None, s.at(f"gen_ai.{kind}.{index}.content")))
        messages.append(
            {"role": spec_role(role_value, role_path), "content": content_text(content_value, content_path)}
        )
    return messages


def _event_messages(events: list[tuple[str, dict[str, Any], str]]) -> list[dict[str, str]] | None:
    """Read prompt messages from the v1.27 prompt event or the v1.28-1.36 per-message events."""
    messages: list[dict[str, str]] = []
    seen = False
    for name, attrs, attrs_path in events:
        if name == "gen_ai.content.prompt" and attrs.get("gen_ai.prompt") is not None:
            seen = True
            path = join(attrs_path, "gen_ai.prompt")
            prompt = _structured(attrs["gen_ai.prompt"], path)
            if isinstance(prompt, str):
                messages.append({"role": "user", "content": prompt})
            else:
                messages.extend(
                    _message(item, join(path, i)) for i, item in enumerate(expect_list(prompt, path))
                )
        elif name in _PER_MESSAGE_EVENTS:
            seen = True
            body, body_path = _event_body(attrs, attrs_path)
            role = body.get("role") if isinstance(body.get("role"), str) else _PER_MESSAGE_EVENTS[name]
            text = content_text(body.get("content"), join(body_path, "content"))
            if body.get("tool_calls"):
                text = "\n".join(t for t in (text, compact_json(body["tool_calls"])) if t)
            messages.append({"role": spec_role(role, join(body_path, "role")), "content": text})
    return messages if seen else None


def _event_body(attrs: dict[str, Any], attrs_path: str) -> tuple[dict[str, Any], str]:
    """The event body that span-event emitters put into ``gen_ai.event.content`` (or ``content``)."""
    if attrs.get("gen_ai.event.content") is not None:
        path = join(attrs_path, "gen_ai.event.content")
        return expect_object(_structured(attrs["gen_ai.event.content"], path), path), path
    return {"content": attrs.get("content"), "role": attrs.get("role")}, attrs_path


def _response(s: _Span, events: list[tuple[str, dict[str, Any], str]]) -> dict[str, Any] | None:
    finish_reasons = s.attrs.get("gen_ai.response.finish_reasons")
    default_finish = (
        finish_reasons[0]
        if isinstance(finish_reasons, list) and finish_reasons and isinstance(finish_reasons[0], str)
        else finish_reasons
        if isinstance(finish_reasons, str)
        else None
    )
    found = _find(s, events, "gen_ai.output.messages")
    if found is not None:
        value, path = found
        items = expect_list(_structured(value, path), path)
        if not items:
            return drop_none({"finish_reason": default_finish}) or None
        first_path = join(path, 0)
        first = expect_object(items[0], first_path)
        if first.get("parts") is None and "content" in first:
            content, reasoning = content_text(first["content"], join(first_path, "content")), None
        else:
            content, reasoning = _parts_text(first.get("parts") or [], join(first_path, "parts"))
        finish = opt_str(first.get("finish_reason"), join(first_path, "finish_reason")) or default_finish
        return drop_none({"content": content, "reasoning": reasoning, "finish_reason": finish})

    flat = _flat_messages(s, "completion")
    if flat:
        finish_attr = s.attrs.get("gen_ai.completion.0.finish_reason")
        finish = finish_attr if isinstance(finish_attr, str) and finish_attr else default_finish
        return drop_none({"content": flat[0]["content"], "finish_reason": finish})

    for name, attrs, attrs_path in events:
        if name == "gen_ai.content.completion" and attrs.get("gen_ai.completion") is not None:
            path = join(attrs_path, "gen_ai.completion")
            completion = _structured(attrs["gen_ai.completion"], path)
            if isinstance(completion, list) and completion:
                completion = completion[0]
                path = join(path, 0)
            if isinstance(completion, dict):
                body = (
                    completion.get("message") if isinstance(completion.get("message"), dict) else completion
                )
                text = content_text(body.get("content"), join(path, "content"))
                finish = completion.get("finish_reason")
                return drop_none(
                    {"content": text, "finish_reason": finish if isinstance(finish, str) else default_finish}
                )
            return drop_none({"content": content_text(completion, path), "finish_reason": default_finish})
        if name == "gen_ai.choice":
            body, body_path = _event_body(attrs, attrs_path)
            message = body.get("message") if isinstance(body.get("message"), dict) else body
            text = content_text(message.get("content"), join(body_path, "message.content"))
            if message.get("tool_calls"):
                text = "\n".join(t for t in (text, compact_json(message["tool_calls"])) if t)
            finish = body.get("finish_reason")
            return drop_none(
                {"content": text, "finish_reason": finish if isinstance(finish, str) else default_finish}
            )

    return drop_none({"finish_reason": default_finish}) or None


def _params(s: _Span) -> dict[str, Any]:
    tools = None
    found = s.attrs.get("gen_ai.tool.definitions")
    if found is not None:
        path = s.at("gen_ai.tool.definitions")
        tools = len(expect_list(_structured(found, path), path))
    return drop_none(
        {
            "temperature": s.get_float("gen_ai.request.temperature"),
            "top_p": s.get_float("gen_ai.request.top_p"),
            "max_tokens": s.get_int("gen_ai.request.max_tokens"),
            "n": s.get_int("gen_ai.request.choice.count"),
            "stream": opt_bool(s.attrs.get("gen_ai.request.stream"), s.at("gen_ai.request.stream")),
            "tools": tools,
        }
    )


def _first_int(s: _Span, *keys: str) -> int | None:
    for key in keys:
        value = s.get_int(key)
        if value is not None:
            return value
    return None


def _status(span: dict[str, Any], s: _Span, path: str) -> int:
    http = opt_int(s.attrs.get("http.response.status_code"), s.at("http.response.status_code"))
    if http is not None and 100 <= http <= 599:
        return http
    status = span.get("status")
    code: Any = status.get("code") if isinstance(status, dict) else None
    is_error = code == _STATUS_CODE_ERROR or (isinstance(code, str) and "ERROR" in code.upper())
    error_type = s.attrs.get("error.type")
    if not is_error and error_type is None:
        return 200
    if isinstance(error_type, int) and not isinstance(error_type, bool) and 100 <= error_type <= 599:
        return error_type
    if isinstance(error_type, str) and error_type.isdigit() and 100 <= int(error_type) <= 599:
        return int(error_type)
    # An error without an HTTP-like code (timeout, exception class) is a server-side failure.
    return 500
