"""HTTP server cost per request: uvicorn against the decision service's own server (respond/http.py).

Both serve the same ASGI app, which answers a fixed decision-sized JSON body at once, so what is
measured is the server alone. A third run serves the real decision service app with a decision
engine that does no work, which measures the service's own plumbing (parsing, batching, answering).
The load is the open-loop generator of ``bench_decide.py`` (64 keep-alive connections, loopback,
latency counted from when each request was due); CPU is the server process's.

    python bench/bench_http.py [--rate 5000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time

import httpx
import orjson

sys.path.insert(0, os.path.dirname(__file__))
from bench_decide import _cpu_seconds, _free_port, _load, _prompts, _quantiles, _run_loop  # noqa: E402

BODY = orjson.dumps(
    {"decision": "allow", "status": 200, "reasons": [], "reasoning": "full", "headers": {}, "actions": []}
)


async def fixed_app(scope: dict, receive, send) -> None:  # type: ignore[no-untyped-def]
    """Answer every request with BODY."""
    if scope["type"] != "http":
        return
    await receive()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": BODY})


def _serve(kind: str, port: int) -> None:
    import uvicorn

    from distillguard.cli.serve import SERVER_OPTIONS
    from distillguard.respond import http

    if kind == "uvicorn":
        uvicorn.run(fixed_app, host="127.0.0.1", port=port, lifespan="off", **SERVER_OPTIONS)  # type: ignore[arg-type]
        return
    if kind == "http":
        http.run(fixed_app, http.bind("127.0.0.1", port))
        return
    from distillguard.respond.decision import Decision
    from distillguard.respond.policy import default_policy
    from distillguard.respond.service import ServiceConfig, create_app, tune_for_serving

    app = create_app(ServiceConfig(default_policy(), "memory", "sqlite://", 1.0))

    async def no_work(reqs, now=None):  # type: ignore[no-untyped-def]
        return [Decision("allow", 200, headers={"X-DistillGuard-Decision": "allow"}) for _ in reqs]

    app.batcher.engine.adecide_many = no_work  # type: ignore[method-assign]
    tune_for_serving()
    if kind == "service-uvicorn":  # the same app over ASGI only
        uvicorn.run(app, host="127.0.0.1", port=port, lifespan="on", **SERVER_OPTIONS)  # type: ignore[arg-type]
        return
    http.run(app, http.bind("127.0.0.1", port))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=int, default=5000)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument(
        "--serve", choices=["uvicorn", "http", "service-uvicorn", "service"], help=argparse.SUPPRESS
    )
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        _serve(args.serve, args.port)
        return
    rng = random.Random(1)
    bodies = [
        orjson.dumps({"account_id": f"acct_bench_{rng.randrange(10_000)}", "messages": m})
        for m in _prompts(3000)
    ]
    print(f"{os.cpu_count()} CPUs; offered {args.rate}/s for {args.seconds:g}s, POST /v1/decide, loopback")
    for kind, what in (
        ("uvicorn", "uvicorn, fixed answer"),
        ("http", "respond/http.py, fixed answer"),
        ("service-uvicorn", "uvicorn + decision service app (ASGI), engine doing no work"),
        ("service", "respond/http.py + decision service app (fast path), engine doing no work"),
    ):
        port = _free_port()
        proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--port", str(port)])
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    httpx.post(f"http://127.0.0.1:{port}/v1/decide", content=bodies[0], timeout=1)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise SystemExit(f"{kind} server did not start") from None
                    time.sleep(0.3)
            _run_loop(_load(port, 500, 1.0, bodies))
            cpu0 = _cpu_seconds(proc.pid)
            lat, errors, shed, elapsed = _run_loop(_load(port, args.rate, args.seconds, bodies))
            cpu = _cpu_seconds(proc.pid) - cpu0
            p50, p99 = _quantiles(lat)
            print(
                f"  {what}: {cpu / max(len(lat), 1) * 1e6:,.0f} µs CPU per request, "
                f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, errors {errors}, shed {shed}"
            )
        finally:
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    main()
