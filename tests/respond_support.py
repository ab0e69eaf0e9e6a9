"""Shared pieces of the respond tests: a real uvicorn server in a thread, and a stub model server."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import orjson
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

REASONING = "First I read the question carefully. Then I work through each step. Therefore the answer is 42."
ANSWER = "The answer is 42."


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """uvicorn serving an app on a free loopback port in a background thread."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        assert not self.thread.is_alive(), "server did not shut down"


def stub_model_app() -> FastAPI:
    """A tiny OpenAI-compatible model that always thinks out loud (reasoning_content) and answers."""
    app = FastAPI()
    app.state.requests = []

    @app.get("/v1/models")
    async def models() -> JSONResponse:
        return JSONResponse(
            {"object": "list", "data": [{"id": "stub-thinker", "object": "model", "owned_by": "test"}]}
        )

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        body = await request.json()
        app.state.requests.append(body)
        created = int(time.time())
        rid = f"chatcmpl-{len(app.state.requests)}"
        usage = {
            "prompt_tokens": 11,
            "completion_tokens": 30,
            "total_tokens": 41,
            "completion_tokens_details": {"reasoning_tokens": 20},
        }
        if not body.get("stream"):
            return JSONResponse(
                {
                    "id": rid,
                    "object": "chat.completion",
                    "created": created,
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": {
                                "role": "assistant",
                                "content": ANSWER,
                                "reasoning_content": REASONING,
                            },
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": usage,
                }
            )

        def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
            obj = {
                "id": rid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": body["model"],
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                **extra,
            }
            return b"data: " + orjson.dumps(obj) + b"\n\n"

        async def events() -> Any:
            yield chunk({"role": "assistant", "content": ""})
            for word in REASONING.split(" "):
                yield chunk({"reasoning_content": word + " "})
            for word in ANSWER.split(" "):
                yield chunk({"content": word + " "})
            yield chunk({}, "stop")
            if (body.get("stream_options") or {}).get("include_usage"):
                yield (
                    b"data: "
                    + orjson.dumps(
                        {
                            "id": rid,
                            "object": "chat.completion.chunk",
                            "created": created,
                            "model": body["model"],
                            "choices": [],
                            "usage": usage,
                        }
                    )
                    + b"\n\n"
                )
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app
