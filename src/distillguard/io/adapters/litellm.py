"""Adapter from LiteLLM's ``StandardLoggingPayload`` to traffic-log-v1 request records.

LiteLLM hands every custom logger / callback ``kwargs["standard_logging_object"]``, a
``StandardLoggingPayload`` TypedDict, and its logging integrations (GCS/S3 buckets, generic API,
...) emit the same object as JSON. The schema followed here is the one in
``litellm/types/utils.py`` of BerriAI/litellm (classes ``StandardLoggingPayload``,
``StandardLoggingMetadata``, ``StandardLoggingUserAPIKeyMetadata``,
``StandardLoggingPayloadErrorInformation``; read at commit 001c64f2, a 2026 main-branch revision
with ``status_fields``, ``cost_breakdown``, ``litellm_call_id`` and top-level ``user_agent``)
and the documentation page https://docs.litellm.ai/docs/proxy/logging_spec. Older payloads
(without ``user_agent`` or ``status_fields``) convert as well: every field used is optional here
except those the spec requires.

Accepted documents: one payload object; an object wrapping it as ``standard_logging_object``
(a dump of a callback's ``kwargs``); or a JSON array of payloads (the generic API logger's batch).

Mapping decisions (also in ``docs/adapters.md``):

* account: the first set of ``metadata.user_api_key_team_id``, ``metadata.user_api_key_org_id``,
  ``metadata.user_api_key_user_id``, ``end_user`` / ``metadata.user_api_key_end_user_id``
  (:data:`DEFAULT_ACCOUNT_FIELDS`; pick another order with :func:`make_adapter`).
* model: ``model_group`` (the name the client asked the proxy for) before ``model`` (the
  deployment's model after routing); the other one is kept under ``source``.
* only text-generation call types are requests; embeddings, images, audio, files, batches and the
  other LiteLLM call types listed in :data:`SKIPPED_CALL_TYPES` yield nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from distillguard.io.adapters import (
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

LITELLM_PAYLOAD_VERSION = (
    "litellm StandardLoggingPayload @ BerriAI/litellm 001c64f2 (docs: proxy/logging_spec)"
)

# Dotted paths into the payload, tried in order; the first non-empty string is the account.
# Team first: in LiteLLM keys and budgets attach to teams, and an organization may group many
# unrelated teams. ``end_user`` is last because the client chooses it (OpenAI's ``user`` param).
DEFAULT_ACCOUNT_FIELDS: tuple[str, ...] = (
    "metadata.user_api_key_team_id",
    "metadata.user_api_key_org_id",
    "metadata.user_api_key_user_id",
    "end_user",
    "metadata.user_api_key_end_user_id",
)

# LiteLLM call_type -> the spec's endpoint; these are the call types that are requests.
ENDPOINTS: dict[str, str | None] = {
    "completion": "/v1/chat/completions",
    "acompletion": "/v1/chat/completions",
    "text_completion": "/v1/completions",
    "atext_completion": "/v1/completions",
    "responses": "/v1/responses",
    "aresponses": "/v1/responses",
    "anthropic_messages": "/v1/messages",
    "aanthropic_messages": "/v1/messages",
    # Google's path embeds the model name, so there is no fixed endpoint to record.
    "generate_content": None,
    "agenerate_content": None,
    "generate_content_stream": None,
    "agenerate_content_stream": None,
}

_RESPONSES_CALLS = {"responses", "aresponses"}
_ANTHROPIC_CALLS = {"anthropic_messages", "aanthropic_messages"}

# LiteLLM call types (CallTypes enum) that are not text-generation requests: skipped, not errors.
SKIPPED_CALL_TYPES: frozenset[str] = frozenset(
    {
        *(
            prefix + name
            for prefix in ("", "a")
            for name in (
                "embedding",
                "image_generation",
                "image_edit",
                "moderation",
                "transcription",
                "speech",
                "rerank",
                "search",
                "ocr",
                "ingest",
                "query",
                "create_batch",
                "retrieve_batch",
                "cancel_batch",
                "list_batches",
                "create_file",
                "file_retrieve",
                "file_delete",
                "file_list",
                "file_content",
                "create_fine_tuning_job",
                "cancel_fine_tuning_job",
                "list_fine_tuning_jobs",
                "retrieve_fine_tuning_job",
                "get_assistants",
                "create_assistants",
                "delete_assistant",
                "create_thread",
                "get_thread",
                "get_messages",
                "run_thread",
                "run_thread_stream",
                "create_video",
                "video_retrieve",
                "video_content",
                "video_remix",
                "video_list",
                "video_delete",
                "video_retrieve_job",
                "video_create_character",
                "video_get_character",
                "video_edit",
                "video_extension",
                "vector_store_create",
                "vector_store_search",
                "vector_store_file_create",
                "vector_store_file_list",
                "vector_store_file_retrieve",
                "vector_store_file_content",
                "vector_store_file_update",
                "vector_store_file_delete",
                "create_container",
                "list_containers",
                "retrieve_container",
                "delete_container",
                "list_container_files",
                "upload_container_file",
                "create_sandbox",
                "delete_sandbox",
                "run_code",
                "code_interpreter_tool",
                "send_message",
                "create_skill",
                "list_input_items",
                "llm_passthrough_route",
            )
        ),
        "a_add_message",
        "add_message",
        "pass_through_endpoint",
        "_arealtime",
        "_aresponses_websocket",
        "call_mcp_tool",
        "list_mcp_tools",
        "acreate_realtime_client_secret",
        "arealtime_calls",
        "acreate_realtime_transcription_session",
    }
)

_STATUS_OK = 200
_STATUS_UNKNOWN_FAILURE = 500


def convert(doc: Any) -> list[dict[str, Any]]:
    """Convert one LiteLLM StandardLoggingPayload document into spec request records."""
    return _convert_document(doc, DEFAULT_ACCOUNT_FIELDS)


def make_adapter(account_fields: Sequence[str] = DEFAULT_ACCOUNT_FIELDS) -> Adapter:
    """Return an adapter like ``ADAPTERS["litellm"]`` that takes the account from other fields.

    ``account_fields`` are dotted paths into the payload, e.g. ``("metadata.user_api_key_org_id",)``.
    """
    fields = tuple(account_fields)
    if not fields or not all(isinstance(f, str) and f for f in fields):
        raise ValueError("account_fields must be a non-empty sequence of dotted field paths")

    return guarded("litellm", lambda doc: _convert_document(doc, fields))


def _convert_document(doc: Any, account_fields: tuple[str, ...]) -> list[dict[str, Any]]:
    if isinstance(doc, list):
        records: list[dict[str, Any]] = []
        for i, item in enumerate(doc):
            records.extend(_convert_payload(expect_object(item, f"[{i}]"), f"[{i}]", account_fields))
        return records
    payload = expect_object(doc, "")
    if "standard_logging_object" in payload and "id" not in payload:
        path = "standard_logging_object"
        return _convert_payload(expect_object(payload[path], path), path, account_fields)
    return _convert_payload(payload, "", account_fields)


def _convert_payload(p: dict[str, Any], base: str, account_fields: tuple[str, ...]) -> list[dict[str, Any]]:
    if not p:
        raise AdapterError(base, "empty object; expected a LiteLLM StandardLoggingPayload")

    def at(key: str) -> str:
        return join(base, key)

    call_type = p.get("call_type")
    if call_type is None:
        raise AdapterError(at("call_type"), "missing; a StandardLoggingPayload always names its call_type")
    if not isinstance(call_type, str):
        raise AdapterError(at("call_type"), f"expected a string, got {type_name(call_type)}")
    if call_type in SKIPPED_CALL_TYPES:
        return []
    if call_type not in ENDPOINTS:
        raise AdapterError(
            at("call_type"),
            f"unknown call_type {call_type!r}; known generation call types: {', '.join(ENDPOINTS)}",
        )

    request_id = opt_str(p.get("id"), at("id"))
    if request_id is None:
        raise AdapterError(at("id"), "missing; needed as request_id")

    start = p.get("startTime")
    if start is None:
        raise AdapterError(at("startTime"), "missing; needed as ts")
    start_s = opt_float(start, at("startTime"))
    assert start_s is not None
    ts = ts_from_epoch_us(round(start_s * 1_000_000), at("startTime"))

    metadata_raw = p.get("metadata")
    metadata = {} if metadata_raw is None else expect_object(metadata_raw, at("metadata"))

    account_id, account_field = _account(p, base, account_fields)

    model_group = opt_str(p.get("model_group"), at("model_group"))
    deployment_model = opt_str(p.get("model"), at("model"))
    model = model_group or deployment_model
    if model is None:
        raise AdapterError(at("model"), "missing (and no model_group); needed as model")

    params_raw = p.get("model_parameters")
    params_src = {} if params_raw is None else expect_object(params_raw, at("model_parameters"))

    messages = _messages(p.get("messages"), at("messages"), call_type)
    messages = _prepend_system(messages, params_src, at("model_parameters"), call_type)

    record: dict[str, Any] = {
        "request_id": request_id,
        "ts": ts,
        "account_id": account_id,
        "api_key_id": opt_str(metadata.get("user_api_key_hash"), at("metadata.user_api_key_hash")),
        "ip": opt_str(metadata.get("requester_ip_address"), at("metadata.requester_ip_address"))
        or opt_str(p.get("requester_ip_address"), at("requester_ip_address")),
        "user_agent": _user_agent(p, metadata, base),
        "model": model,
        "endpoint": ENDPOINTS[call_type],
        "messages": messages,
    }

    params = _params(params_src, at("model_parameters"), p.get("stream"), at("stream"))
    if params:
        record["params"] = params
    status_word, status = _status(p, base)
    response = _response(p.get("response"), at("response"), status_word)
    if response:
        record["response"] = response
    usage = _usage(p, base)
    if usage:
        record["usage"] = usage
    if status is not None:
        record["status"] = status

    source = {
        "format": "litellm",
        "call_type": call_type,
        "account_field": account_field,
        "deployment_model": deployment_model if deployment_model != model else None,
        "provider": p.get("custom_llm_provider") if isinstance(p.get("custom_llm_provider"), str) else None,
        "trace_id": p.get("trace_id") if isinstance(p.get("trace_id"), str) else None,
    }
    record["source"] = drop_none(source)
    return [drop_none(record)]


def _lookup(p: dict[str, Any], dotted: str) -> Any:
    """Follow a dotted path through nested objects; None where any step is missing."""
    value: Any = p
    for key in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _account(p: dict[str, Any], base: str, fields: tuple[str, ...]) -> tuple[str, str]:
    for field in fields:
        value = _lookup(p, field)
        path = join(base, field)
        if isinstance(value, int | float) and not isinstance(value, bool):
            # Numeric ids appear in hand-built payloads; they name an account just as well.
            value = str(value)
        account = opt_str(value, path)
        if account is not None and account.strip():
            return account, field
    raise AdapterError(
        join(base, fields[0]),
        f"no account: none of {', '.join(fields)} is set; the spec requires account_id",
    )


def _user_agent(p: dict[str, Any], metadata: dict[str, Any], base: str) -> str | None:
    for value, path in (
        (p.get("user_agent"), join(base, "user_agent")),
        (metadata.get("user_agent"), join(base, "metadata.user_agent")),
    ):
        found = opt_str(value, path)
        if found:
            return found
    # requester_metadata is free-form (the client's ``metadata`` param), so only look, never fail.
    for container in (metadata.get("requester_metadata"), metadata.get("requester_custom_headers")):
        if not isinstance(container, dict):
            continue
        for holder in (container, container.get("headers"), container.get("request_headers")):
            if not isinstance(holder, dict):
                continue
            for key, value in holder.items():
                if (
                    isinstance(key, str)
                    and key.lower() in ("user-agent", "user_agent")
                    and isinstance(value, str)
                ):
                    return value or None
    return None


def _messages(raw: Any, path: str, call_type: str) -> list[dict[str, str]]:
    if raw is None:
        raise AdapterError(path, "missing; the spec requires the messages sent")
    if isinstance(raw, str):
        # text_completion prompts and Responses API string inputs arrive as a bare string.
        return [{"role": "user", "content": raw}]
    if isinstance(raw, dict):
        if "role" in raw or "type" in raw:
            raw = [raw]
        else:
            for key in ("messages", "input", "prompt"):
                if key in raw:
                    return _messages(raw[key], join(path, key), call_type)
            raise AdapterError(path, "expected a list of messages, got an object without role/messages/input")
    items = expect_list(raw, path)
    messages: list[dict[str, str]] = []
    for i, item in enumerate(items):
        converted = _message(item, join(path, i))
        if converted is not None:
            messages.append(converted)
    return messages


def _message(item: Any, path: str) -> dict[str, str] | None:
    if isinstance(item, str):
        # A list of prompt strings (legacy completions batch prompt).
        return {"role": "user", "content": item}
    msg = expect_object(item, path)
    item_type = msg.get("type")
    if "role" not in msg and isinstance(item_type, str):
        return _responses_item(msg, item_type, path)
    role = spec_role(msg.get("role"), join(path, "role"))
    text = content_text(msg.get("content"), join(path, "content"))
    calls = msg.get("tool_calls") or msg.get("function_call")
    if calls:
        text = _with_json(text, calls)
    return {"role": role, "content": text}


def _responses_item(item: dict[str, Any], item_type: str, path: str) -> dict[str, str] | None:
    """Map a Responses API input item without a role (function calls, outputs, reasoning)."""
    if item_type in ("function_call", "custom_tool_call", "computer_call", "local_shell_call"):
        call = {k: item.get(k) for k in ("name", "arguments", "input", "action") if item.get(k) is not None}
        return {"role": "assistant", "content": compact_json([{"type": item_type, **call}])}
    if item_type.endswith("_output"):
        output = item.get("output")
        text = output if isinstance(output, str) else content_text(output, join(path, "output"))
        return {"role": "tool", "content": text}
    if item_type in ("reasoning", "item_reference"):
        return None
    if item_type == "message":
        raise AdapterError(join(path, "role"), "missing; a message item needs a role")
    return {"role": "user", "content": content_text(item, path)}


def _with_json(text: str, calls: Any) -> str:
    encoded = compact_json(calls)
    return f"{text}\n{encoded}" if text else encoded


def _prepend_system(
    messages: list[dict[str, str]], params: dict[str, Any], path: str, call_type: str
) -> list[dict[str, str]]:
    """Put the system prompt that Responses/Anthropic calls send beside the messages in front."""
    if messages and messages[0]["role"] == "system":
        return messages
    key = (
        "instructions"
        if call_type in _RESPONSES_CALLS
        else "system"
        if call_type in _ANTHROPIC_CALLS
        else None
    )
    if key is None or params.get(key) is None:
        return messages
    text = content_text(params[key], join(path, key))
    return [{"role": "system", "content": text}, *messages] if text else messages


def _params(src: dict[str, Any], path: str, top_stream: Any, stream_path: str) -> dict[str, Any]:
    def at(key: str) -> str:
        return join(path, key)

    max_tokens = None
    for key in ("max_tokens", "max_completion_tokens", "max_output_tokens"):
        max_tokens = opt_int(src.get(key), at(key))
        if max_tokens is not None:
            break

    logprobs_raw = src.get("logprobs")
    top_logprobs = opt_int(src.get("top_logprobs"), at("top_logprobs"))
    if isinstance(logprobs_raw, int) and not isinstance(logprobs_raw, bool):
        # The legacy completions API takes logprobs as the number of top logprobs wanted.
        logprobs: bool | None = logprobs_raw > 0
        top_logprobs = top_logprobs if top_logprobs is not None else logprobs_raw
    else:
        logprobs = opt_bool(logprobs_raw, at("logprobs"))

    tools_raw = src.get("tools")
    tools = None if tools_raw is None else len(expect_list(tools_raw, at("tools")))
    if tools is None and src.get("functions") is not None:
        tools = len(expect_list(src["functions"], at("functions")))

    effort = opt_str(src.get("reasoning_effort"), at("reasoning_effort"))
    reasoning = src.get("reasoning")
    if effort is None and isinstance(reasoning, dict):
        effort = opt_str(reasoning.get("effort"), at("reasoning.effort"))

    stream = opt_bool(src.get("stream"), at("stream"))
    if stream is None:
        stream = opt_bool(top_stream, stream_path)

    return drop_none(
        {
            "temperature": opt_float(src.get("temperature"), at("temperature")),
            "top_p": opt_float(src.get("top_p"), at("top_p")),
            "max_tokens": max_tokens,
            "n": opt_int(src.get("n"), at("n")),
            "stream": stream,
            "logprobs": logprobs,
            "top_logprobs": top_logprobs,
            "tools": tools,
            "reasoning_effort": effort,
        }
    )


def _status(p: dict[str, Any], base: str) -> tuple[str | None, int | None]:
    word = p.get("status")
    if word is None:
        return None, None
    if word == "success":
        return word, _STATUS_OK
    if word != "failure":
        raise AdapterError(join(base, "status"), f"expected 'success' or 'failure', got {word!r}")
    info = p.get("error_information")
    code: Any = info.get("error_code") if isinstance(info, dict) else None
    if isinstance(code, str) and code.strip().isdigit():
        code = int(code.strip())
    if isinstance(code, int) and not isinstance(code, bool) and 100 <= code <= 599:
        return word, code
    # Failures without an HTTP code (timeouts, connection errors) are server-side errors to a client.
    return word, _STATUS_UNKNOWN_FAILURE


def _response(raw: Any, path: str, status_word: str | None) -> dict[str, Any] | None:
    if raw is None or raw == {} or raw == "":
        return None
    if isinstance(raw, str):
        # On failures LiteLLM may log the error text here; that is not model output.
        return None if status_word == "failure" else {"content": raw}
    resp = expect_object(raw, path)
    if "choices" in resp:
        return _chat_response(resp, path)
    if "output" in resp:
        return _responses_response(resp, path)
    if isinstance(resp.get("content"), list):
        return _anthropic_response(resp, path)
    # Some other response object (e.g. an error body): nothing the spec's response can hold.
    return None


def _chat_response(resp: dict[str, Any], path: str) -> dict[str, Any] | None:
    choices = expect_list(resp.get("choices"), join(path, "choices"))
    if not choices:
        return None
    choice_path = join(join(path, "choices"), 0)
    choice = expect_object(choices[0], choice_path)
    finish = opt_str(choice.get("finish_reason"), join(choice_path, "finish_reason"))
    if "message" not in choice and "text" in choice:
        # Text completion choices carry the text directly.
        return drop_none(
            {"content": content_text(choice["text"], join(choice_path, "text")), "finish_reason": finish}
        )
    msg_path = join(choice_path, "message")
    msg = expect_object(choice.get("message"), msg_path)
    content = content_text(msg.get("content"), join(msg_path, "content"))
    calls = msg.get("tool_calls") or msg.get("function_call")
    if calls:
        content = _with_json(content, calls)
    reasoning = opt_str(msg.get("reasoning_content"), join(msg_path, "reasoning_content"))
    if reasoning is None and msg.get("thinking_blocks") is not None:
        reasoning = _thinking_text(msg["thinking_blocks"], join(msg_path, "thinking_blocks"))
    return drop_none({"content": content, "reasoning": reasoning, "finish_reason": finish})


def _responses_response(resp: dict[str, Any], path: str) -> dict[str, Any]:
    output = expect_list(resp.get("output"), join(path, "output"))
    texts: list[str] = []
    reasoning: list[str] = []
    for i, item_raw in enumerate(output):
        item_path = join(join(path, "output"), i)
        item = expect_object(item_raw, item_path)
        kind = item.get("type")
        if kind == "message":
            texts.append(content_text(item.get("content"), join(item_path, "content")))
        elif kind == "reasoning":
            for key in ("content", "summary"):
                if item.get(key):
                    reasoning.append(content_text(item[key], join(item_path, key)))
                    break
        elif isinstance(kind, str) and kind.endswith("_call"):
            call = {
                k: item.get(k) for k in ("name", "arguments", "input", "action") if item.get(k) is not None
            }
            texts.append(compact_json([{"type": kind, **call}]))
    status = resp.get("status")
    finish = {"completed": "stop", "incomplete": "length"}.get(status) if isinstance(status, str) else None
    details = resp.get("incomplete_details")
    if isinstance(details, dict) and isinstance(details.get("reason"), str):
        finish = details["reason"]
    return drop_none(
        {
            "content": "\n".join(t for t in texts if t),
            "reasoning": "\n".join(reasoning) or None,
            "finish_reason": finish,
        }
    )


def _anthropic_response(resp: dict[str, Any], path: str) -> dict[str, Any]:
    blocks = resp["content"]
    texts: list[str] = []
    for i, block in enumerate(blocks):
        block_path = join(join(path, "content"), i)
        if isinstance(block, dict) and block.get("type") in ("thinking", "redacted_thinking"):
            continue
        text = content_text([block], block_path)
        if text:
            texts.append(text)
    return drop_none(
        {
            "content": "\n".join(texts),
            "reasoning": _thinking_text(blocks, join(path, "content")),
            "finish_reason": opt_str(resp.get("stop_reason"), join(path, "stop_reason")),
        }
    )


def _thinking_text(blocks: Any, path: str) -> str | None:
    texts = []
    for i, block in enumerate(expect_list(blocks, path)):
        if isinstance(block, dict) and block.get("type") == "thinking":
            text = opt_str(block.get("thinking"), join(join(path, i), "thinking"))
            if text:
                texts.append(text)
    return "\n".join(texts) or None


def _usage(p: dict[str, Any], base: str) -> dict[str, int]:
    resp = p.get("response")
    resp_usage = resp.get("usage") if isinstance(resp, dict) else None
    resp_usage = resp_usage if isinstance(resp_usage, dict) else {}

    input_tokens = opt_int(p.get("prompt_tokens"), join(base, "prompt_tokens"))
    output_tokens = opt_int(p.get("completion_tokens"), join(base, "completion_tokens"))
    usage_path = join(base, "response.usage")
    if input_tokens is None:
        for key in ("prompt_tokens", "input_tokens"):
            input_tokens = (
                input_tokens
                if input_tokens is not None
                else opt_int(resp_usage.get(key), join(usage_path, key))
            )
    if output_tokens is None:
        for key in ("completion_tokens", "output_tokens"):
            output_tokens = (
                output_tokens
                if output_tokens is not None
                else opt_int(resp_usage.get(key), join(usage_path, key))
            )

    reasoning_tokens = None
    candidates = [
        (resp_usage, usage_path),
        (_lookup(p, "hidden_params.usage_object"), join(base, "hidden_params.usage_object")),
        (_lookup(p, "metadata.usage_object"), join(base, "metadata.usage_object")),
    ]
    for usage_obj, obj_path in candidates:
        if not isinstance(usage_obj, dict):
            continue
        for details_key in ("completion_tokens_details", "output_tokens_details"):
            details = usage_obj.get(details_key)
            if isinstance(details, dict) and details.get("reasoning_tokens") is not None:
                reasoning_tokens = opt_int(
                    details["reasoning_tokens"], join(join(obj_path, details_key), "reasoning_tokens")
                )
                break
        if reasoning_tokens is not None:
            break

    return drop_none(
        {"input_tokens": input_tokens, "output_tokens": output_tokens, "reasoning_tokens": reasoning_tokens}
    )
