"""``distillguard proxy``: an OpenAI-compatible reverse proxy that records and enforces.

Every ``POST /v1/chat/completions`` is decided by the same engine as ``distillguard serve``, then
denied (403 or 429 with an OpenAI-style error body), or forwarded upstream and shaped on the way
back: reasoning withheld or summarised, in whole replies and in streamed ones alike. Every request,
denied or not, is appended to the traffic log (``requests-YYYY-MM-DD.jsonl`` in ``log_dir``) with
what the model returned, so the next ``distillguard scan LOG_DIR`` sees it (the feedback loop).
Other ``/v1/...`` paths (``models`` and the like) pass through unchanged.

Identity: ``x-distillguard-account`` (set by an authenticating gateway in front) names the account;
otherwise the bearer key stands for its own account. Keys are only ever logged as a hash.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from distillguard.respond.batcher import DecisionBatcher
from distillguard.respond.decision import DecideRequest, Decision, RequestError, normalise_messages
from distillguard.respond.reasoning import StreamShaper, reasoning_of, shape_message
from distillguard.respond.recorder import TrafficRecorder, params_of, usage_of
from distillguard.respond.service import ServiceConfig, build_engine, identity

# Hop-by-hop and length headers are the proxy's own business, never forwarded as they are.
_HOP = frozenset(
    {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "upgrade", "accept-encoding"}
)


@dataclass
class ProxyConfig:
    """What the proxy needs beyond the decision service's configuration."""

    service: ServiceConfig
    upstream: str
    log_dir: Path
    upstream_key: str | None = None
    upstream_timeout_s: float = 600.0


