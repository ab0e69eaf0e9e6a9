"""The LiteLLM guardrail against a real decision service: LiteLLM's own hook interface and types."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
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


LITELLM_CLI = Path(sys.executable).parent / "litellm"
PROXY_POLICY = {
    "name": "llm-proxy",
    "version": 1,
    "rules": [
        {"id": "withhold", "when": {"campaign": "cmp_w"}, "then": ["withhold_reasoning"]},
        {"id": "block", "when": {"campaign": "cmp_b"}, "then": ["block_account"]},
    ],
}


def _write_scan(scan: Path, campaign: str | None) -> None:
    # LiteLLM calls its master key's holder "default_user_id": the account our guardrail reports.
    row = f"default_user_id,0.9999,1,k1,{campaign},linked_cluster" if campaign else "someone_else,0.1,0,,,"
    (scan / "accounts.csv").write_text(
        "account_id,risk,flagged,cluster_id,campaign_id,reasons\n" + row + "\n"
    )


@pytest.mark.skipif(not LITELLM_CLI.exists(), reason="the LiteLLM proxy needs pip install 'litellm[proxy]'")
def test_a_running_litellm_proxy_enforces_through_the_guardrail(tmp_path: Path) -> None:
    import httpx
    import openai
    import yaml

    from respond_support import ANSWER, REASONING, free_port, stub_model_app

    scan = tmp_path / "scan"
    scan.mkdir()
    _write_scan(scan, None)
    cfg = ServiceConfig(parse_policy(PROXY_POLICY), db_url="sqlite://", timeout_s=2.0, scan_dirs=[scan])
    with Server(stub_model_app()) as model, Server(create_app(cfg)) as service:
        port = free_port()
        config = {
            "model_list": [
                {
                    "model_name": "stub-thinker",
                    "litellm_params": {
                        "model": "openai/stub-thinker",
                        "api_base": f"{model.url}/v1",
                        "api_key": "sk-upstream",
                    },
                }
            ],
            # Exactly the registration docs/respond.md gives.
            "guardrails": [
                {
                    "guardrail_name": "distillguard",
                    "litellm_params": {
                        "guardrail": "distillguard.respond.litellm_guardrail.DistillGuardGuardrail",
                        "mode": ["pre_call", "post_call"],
                        "api_base": service.url,
                        "timeout_ms": 2000,
                        "default_on": True,
                    },
                }
            ],
            "general_settings": {"master_key": "sk-master-test"},
        }
        (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
        env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
        proc = subprocess.Popen(
            [
                str(LITELLM_CLI),
                "--config",
                str(tmp_path / "config.yaml"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=tmp_path,
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health/liveliness", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert proc.poll() is None and time.monotonic() < deadline, "LiteLLM proxy did not start"
                time.sleep(0.5)
            client = openai.OpenAI(
                base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-master-test", max_retries=0
            )
            ask = {
                "model": "stub-thinker",
                "messages": [{"role": "user", "content": "Explain photosynthesis."}],
            }

            # An account nobody flagged: the reply, reasoning included, passes untouched.
            first = client.chat.completions.create(**ask).choices[0].message
            assert first.content == ANSWER and getattr(first, "reasoning_content", None) == REASONING

            # The next scan puts it in a campaign whose policy withholds reasoning (the feedback loop).
            _write_scan(scan, "cmp_w")
            assert httpx.post(f"{service.url}/v1/watchlist/reload").status_code == 200
            shaped = client.chat.completions.create(**ask).choices[0].message
            assert shaped.content == ANSWER and getattr(shaped, "reasoning_content", None) is None
            streamed = list(client.chat.completions.create(**ask, stream=True))
            text = "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
            assert text.split() == ANSWER.split()
            assert not any(
                getattr(c.choices[0].delta, "reasoning_content", None) for c in streamed if c.choices
            )

            # A campaign whose policy blocks the account: LiteLLM answers 403 and never calls the model.
            _write_scan(scan, "cmp_b")
            assert httpx.post(f"{service.url}/v1/watchlist/reload").status_code == 200
            calls = len(model.server.config.app.state.requests)
            with pytest.raises(openai.PermissionDeniedError):
                client.chat.completions.create(**ask)
            assert len(model.server.config.app.state.requests) == calls
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
