"""``distillguard serve``: the online decision service that API gateways call per request.

Endpoints:

- ``POST /v1/decide``: a request's metadata and messages in, ``allow``/``shape``/``deny`` with
  reasons, limits and headers out (``?explain=1`` adds the template band keys); 400 names the bad field;
- ``/v1/ext_authz/...``: Envoy's HTTP ``ext_authz`` contract (200 lets the request through with
  decision headers for the upstream, 403/429 denies it);
- ``GET /v1/enforcements``, ``POST /v1/enforcements/{id}/approve|revoke``: the audit log and approvals;
- ``POST /v1/watchlist/reload``: re-read the scan outputs and sightings (the feedback loop);
- ``GET /healthz`` (alive), ``GET /readyz`` (state store and database answer), ``GET /metrics``.

Deciding runs on a decision thread in micro-batches (``respond.batcher``) under a per-request
deadline (``timeout_s``); past it, or on any error, the request is allowed (fail open) and
``distillguard_fail_open_total`` counts it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from starlette.datastructures import Headers

from distillguard.respond.batcher import DecisionBatcher
from distillguard.respond.decision import DecideRequest, Decision, DecisionEngine, RequestError
from distillguard.respond.enforcement import EnforcementStore
from distillguard.respond.metrics import Metrics
from distillguard.respond.policy import Policy, default_policy, load_policy
from distillguard.respond.state import FailoverState, open_state
from distillguard.respond.watchlist import Watchlist

log = logging.getLogger("distillguard.respond")


@dataclass
class ServiceConfig:
    """How a decision service (or proxy) is set up."""

    policy: Policy
    state_url: str | None = None  # None or "memory": in process; redis://... for Redis
    db_url: str = "sqlite:///distillguard-enforcement.db"
    timeout_s: float = 0.05
    scan_dirs: list[Path] = field(default_factory=list)
    sightings: list[Path] = field(default_factory=list)
    scan_logs: list[Path] = field(default_factory=list)  # logs the scans read: learn all campaign templates
    refresh_s: float = 5.0  # re-read enforcement records this often (other instances' orders)
    policy_path: Path | None = None  # where ``policy`` came from; lets worker processes load it again
    max_body_bytes: int = 4 << 20  # a decision request's body; more is answered 413

    def to_env(self) -> str:
        """This configuration as JSON, for worker processes (``from_env``)."""
        return json.dumps(
            {
                "policy": str(self.policy_path) if self.policy_path else None,
                "state": self.state_url,
                "db": self.db_url,
                "timeout_s": self.timeout_s,
                "scan": [str(p) for p in self.scan_dirs],
                "sightings": [str(p) for p in self.sightings],
                "scan_logs": [str(p) for p in self.scan_logs],
                "refresh_s": self.refresh_s,
                "max_body_bytes": self.max_body_bytes,
            }
        )

    @classmethod
    def from_env(cls, text: str) -> ServiceConfig:
        """The configuration ``to_env`` wrote."""
        d = json.loads(text)
        policy = load_policy(d["policy"]) if d["policy"] else default_policy()
        return cls(
            policy,
            d["state"],
            d["db"],
            d["timeout_s"],
            [Path(p) for p in d["scan"]],
            [Path(p) for p in d["sightings"]],
            [Path(p) for p in d["scan_logs"]],
            d["refresh_s"],
            Path(d["policy"]) if d["policy"] else None,
            d["max_body_bytes"],
        )


def load_watchlist(cfg: ServiceConfig) -> Watchlist:
    """Scan outputs and sightings named by the configuration, read afresh."""
    w = Watchlist()
    for d in cfg.scan_dirs:
        w.add_scan(d)
    if cfg.scan_logs:
        w.add_campaign_templates(cfg.scan_logs)
    for s in cfg.sightings:
        w.add_sightings(s)
    return w


def build_engine(cfg: ServiceConfig, metrics: Metrics | None = None) -> DecisionEngine:
    """A decision engine with its state store, enforcement database and watchlist."""
    metrics = metrics or Metrics()

    def on_change(backend: str, why: str) -> None:
        metrics.set_backend(backend)
        if backend == "memory":
            metrics.state_failovers.inc()

    state = open_state(cfg.state_url, cfg.policy.window_s, on_change)
    metrics.set_backend(state.backend)
    store = EnforcementStore(cfg.db_url)
    store.refresh_every(cfg.refresh_s)
    return DecisionEngine(cfg.policy, state, store, load_watchlist(cfg), metrics=metrics)


def error_body(field: str, reason: str) -> dict[str, Any]:
    """The body of a 400 answer."""
    return {"error": {"type": "invalid_request", "field": field, "reason": reason}}


def key_id(secret: str) -> str:
    """A stable, non-reversible id for an API key (the key itself is never stored or logged)."""
    return "key_" + hashlib.sha256(secret.encode()).hexdigest()[:16]


def bearer(headers: Any) -> str | None:
    """The bearer token of an Authorization header, if any."""
    auth = headers.get("authorization") or ""
    if auth.lower().startswith("bearer ") and auth[7:].strip():
        return auth[7:].strip()
    return None


def identity(headers: Any, client_host: str | None) -> tuple[str | None, str | None, str | None]:
    """(account id, API key id, client IP) as a gateway in front of us passes them."""
    token = bearer(headers)
    kid = headers.get("x-distillguard-key") or (key_id(token) if token else None)
    account = headers.get("x-distillguard-account") or headers.get("x-account-id")
    if not account and kid:
        # Without an account header, a key stands for its own account: blocks still bind to it.
        account = "acct_" + kid[4:]
    fwd = headers.get("x-forwarded-for") or headers.get("x-envoy-external-address")
    ip = fwd.split(",")[0].strip() if fwd else client_host
    return account, kid, ip


Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
_JSON = [(b"content-type", b"application/json")]


class BodyTooLarge(Exception):
    """A request body over the configured limit."""


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body from ASGI ``receive`` messages; BodyTooLarge past ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(size)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


Reply = Callable[[int, list[tuple[bytes, bytes]], bytes], None]


def _headers(headers: Mapping[str, str] | None) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]


class DecisionApp:
    """The decision service's ASGI entry point.

    ``POST /v1/decide`` and ``/v1/ext_authz/...`` are answered here directly: a gateway calls them
    once per request, and FastAPI's routing, dependency and middleware layers cost more CPU than a
    micro-batched decision does (measured in ``bench/bench_decide.py``). Every other path, and the
    lifespan, go to the FastAPI app ``api``.

    ``handle_fast`` answers the same two routes through a callback: ``http.py``'s server calls it
    with the whole request, and the answer is written when the batch is decided, with no task or
    future per request. Both paths run the same code (``_handle``).
    """

    def __init__(self, api: FastAPI, batcher: DecisionBatcher, max_body_bytes: int) -> None:
        self.api = api
        self.batcher = batcher
        self.max_body_bytes = max_body_bytes
        self.state = api.state

    @staticmethod
    def _route(scope: Scope) -> str | None:
        path = scope["path"]
        if path == "/v1/decide":
            return "decide" if scope["method"] == "POST" else None
        if path.startswith("/v1/ext_authz/") or path == "/v1/ext_authz":
            return "ext_authz"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route one ASGI event."""
        route = self._route(scope) if scope["type"] == "http" else None
        if route is None:
            await self.api(scope, receive, send)
            return
        try:
            body = await read_body(receive, self.max_body_bytes)
        except BodyTooLarge:
            body = None
        answer: asyncio.Future[tuple[int, list[tuple[bytes, bytes]], bytes]] = (
            asyncio.get_running_loop().create_future()
        )

        def reply(status: int, headers: list[tuple[bytes, bytes]], data: bytes) -> None:
            if not answer.done():
                answer.set_result((status, headers, data))

        self._handle(route, scope, body, reply)
        status, headers, data = await answer
        raw = [(b"content-length", str(len(data)).encode()), *headers]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": data})

    def handle_fast(self, scope: Scope, body: bytes, reply: Reply) -> bool:
        """Answer ``/v1/decide`` and ``/v1/ext_authz`` through ``reply(status, headers, body)``
        (called once, maybe later); False for any other request, which then goes through ASGI."""
        route = self._route(scope)
        if route is None:
            return False
        self._handle(route, scope, body if len(body) <= self.max_body_bytes else None, reply)
        return True

    def _handle(self, route: str, scope: Scope, body: bytes | None, reply: Reply) -> None:
        if body is None:
            # Envoy's with_request_body sends at most max_request_bytes; more is a misconfiguration.
            return self._bad(reply, "", f"body over {self.max_body_bytes} bytes", 413)
        if route == "decide":
            return self._decide(scope, body, reply)
        return self._ext_authz(scope, body, reply)

    def _bad(self, reply: Reply, field: str, reason: str, status: int = 400) -> None:
        self.batcher.engine.metrics.bad_requests.inc()
        reply(status, _JSON, orjson.dumps(error_body(field, reason)))

    def _decide(self, scope: Scope, body: bytes, reply: Reply) -> None:
        try:
            obj = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return self._bad(reply, "", f"body is not valid JSON: {exc}")
        try:
            req = DecideRequest.from_json(obj)
        except RequestError as exc:
            return self._bad(reply, exc.field, exc.reason)
        explain = _explain(scope.get("query_string", b""))

        def answer(decision: Decision) -> None:
            reply(200, _JSON, orjson.dumps(decision.to_json(explain)))

        self.batcher.submit(req, answer)

    def _ext_authz(self, scope: Scope, body: bytes, reply: Reply) -> None:
        client = scope.get("client")
        account, kid, ip = identity(Headers(scope=scope), client[0] if client else None)
        if not account:
            return reply(
                403, _JSON, orjson.dumps({"error": "no account: send x-distillguard-account or a bearer key"})
            )
        messages: list[dict[str, str]] = []
        model = None
        if body:
            try:
                obj = orjson.loads(body)
                if isinstance(obj, dict) and "messages" in obj:
                    parsed = DecideRequest.from_json({**obj, "account_id": account})
                    messages, model = parsed.messages, parsed.model
            except (orjson.JSONDecodeError, RequestError):
                # Envoy forwards whatever the client sent; a body we cannot read is the upstream's to reject.
                pass

        def answer(decision: Decision) -> None:
            headers = _headers(decision.headers)
            if decision.decision == "deny":
                denied = {"error": {"type": "distillguard_denied", "reasons": decision.reasons}}
                reply(decision.status, _JSON + headers, orjson.dumps(denied))
            else:
                reply(200, headers, b"")

        self.batcher.submit(DecideRequest(account, messages, api_key_id=kid, ip=ip, model=model), answer)