def _error(status: int, message: str, code: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {
        "error": {
            "message": message,
            "type": "distillguard_denied" if status != 400 else "invalid_request_error",
            "code": code,
        }
    }
    return JSONResponse(body, status_code=status, headers=headers)


def create_proxy_app(cfg: ProxyConfig) -> FastAPI:
    """The reverse proxy as an ASGI app."""
    if not cfg.upstream.startswith(("http://", "https://")):
        raise ValueError(f"--upstream must be an http(s) URL, got {cfg.upstream!r}")
    engine = build_engine(cfg.service)
    recorder = TrafficRecorder(cfg.log_dir)
    upstream = cfg.upstream.rstrip("/")
    client = httpx.AsyncClient(timeout=httpx.Timeout(cfg.upstream_timeout_s, connect=10.0))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await client.aclose()
        recorder.close()
        await engine.aclose()

    app = FastAPI(title="distillguard proxy", lifespan=lifespan)
    app.state.engine = engine
    app.state.recorder = recorder
    batcher = DecisionBatcher(engine, cfg.service.timeout_s)

    def forward_headers(request: Request) -> dict[str, str]:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        headers = {k: v for k, v in headers.items() if not k.lower().startswith("x-distillguard-")}
        if cfg.upstream_key:
            headers["authorization"] = f"Bearer {cfg.upstream_key}"
        return headers

    def record(
        request: Request,
        req: DecideRequest,
        body: dict[str, Any],
        arrived: dt.datetime,
        decision: Decision,
        status: int,
        request_id: str,
        response: dict[str, Any] | None = None,
        usage: dict[str, Any] | None = None,
    ) -> None:
        recorder.write(
            {
                "request_id": request_id,
                "ts": arrived,
                "account_id": req.account_id,
                "api_key_id": req.api_key_id,
                "ip": req.ip,
                "user_agent": request.headers.get("user-agent"),
                "model": req.model or "unknown",
                "endpoint": "/v1/chat/completions",
                "messages": req.messages,
                "params": params_of(body) or None,
                "response": response,
                "usage": usage_of(usage),
                "status": status,
                "distillguard": {
                    "decision": decision.decision,
                    "reasoning": decision.reasoning,
                    "reasons": decision.reasons,
                }
                if decision.reasons
                else None,
            }
        )

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        arrived = dt.datetime.now(dt.UTC)
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            return _error(400, f"body is not valid JSON: {exc}", "invalid_json")
        if not isinstance(body, dict):
            return _error(400, "body must be a JSON object", "invalid_body")
        account, kid, ip = identity(request.headers, request.client.host if request.client else None)
        if not account:
            return _error(401, "no credentials: send a bearer key", "no_account")
        try:
            messages = normalise_messages(body.get("messages"))
        except RequestError as exc:
            return _error(400, str(exc), "invalid_messages")
        model = body.get("model") if isinstance(body.get("model"), str) else None
        req = DecideRequest(account, messages, api_key_id=kid, ip=ip, model=model, params=params_of(body))
        decision = await batcher.decide(req)
        request_id = "req_" + uuid.uuid4().hex[:24]
        if decision.decision == "deny":
            record(request, req, body, arrived, decision, decision.status, request_id)
            action = decision.headers.get("X-DistillGuard-Action", "denied")
            return _error(decision.status, f"request refused by policy ({action})", action, decision.headers)
        url = f"{upstream}/chat/completions"
        headers = forward_headers(request)
        if body.get("stream"):
            return await _stream(request, req, body, arrived, decision, request_id, url, headers)
        try:
            r = await client.post(url, content=orjson.dumps(body), headers=headers)
        except httpx.HTTPError as exc:
            record(request, req, body, arrived, decision, 502, request_id)
            return _error(502, f"upstream unreachable: {exc.__class__.__name__}", "upstream_error")
        try:
            reply = r.json()
        except ValueError:
            record(request, req, body, arrived, decision, r.status_code, request_id)
            return Response(r.content, status_code=r.status_code, media_type=r.headers.get("content-type"))
        logged = None
        if isinstance(reply, dict) and reply.get("choices"):
            msg = reply["choices"][0].get("message") or {}
            logged = {
                "content": msg.get("content") if isinstance(msg.get("content"), str) else None,
                "reasoning": reasoning_of(msg),
                "finish_reason": reply["choices"][0].get("finish_reason"),
            }
            for choice in reply["choices"]:
                shape_message(choice.get("message") or {}, decision.reasoning)
        record(
            request,
            req,
            body,
            arrived,
            decision,
            r.status_code,
            str(reply.get("id") or request_id) if isinstance(reply, dict) else request_id,
            logged,
            reply.get("usage") if isinstance(reply, dict) else None,
        )
        return Response(
            orjson.dumps(reply),
            status_code=r.status_code,
            media_type="application/json",
            headers=decision.headers,
        )

    async def _stream(
        request: Request,
        req: DecideRequest,
        body: dict[str, Any],
        arrived: dt.datetime,
        decision: Decision,
        request_id: str,
        url: str,
        headers: dict[str, str],
    ) -> Response:
        try:
            upstream_req = client.build_request("POST", url, content=orjson.dumps(body), headers=headers)
            r = await client.send(upstream_req, stream=True)
        except httpx.HTTPError as exc:
            record(request, req, body, arrived, decision, 502, request_id)
            return _error(502, f"upstream unreachable: {exc.__class__.__name__}", "upstream_error")
        if r.status_code != 200:
            content = await r.aread()
            await r.aclose()
            record(request, req, body, arrived, decision, r.status_code, request_id)
            return Response(content, status_code=r.status_code, media_type=r.headers.get("content-type"))
        shaper = StreamShaper(decision.reasoning)

        async def events() -> AsyncIterator[bytes]:
            try:
                async for line in r.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        yield b"data: [DONE]\n\n"
                        continue
                    try:
                        obj = orjson.loads(data)
                    except orjson.JSONDecodeError:
                        yield f"data: {data}\n\n".encode()
                        continue
                    shaped = shaper.chunk(obj)
                    if shaped is not None:
                        yield b"data: " + orjson.dumps(shaped) + b"\n\n"
            finally:
                logged = {
                    "content": "".join(shaper.content),
                    "reasoning": "".join(shaper.reasoning) or None,
                    "finish_reason": shaper.finish_reason,
                }
                # Written before any await: when the client hangs up, the stream is cancelled and an
                # await here would be cancelled too, losing the record (one flushed line is quick).
                record(
                    request, req, body, arrived, decision, 200, shaper.id or request_id, logged, shaper.usage
                )
                await r.aclose()

        return StreamingResponse(events(), media_type="text/event-stream", headers=decision.headers)

    @app.api_route("/v1/{path:path}", methods=["GET", "POST", "DELETE"])
    async def passthrough(request: Request, path: str) -> Response:
        try:
            r = await client.request(
                request.method,
                f"{upstream}/{path}",
                content=await request.body(),
                headers=forward_headers(request),
                params=request.query_params,
            )
        except httpx.HTTPError as exc:
            return _error(502, f"upstream unreachable: {exc.__class__.__name__}", "upstream_error")
        return Response(r.content, status_code=r.status_code, media_type=r.headers.get("content-type"))

    @app.get("/healthz")
    async def healthz() -> Response:
        return JSONResponse({"status": "ok"})

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(engine.metrics.render(), media_type="text/plain; version=0.0.4")

    return app
