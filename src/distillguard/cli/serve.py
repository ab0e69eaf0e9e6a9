"""``distillguard serve`` (decision service) and ``distillguard proxy`` (OpenAI-compatible reverse proxy)."""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from distillguard.cli.common import err, fail
from distillguard.respond.policy import Policy, PolicyError, default_policy, load_policy
from distillguard.respond.watchlist import WatchlistError

if TYPE_CHECKING:
    from distillguard.respond.service import ServiceConfig

PolicyOption = typer.Option(help="Policy YAML file (default: the shipped policy; see `policy default`).")
StateOption = typer.Option(
    help="'memory' (in process) or a redis:// URL (falls back to memory if Redis goes)."
)
DbOption = typer.Option(help="SQLAlchemy URL of the enforcement database (SQLite file or PostgreSQL).")
ScanOption = typer.Option(help="Scan output directory to load as the watchlist (repeatable).")
ScanLogsOption = typer.Option(
    help="The logs those scans read: learn every template key campaigns share (repeatable)."
)
SightingsOption = typer.Option(help="Partner sightings file, JSON lines (repeatable).")
# The reverse proxy runs on uvicorn. Per-request work uvicorn would otherwise do: we read X-Forwarded-For ourselves (service.identity),
# log decisions through metrics rather than an access line, and a gateway needs no Server or Date header.
SERVER_OPTIONS: dict[str, object] = {
    "log_level": "warning",
    "access_log": False,
    "proxy_headers": False,
    "server_header": False,
    "date_header": False,
}
TimeoutOption = typer.Option(help="Decision deadline in milliseconds; past it the request is allowed.")


def _config(
    policy: Path | None,
    state: str,
    db: str,
    scan: list[Path],
    sightings: list[Path],
    timeout_ms: float,
    scan_logs: list[Path],
) -> ServiceConfig:
    # The web stack loads only for the commands that serve, so the rest of the CLI starts fast.
    from distillguard.respond.service import ServiceConfig

    try:
        p: Policy = load_policy(policy) if policy else default_policy()
    except PolicyError as exc:
        raise fail(str(exc)) from None
    if timeout_ms <= 0:
        raise fail(f"--timeout-ms must be positive, got {timeout_ms:g}")
    if scan_logs and not scan:
        raise fail("--scan-logs needs --scan: the campaigns come from the scan output")
    return ServiceConfig(
        p, state, db, timeout_ms / 1000.0, list(scan), list(sightings), list(scan_logs), policy_path=policy
    )


def _run(app: object, host: str, port: int, what: str) -> None:
    """Serve the reverse proxy with uvicorn (its cost per request is the upstream model call)."""
    import uvicorn

    from distillguard.respond.service import tune_for_serving

    tune_for_serving()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    err.print(f"{what} on http://{host}:{port}", highlight=False)
    # uvicorn handles SIGINT/SIGTERM: stops accepting, finishes in-flight requests, runs shutdown.
    uvicorn.run(app, host=host, port=port, lifespan="on", **SERVER_OPTIONS)


def _listen(host: str, port: int) -> socket.socket:
    from distillguard.respond import http

    try:
        return http.bind(host, port)
    except OSError as exc:
        raise fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


# The decision service's own HTTP server refuses bodies past this much more than the service's
# limit; below it the service answers 413 itself, with a JSON error body.
_BODY_SLACK = 1 << 20


