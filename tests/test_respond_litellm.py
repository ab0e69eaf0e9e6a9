"""The LiteLLM guardrail against a real decision service: LiteLLM's own hook interface and types."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from distillguard.respond.client import DecideClient
from distillguard.respond.policy import parse_policy
from distillguard.respond.service import ServiceConfig, create_app
from respond_support import Server

litellm = pytest.importorskip(
    "litellm", reason="litellm is an optional extra: pip install 'distillguard[litellm]'"
)
from fastapi import HTTPException  # noqa: E402
from litellm.caching.caching import DualCache  # noqa: E402
from litellm.proxy._types import UserAPIKeyAuth  # noqa: E402
from litellm.types.utils import Delta, ModelResponse, ModelResponseStream, StreamingChoices  # noqa: E402

from distillguard.respond.litellm_guardrail import DistillGuardGuardrail  # noqa: E402

POLICY = {
    "name": "llm",
    "version": 1,
    "rules": [
        {"id": "withhold", "when": {"campaign": "cmp_w"}, "then": ["withhold_reasoning"]},
        {"id": "block", "when": {"campaign": "cmp_b"}, "then": ["block_account"]},
    ],
}


@pytest.fixture(scope="module")
def service_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    scan = tmp_path_factory.mktemp("scan")
    (scan / "accounts.csv").write_text(
        "account_id,risk,flagged,cluster_id,campaign_id,reasons\n"
        "team_w,0.9999,1,k1,cmp_w,linked_cluster\nteam_b,0.9999,1,k2,cmp_b,linked_cluster\n"
    )
    cfg = ServiceConfig(parse_policy(POLICY), db_url="sqlite://", timeout_s=1.0, scan_dirs=[Path(scan)])
    with Server(create_app(cfg)) as server:
        yield server.url


def _guard(url: str) -> DistillGuardGuardrail:
    return DistillGuardGuardrail(
        api_base=url, timeout_ms=2000, guardrail_name="distillguard", event_hook="pre_call", default_on=True
    )


def _data() -> dict:
    return {"model": "gpt-x", "messages": [{"role": "user", "content": "Explain photosynthesis."}]}


def _reply() -> ModelResponse:
    return ModelResponse(
        choices=[
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {
                    "role": "assistant",
                    "content": "Plants make sugar.",
                    "reasoning_content": "Step one. Step two.",
                },
            }
        ]
    )


def test_ordinary_team_passes_untouched(service_url: str) -> None:
    guard = _guard(service_url)
    user = UserAPIKeyAuth(api_key="hashed-key-1", team_id="team_ok")
    data = asyncio.run(guard.async_pre_call_hook(user, DualCache(), _data(), "completion"))
    assert "distillguard" not in (data.get("metadata") or {})
    reply = asyncio.run(guard.async_post_call_success_hook(data, user, _reply()))
    assert reply.choices[0].message.reasoning_content == "Step one. Step two."


def test_campaign_team_has_reasoning_withheld_whole_and_streamed(service_url: str) -> None:
    guard = _guard(service_url)
    user = UserAPIKeyAuth(api_key="hashed-key-2", team_id="team_w")
    data = asyncio.run(guard.async_pre_call_hook(user, DualCache(), _data(), "completion"))
    assert data["metadata"]["distillguard"] == {"reasoning": "withhold"}
    reply = asyncio.run(guard.async_post_call_success_hook(data, user, _reply()))
    assert reply.choices[0].message.content == "Plants make sugar."
    assert getattr(reply.choices[0].message, "reasoning_content", None) is None

    async def stream() -> list[ModelResponseStream]:
        async def upstream():  # type: ignore[no-untyped-def]
            for delta in (Delta(reasoning_content="thinking..."), Delta(content="Plants make sugar.")):
                yield ModelResponseStream(choices=[StreamingChoices(index=0, delta=delta)])

        return [c async for c in guard.async_post_call_streaming_iterator_hook(user, upstream(), data)]

    chunks = asyncio.run(stream())
    assert [getattr(c.choices[0].delta, "reasoning_content", None) for c in chunks] == [None, None]
    assert chunks[1].choices[0].delta.content == "Plants make sugar."


def test_blocked_account_gets_http_403(service_url: str) -> None:
    guard = _guard(service_url)
    user = UserAPIKeyAuth(api_key="hashed-key-3", team_id="team_b")
    with pytest.raises(HTTPException) as info:
        asyncio.run(guard.async_pre_call_hook(user, DualCache(), _data(), "completion"))
    assert info.value.status_code == 403 and info.value.headers["X-DistillGuard-Action"] == "block_account"


def test_unreachable_service_fails_open() -> None:
    from respond_support import free_port

    answer = asyncio.run(
        DecideClient(f"http://127.0.0.1:{free_port()}", 0.2).decide({"account_id": "a", "messages": []})
    )
    assert answer["decision"] == "allow" and answer["reasons"] == ["fail_open:unreachable"]
    guard = _guard(f"http://127.0.0.1:{free_port()}")
    data = asyncio.run(
        guard.async_pre_call_hook(UserAPIKeyAuth(team_id="t"), DualCache(), _data(), "completion")
    )
    assert data["messages"] == _data()["messages"]
