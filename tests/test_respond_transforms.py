"""Property tests of the request parser and the reasoning shaper, over arbitrary input."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from distillguard.respond.decision import DecideRequest, RequestError
from distillguard.respond.reasoning import StreamShaper, shape_message, summarise

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
MESSAGE = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["system", "user", "assistant", "tool", "developer"]),
        "content": st.text(max_size=50),
    }
)


@settings(deadline=None)
@given(body=JSON | st.dictionaries(st.sampled_from(["account_id", "messages", "ip", "params", "ts"]), JSON))
def test_any_json_is_either_a_request_or_a_named_error(body: Any) -> None:
    try:
        req = DecideRequest.from_json(body)
    except RequestError as exc:
        assert exc.reason
        assert exc.field == "" or exc.field.split("[")[0].split(".")[0] in {
            "account_id",
            "messages",
            "ip",
            "params",
            "ts",
            "api_key_id",
            "model",
            "request_id",
            "tier",
        }
    else:
        assert req.account_id and req.messages


@settings(deadline=None)
@given(account=st.text(min_size=1, max_size=20), messages=st.lists(MESSAGE, min_size=1, max_size=5))
def test_valid_requests_keep_their_text(account: str, messages: list[dict[str, str]]) -> None:
    req = DecideRequest.from_json({"account_id": account, "messages": messages})
    assert [m["content"] for m in req.messages] == [m["content"] for m in messages]
    assert {m["role"] for m in req.messages} <= {"system", "user", "assistant", "tool"}


def _chunks(reasoning: list[str], content: list[str]) -> list[dict[str, Any]]:
    out = [{"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}]
    out += [
        {"choices": [{"index": 0, "delta": {"reasoning_content": r}, "finish_reason": None}]}
        for r in reasoning
    ]
    out += [{"choices": [{"index": 0, "delta": {"content": c}, "finish_reason": None}]} for c in content]
    out.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return out


PIECES = st.lists(st.text(min_size=1, max_size=30), max_size=8)


@settings(deadline=None)
@given(reasoning=PIECES, content=PIECES, mode=st.sampled_from(["full", "withhold", "summarise"]))
def test_stream_shaping_keeps_content_and_shapes_only_reasoning(
    reasoning: list[str], content: list[str], mode: str
) -> None:
    shaper = StreamShaper(mode)
    sent = [c for c in (shaper.chunk(ch) for ch in _chunks(reasoning, content)) if c is not None]
    deltas = [c["choices"][0]["delta"] for c in sent]
    assert "".join(d.get("content") or "" for d in deltas) == "".join(content)
    delivered = [d["reasoning_content"] for d in deltas if "reasoning_content" in d]
    if mode == "full":
        assert "".join(delivered) == "".join(reasoning)
    elif mode == "withhold":
        assert delivered == []
    else:
        assert delivered == ([summarise("".join(reasoning))] if reasoning else [])
    # What the log records is what the model said, whatever the client got.
    assert "".join(shaper.reasoning) == "".join(reasoning) and shaper.finish_reason == "stop"


@settings(deadline=None)
@given(text=st.text(max_size=300), mode=st.sampled_from(["withhold", "summarise"]))
def test_whole_message_shaping(text: str, mode: str) -> None:
    message = {"role": "assistant", "content": "answer", "reasoning": text}
    shape_message(message, mode)
    assert message["content"] == "answer"
    if mode == "withhold":
        assert "reasoning" not in message
    else:
        assert message["reasoning"] == summarise(text) and len(message["reasoning"]) <= 300
