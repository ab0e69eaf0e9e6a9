"""The reverse proxy in front of a local stub model, driven by the official openai SDK: an ordinary
chat client passes untouched; a campaign member's reasoning is withheld (whole and streamed) or
summarised; blocks and rate limits surface as the SDK's own errors; every request is logged in
traffic-log-v1 and the log feeds the next scan."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from typer.testing import CliRunner

from distillguard.cli import app as cli
from distillguard.io.readers import find_traffic_files, read_batches
from distillguard.respond.policy import parse_policy
from distillguard.respond.proxy import ProxyConfig, create_proxy_app
from distillguard.respond.service import ServiceConfig
from respond_support import ANSWER, REASONING, Server, stub_model_app

POLICY = {
    "name": "proxy",
    "version": 1,
    "rules": [
        {"id": "camp", "when": {"campaign": "cmp_withhold"}, "then": ["withhold_reasoning"]},
        {"id": "flag", "when": {"campaign": "cmp_summary"}, "then": ["summarise_reasoning"]},
        {"id": "block", "when": {"campaign": "cmp_block"}, "then": ["block_key"]},
        {
            "id": "slow",
            "when": {"campaign": "cmp_limit"},
            "then": [{"action": "rate_limit", "rate": 0.01, "burst": 2}],
        },
    ],
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, object]]:
    tmp = tmp_path_factory.mktemp("proxy")
    scan = tmp / "scan"
    scan.mkdir()
    rows = [
        "acct_withhold,0.9999,1,k1,cmp_withhold,linked_cluster",
        "acct_summary,0.9999,1,k2,cmp_summary,linked_cluster",
        "acct_block,0.9999,1,k3,cmp_block,linked_cluster",
        "acct_limit,0.9999,1,k4,cmp_limit,linked_cluster",
    ]
    (scan / "accounts.csv").write_text(
        "account_id,risk,flagged,cluster_id,campaign_id,reasons\n" + "\n".join(rows) + "\n"
    )
    stub = stub_model_app()
    logs = tmp / "logs"
    with Server(stub) as model:
        service = ServiceConfig(parse_policy(POLICY), db_url="sqlite://", timeout_s=1.0, scan_dirs=[scan])
        with Server(create_proxy_app(ProxyConfig(service, f"{model.url}/v1", logs, "sk-upstream"))) as proxy:
            yield f"{proxy.url}/v1", logs, stub


def _client(base_url: str, account: str | None = None, key: str = "sk-user-1") -> openai.OpenAI:
    headers = {"x-distillguard-account": account} if account else None
    return openai.OpenAI(base_url=base_url, api_key=key, default_headers=headers, max_retries=0)


def _reasoning(message: object) -> object:
    return (getattr(message, "model_extra", None) or {}).get("reasoning_content")


def _stream(client: openai.OpenAI) -> tuple[str, str, str | None]:
    content, reasoning, finish = [], [], None
    stream = client.chat.completions.create(
        model="stub-thinker",
        messages=[{"role": "user", "content": "Why is the sky blue?"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    for chunk in stream:
        for choice in chunk.choices:
            content.append(choice.delta.content or "")
            r = _reasoning(choice.delta)
            if r:
                reasoning.append(r)
            finish = choice.finish_reason or finish
    return "".join(content), "".join(reasoning), finish


def test_ordinary_chat_client_passes_untouched(stack: tuple[str, Path, object]) -> None:
    base, _, stub = stack
    client = _client(base)
    raw = client.chat.completions.with_raw_response.create(
        model="stub-thinker",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi!"}],
    )
    reply = raw.parse()
    assert reply.choices[0].message.content == ANSWER and _reasoning(reply.choices[0].message) == REASONING
    assert raw.headers["x-distillguard-decision"] == "allow"
    assert reply.usage is not None and reply.usage.completion_tokens == 30
    content, reasoning, finish = _stream(client)
    assert content.strip() == ANSWER and reasoning.strip() == REASONING and finish == "stop"
    assert [m.id for m in client.models.list()] == ["stub-thinker"]
    # The upstream saw the proxy's own key, never the user's, and no distillguard headers.
    assert stub.state.requests[-1]["messages"] == [{"role": "user", "content": "Why is the sky blue?"}]


def test_reasoning_is_withheld_whole_and_streamed(stack: tuple[str, Path, object]) -> None:
    base, _, _ = stack
    client = _client(base, "acct_withhold")
    raw = client.chat.completions.with_raw_response.create(
        model="stub-thinker", messages=[{"role": "user", "content": "Solve 6 x 7."}]
    )
    reply = raw.parse()
    assert reply.choices[0].message.content == ANSWER and _reasoning(reply.choices[0].message) is None
    assert raw.headers["x-distillguard-reasoning"] == "withhold"
    content, reasoning, finish = _stream(client)
    assert content.strip() == ANSWER and reasoning == "" and finish == "stop"


def test_reasoning_is_summarised_whole_and_streamed(stack: tuple[str, Path, object]) -> None:
    base, _, _ = stack
    client = _client(base, "acct_summary")
    reply = client.chat.completions.create(
        model="stub-thinker", messages=[{"role": "user", "content": "Go."}]
    )
    summary = _reasoning(reply.choices[0].message)
    assert isinstance(summary, str) and summary.startswith("[summary of 17 words of reasoning]")
    assert "First I read the question carefully." in summary and "Then I work" not in summary
    content, reasoning, _ = _stream(client)
    assert (
        content.strip() == ANSWER
        and reasoning.startswith("[summary of 17 words")
        and "Then I work" not in reasoning
    )


def test_blocks_and_rate_limits_are_the_sdks_own_errors(stack: tuple[str, Path, object]) -> None:
    base, _, _ = stack
    with pytest.raises(openai.PermissionDeniedError) as denied:
        _client(base, "acct_block", key="sk-block").chat.completions.create(
            model="stub-thinker", messages=[{"role": "user", "content": "x"}]
        )
    assert denied.value.status_code == 403 and "block_key" in str(denied.value)
    # The key is blocked, not just the account header: the same key under another account is refused too.
    with pytest.raises(openai.PermissionDeniedError):
        _client(base, "acct_someone_else", key="sk-block").chat.completions.create(
            model="stub-thinker", messages=[{"role": "user", "content": "x"}]
        )
    limited = _client(base, "acct_limit", key="sk-limit")
    for _ in range(2):
        limited.chat.completions.create(model="stub-thinker", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.RateLimitError) as info:
        limited.chat.completions.create(model="stub-thinker", messages=[{"role": "user", "content": "x"}])
    assert int(info.value.response.headers["retry-after"]) >= 1


def test_bad_requests_are_400_in_openai_shape(stack: tuple[str, Path, object]) -> None:
    base, _, _ = stack
    with pytest.raises(openai.BadRequestError) as info:
        _client(base).chat.completions.create(
            model="stub-thinker", messages=[{"role": "wizard", "content": "x"}]
        )
    assert "messages[0].role" in str(info.value)


def test_every_request_is_logged_in_traffic_log_v1_and_feeds_scan(
    stack: tuple[str, Path, object], tmp_path: Path
) -> None:
    base, logs, _ = stack
    _client(base, "acct_logged").chat.completions.create(
        model="stub-thinker",
        messages=[{"role": "user", "content": "Log me."}],
        temperature=0.3,
        max_tokens=50,
    )
    files = find_traffic_files(logs)["requests"]
    rows, issues = [], []
    for f in files:
        for result in read_batches(f, "requests"):
            issues.extend(result.issues)
            rows.extend(result.batch.to_pylist())
    assert not issues
    mine = [r for r in rows if r["account_id"] == "acct_logged"]
    assert len(mine) == 1
    r = mine[0]
    assert r["messages"] == [{"role": "user", "content": "Log me."}] and r["status"] == 200
    assert r["params"]["temperature"] == 0.3 and r["params"]["max_tokens"] == 50
    assert r["response"]["content"] == ANSWER and r["response"]["reasoning"] == REASONING
    assert r["usage"] == {"input_tokens": 11, "output_tokens": 30, "reasoning_tokens": 20}
    assert r["api_key_id"].startswith("key_") and "sk-user" not in str(rows)
    statuses = {x["status"] for x in rows}
    assert {200, 403, 429} <= statuses  # denied requests are logged too
    streamed = [
        x for x in rows if x["account_id"] == "acct_withhold" and x["params"] and x["params"]["stream"]
    ]
    assert (
        streamed and streamed[0]["response"]["reasoning"].strip() == REASONING
    )  # the log keeps what the model said
    # The feedback loop: the proxy's log directory is valid input for the next scan.
    result = CliRunner().invoke(cli, ["scan", str(logs), "--out", str(tmp_path / "scan"), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "acct_logged" in (tmp_path / "scan" / "accounts.csv").read_text()


def test_a_client_hanging_up_mid_stream_is_still_logged(stack: tuple[str, Path, object]) -> None:
    base, logs, _ = stack
    stream = _client(base, "acct_hangup").chat.completions.create(
        model="stub-thinker", messages=[{"role": "user", "content": "Count to a million."}], stream=True
    )
    next(iter(stream))
    stream.close()
    deadline = time.monotonic() + 10
    while True:
        rows = [
            r
            for f in find_traffic_files(logs)["requests"]
            for b in read_batches(f, "requests")
            for r in b.batch.to_pylist()
        ]
        if any(r["account_id"] == "acct_hangup" for r in rows):
            break
        assert time.monotonic() < deadline, "the hung-up stream was never logged"
        time.sleep(0.1)
