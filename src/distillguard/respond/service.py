"""``distillguard serve``: the online decision service that API gateways call per request.

Endpoints:

- ``POST /v1/decide``: a request's metadata and messages in, ``allow``/``shape``/``deny`` with
  reasons, limits and headers out (``?explain=1`` adds the template band keys); 400 names the bad field;
- ``/v1/ext_authz/...``: Envoy's HTTP ``ext_authz`` contract (200 lets the request through with
  decision headers for the upstream, 403/429 denies it);
- ``GET /v1/enforcements``, ``POST /v1/enforcements/{id}/approve|revoke``: the audit log and approvals;
- ``POST /v1/watchlist/reload``: re-read the scan outputs and sightings (the feedback loop);
- ``GET /healthz`` (alive), ``GET /readyz`` (state store and database answer), ``GET /metrics``.

Deciding runs in a worker thread under a deadline (``timeout_s``); past it, or on any error, the
request is allowed (fail open) and ``distillguard_fail_open_total`` counts it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from distillguard.respond.decision import DecideRequest, Decision, DecisionEngine, RequestError, fail_open
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


async def decide_with_deadline(engine: DecisionEngine, req: DecideRequest, timeout_s: float) -> Decision:
    """Decide on the engine's decision thread; allow (fail open) past the deadline or on an error.

    A request whose deadline passes while it waits for the thread is skipped rather than decided
    late: under overload the backlog drains at once instead of growing (every skipped one fails open).
    """
    m = engine.metrics
    deadline = time.monotonic() + timeout_s

    def run() -> Decision | None:
        if time.monotonic() > deadline:
            return None
        return engine.decide(req)

    with m.latency.time():
        try:
            loop = asyncio.get_running_loop()
            decision = await asyncio.wait_for(loop.run_in_executor(engine.executor, run), timeout_s)
        except TimeoutError:
            decision = None
        except Exception:
            m.fail_open.labels("error").inc()
            log.exception("decision for %s failed; allowed (fail open)", req.account_id)
            return fail_open("error")
    if decision is None:
        m.fail_open.labels("timeout").inc()
        log.warning("decision for %s took over %.0f ms; allowed (fail open)", req.account_id, timeout_s * 1e3)
        return fail_open("timeout")
    return decision


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


def create_app(cfg: ServiceConfig, engine: DecisionEngine | None = None) -> FastAPI:
    """The decision service as an ASGI app."""
    engine = engine or build_engine(cfg)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        engine.close()

    app = FastAPI(title="distillguard decision service", lifespan=lifespan)
    app.state.engine = engine
    m = engine.metrics

    def bad(field: str, reason: str) -> JSONResponse:
        m.bad_requests.inc()
        return JSONResponse(error_body(field, reason), status_code=400)

    @app.post("/v1/decide")
    async def decide(request: Request) -> Response:
        raw = await request.body()
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            return bad("", f"body is not valid JSON: {exc}")
        try:
            req = DecideRequest.from_json(obj)
        except RequestError as exc:
            return bad(exc.field, exc.reason)
        decision = await decide_with_deadline(engine, req, cfg.timeout_s)
        explain = request.query_params.get("explain") in ("1", "true")
        return Response(orjson.dumps(decision.to_json(explain)), media_type="application/json")

    @app.api_route("/v1/ext_authz/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"])
    async def ext_authz(request: Request, path: str) -> Response:
        account, kid, ip = identity(request.headers, request.client.host if request.client else None)
        if not account:
            return JSONResponse({"error": "no account: send x-distillguard-account or a bearer key"}, 403)
        messages: list[dict[str, str]] = []
        model = None
        body = await request.body()
        if body:
            try:
                obj = orjson.loads(body)
                if isinstance(obj, dict) and "messages" in obj:
                    req = DecideRequest.from_json({**obj, "account_id": account})
                    messages, model = req.messages, req.model
            except (orjson.JSONDecodeError, RequestError):
                # Envoy forwards whatever the client sent; a body we cannot read is the upstream's to reject.
                pass
        req = DecideRequest(account, messages, api_key_id=kid, ip=ip, model=model)
        decision = await decide_with_deadline(engine, req, cfg.timeout_s)
        if decision.decision == "deny":
            return JSONResponse(
                {"error": {"type": "distillguard_denied", "reasons": decision.reasons}},
                status_code=decision.status,
                headers=decision.headers,
            )
        return Response(status_code=200, headers=decision.headers)

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

    return app


CONFIG_ENV = "DISTILLGUARD_SERVE_CONFIG"


def app_from_env() -> FastAPI:
    """App factory for worker processes: the configuration travels in ``DISTILLGUARD_SERVE_CONFIG``."""
    return create_app(ServiceConfig.from_env(os.environ[CONFIG_ENV]))


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