def serve(
    policy: Annotated[Path | None, PolicyOption] = None,
    state: Annotated[str, StateOption] = "memory",
    db: Annotated[str, DbOption] = "sqlite:///distillguard-enforcement.db",
    scan: Annotated[list[Path], ScanOption] = [],  # noqa: B006 - Typer reads the default
    sightings: Annotated[list[Path], SightingsOption] = [],  # noqa: B006
    scan_logs: Annotated[list[Path], ScanLogsOption] = [],  # noqa: B006
    timeout_ms: Annotated[float, TimeoutOption] = 50.0,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8787,
    workers: Annotated[
        int, typer.Option(help="Worker processes; more than one needs --state redis://... to share windows.")
    ] = 1,
) -> None:
    """Run the online decision service (POST /v1/decide, Envoy ext_authz, /metrics, /healthz)."""
    from distillguard.respond.service import CONFIG_ENV, create_app

    cfg = _config(policy, state, db, scan, sightings, timeout_ms, scan_logs)
    if workers < 1:
        raise fail(f"--workers must be at least 1, got {workers}")
    if workers > 1:
        if not state.startswith(("redis://", "rediss://", "unix://")):
            raise fail(
                "--workers > 1 needs --state redis://...: in-process windows would be split across workers"
            )
        import os

        from distillguard.respond import http
        from distillguard.respond.watchlist import Watchlist

        try:  # fail here, with a clear message, rather than in every worker
            for d in scan:
                Watchlist.load(d)
            for f in sightings:
                Watchlist.load(sightings=f)
        except WatchlistError as exc:
            raise fail(str(exc)) from None
        os.environ[CONFIG_ENV] = cfg.to_env()
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        err.print(
            f"distillguard decision service on http://{host}:{port} ({workers} workers)", highlight=False
        )
        sock = _listen(host, port)
        status = http.run_workers(
            "distillguard.respond.service:app_from_env",
            sock,
            workers,
            max_body_bytes=cfg.max_body_bytes + _BODY_SLACK,
        )
        if status:
            raise typer.Exit(status)
        return
    from distillguard.respond import http
    from distillguard.respond.service import tune_for_serving

    try:
        app = create_app(cfg)
    except (WatchlistError, ValueError) as exc:
        raise fail(str(exc)) from None
    sock = _listen(host, port)
    tune_for_serving()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    err.print(f"distillguard decision service on http://{host}:{port}", highlight=False)
    # SIGINT/SIGTERM: stop accepting, finish requests in flight, then the app's shutdown.
    http.run(app, sock, max_body_bytes=cfg.max_body_bytes + _BODY_SLACK)


def proxy(
    upstream: Annotated[
        str, typer.Option(help="Base URL of the OpenAI-compatible model API, e.g. http://127.0.0.1:8000/v1")
    ],
    log_dir: Annotated[
        Path, typer.Option(help="Directory for the traffic log (requests-YYYY-MM-DD.jsonl).")
    ] = Path("distillguard-logs"),
    upstream_key: Annotated[
        str | None,
        typer.Option(envvar="DISTILLGUARD_UPSTREAM_KEY", help="Key for the upstream (else the client's)."),
    ] = None,
    policy: Annotated[Path | None, PolicyOption] = None,
    state: Annotated[str, StateOption] = "memory",
    db: Annotated[str, DbOption] = "sqlite:///distillguard-enforcement.db",
    scan: Annotated[list[Path], ScanOption] = [],  # noqa: B006
    sightings: Annotated[list[Path], SightingsOption] = [],  # noqa: B006
    scan_logs: Annotated[list[Path], ScanLogsOption] = [],  # noqa: B006
    timeout_ms: Annotated[float, TimeoutOption] = 50.0,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8788,
) -> None:
    """Run the OpenAI-compatible reverse proxy that records traffic and enforces decisions."""
    from distillguard.respond.proxy import ProxyConfig, create_proxy_app

    cfg = _config(policy, state, db, scan, sightings, timeout_ms, scan_logs)
    try:
        app = create_proxy_app(ProxyConfig(cfg, upstream, log_dir, upstream_key))
    except (WatchlistError, ValueError) as exc:
        raise fail(str(exc)) from None
    _run(app, host, port, f"distillguard proxy for {upstream}")


def register(app: typer.Typer) -> None:
    """Add the commands to the CLI."""
    app.command("serve")(serve)
    app.command("proxy")(proxy)
