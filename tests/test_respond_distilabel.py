"""A real synthetic-data tool (distilabel) and an ordinary chat client (openai SDK) through the proxy:
the tool's traffic ends flagged and shaped, the chat client's passes untouched."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import openai
import pytest

from distillguard.io.readers import find_traffic_files, read_batches
from distillguard.respond.policy import parse_policy
from distillguard.respond.proxy import ProxyConfig, create_proxy_app
from distillguard.respond.service import ServiceConfig
from respond_support import ANSWER, REASONING, Server, stub_model_app

# Only looked up, never imported here: distilabel patches asyncio (nest_asyncio) in the importing process.
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("distilabel") is None,
    reason="distilabel is not installed (pip install 'distilabel[openai]')",
)

POLICY = {
    "name": "bulk",
    "version": 1,
    "window": "10m",
    "rules": [
        {
            "id": "bulk-extraction",
            "when": {"window_extraction": ">= 10", "window_extraction_share": ">= 0.5"},
            "then": ["withhold_reasoning", "flag_review"],
        }
    ],
}


def test_distilabel_is_flagged_and_shaped_while_a_chat_client_is_not(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    cfg = ServiceConfig(parse_policy(POLICY), db_url="sqlite://", timeout_s=1.0)
    with (
        Server(stub_model_app()) as model,
        Server(create_proxy_app(ProxyConfig(cfg, f"{model.url}/v1", logs))) as proxy,
    ):
        chat = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="sk-chat-user", max_retries=0)
        questions = [
            "What's a good recipe for banana bread?",
            "Can you explain how vaccines work?",
            "Help me write an email to my landlord about a broken heater.",
            "Why is the sky blue?",
        ] * 3
        for q in questions:
            reply = chat.chat.completions.create(
                model="stub-thinker", messages=[{"role": "user", "content": q}]
            )
            assert reply.choices[0].message.content == ANSWER
            assert (reply.choices[0].message.model_extra or {}).get("reasoning_content") == REASONING
        env = {
            **os.environ,
            "DISTILABEL_LOG_LEVEL": "WARNING",
            "HF_HUB_OFFLINE": "1",
            "HF_DATASETS_OFFLINE": "1",
        }
        job = Path(__file__).with_name("distilabel_job.py")
        run = subprocess.run(
            [sys.executable, str(job), f"{proxy.url}/v1", str(tmp_path / "cache"), "3"],
            capture_output=True,
            text=True,
            timeout=240,
            env=env,
        )
        assert run.returncode == 0, run.stderr[-3000:]
        summary = json.loads(run.stdout.strip().splitlines()[-1])
        assert summary == {"rows": 60, "generations": 60}
        audit = proxy.server.config.app.state.engine.store.all()
    rows = [
        r
        for f in find_traffic_files(logs)["requests"]
        for b in read_batches(f, "requests")
        for r in b.batch.to_pylist()
    ]
    by_key: dict[str, list[dict]] = {}
    for r in rows:
        by_key.setdefault(r["api_key_id"], []).append(r)
    assert sorted(len(v) for v in by_key.values()) == [12, 60]
    tool = next(v for v in by_key.values() if len(v) == 60)
    human = next(v for v in by_key.values() if len(v) == 12)
    decisions = [
        (json.loads(r["extra"] or "{}").get("distillguard") or {}).get("decision", "allow") for r in tool
    ]
    # The window fills after ten extraction-shaped prompts; from then on every reply is shaped.
    assert decisions.count("shape") >= 45 and decisions[-1] == "shape"
    assert all(
        (json.loads(r["extra"] or "{}").get("distillguard") or {}).get("decision", "allow") == "allow"
        for r in human
    )
    flagged = {e.account_id for e in audit if e.action == "flag_review"}
    assert flagged == {tool[0]["account_id"]}
    assert (
        tool[0]["user_agent"] and "OpenAI" in tool[0]["user_agent"]
    )  # distilabel speaks through the openai SDK