def _explain(query: bytes) -> bool:
    for part in query.split(b"&"):
        name, _, value = part.partition(b"=")
        if name == b"explain":
            return value in (b"1", b"true")
    return False


def create_app(cfg: ServiceConfig, engine: DecisionEngine | None = None) -> DecisionApp:
    """The decision service as an ASGI app: the per-request endpoints on the lean path of
    ``DecisionApp``, the administrative ones (audit log, approvals, reload, health, metrics) on FastAPI."""
    engine = engine or build_engine(cfg)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await engine.aclose()

    app = FastAPI(title="distillguard decision service", lifespan=lifespan)
    app.state.engine = engine
    batcher = DecisionBatcher(engine, cfg.timeout_s)
    app.state.batcher = batcher
    m = engine.metrics

    def bad(field: str, reason: str) -> JSONResponse:
        m.bad_requests.inc()
        return JSONResponse(error_body(field, reason), status_code=400)

    @app.get("/v1/enforcements")
    async def enforcements(limit: int = 1000) -> Response:
        records = await asyncio.to_thread(engine.store.all, limit)
        return Response(
            orjson.dumps({"enforcements": [e.to_json() for e in records]}), media_type="application/json"
        )

    async def _set(record_id: str, status: str, request: Request) -> Response:
        body = await request.body()
        by = "api"
        if body:
            try:
                by = str(orjson.loads(body).get("by") or "api")
            except (orjson.JSONDecodeError, AttributeError):
                return bad("", 'body must be a JSON object like {"by": "analyst"}')
        try:
            e = await asyncio.to_thread(engine.store.decide, record_id, status, by)
        except KeyError:
            return JSONResponse({"error": f"no enforcement record {record_id}"}, status_code=404)
        return Response(orjson.dumps(e.to_json()), media_type="application/json")

    @app.post("/v1/enforcements/{record_id}/approve")
    async def approve(record_id: str, request: Request) -> Response:
        return await _set(record_id, "active", request)

    @app.post("/v1/enforcements/{record_id}/revoke")
    async def revoke(record_id: str, request: Request) -> Response:
        return await _set(record_id, "revoked", request)

    @app.post("/v1/watchlist/reload")
    async def reload_watchlist() -> Response:
        engine.watchlist = await asyncio.to_thread(load_watchlist, cfg)
        return JSONResponse(engine.watchlist.summary())

    @app.get("/healthz")
    async def healthz() -> Response:
        return JSONResponse({"status": "ok"})

    @app.get("/readyz")
    async def readyz() -> Response:
        checks = await asyncio.to_thread(_readiness, engine)
        ok = checks["database"] == "ok"
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", **checks}, status_code=200 if ok else 503
        )

    @app.get("/metrics")
    async def metrics() -> Response:
        m.live_enforcements.set(len(engine.store))
        return Response(m.render(), media_type="text/plain; version=0.0.4")

    return DecisionApp(app, batcher, cfg.max_body_bytes)


CONFIG_ENV = "DISTILLGUARD_SERVE_CONFIG"


def tune_for_serving() -> None:
    """Process settings for a serving process, called once the app is built.

    - One native thread per BLAS/OpenMP pool: the kernels' NumPy calls are tiny, and idle pool
      threads (one per core after scikit-learn trains the intent classifier) only take CPU from the
      event loop. Measured in ``bench/bench_decide.py``: p50 at 1,000 requests/s fell by a fifth.
    - ``gc.freeze()``: the classifier, corpora and tables built at start-up are about 220,000
      tracked objects that never die. A full collection walked them in 110-120 ms, stalling every
      request in flight; frozen, it takes microseconds.
    """
    import gc

    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    gc.collect()
    gc.freeze()


def app_from_env() -> DecisionApp:
    """App factory for worker processes: the configuration travels in ``DISTILLGUARD_SERVE_CONFIG``."""
    app = create_app(ServiceConfig.from_env(os.environ[CONFIG_ENV]))
    tune_for_serving()
    return app


def _readiness(engine: DecisionEngine) -> dict[str, str]:
    """Database and state store status; Redis being away is degraded, not unready (we fail over)."""
    out = {"state": engine.state.backend}
    try:
        with engine.store.engine.connect() as con:
            con.execute(text("SELECT 1"))
        out["database"] = "ok"
    except Exception as exc:
        out["database"] = f"error: {exc.__class__.__name__}"
    if isinstance(engine.state, FailoverState):
        try:
            engine.state.primary.ping()
            out["redis"] = "ok"
        except Exception as exc:
            out["redis"] = f"error: {exc.__class__.__name__}"
    return out
