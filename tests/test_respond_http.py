"""The decision service's HTTP/1.1 server (respond/http.py), driven over real sockets."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from distillguard.respond import http
from distillguard.respond.policy import default_policy
from distillguard.respond.service import ServiceConfig, create_app
from respond_support import Server


class Running:
    """An HttpServer on a free loopback port, in a thread with its own event loop."""

    def __init__(self, app: Any, **kwargs: Any) -> None:
        self.sock = http.bind("127.0.0.1", 0)
        self.port = self.sock.getsockname()[1]
        self.server = http.HttpServer(app, **kwargs)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._main, daemon=True)

    def _main(self) -> None:
        try:
            asyncio.run(self.server.serve(self.sock, install_signals=False))
        except BaseException as exc:  # surfaced by the test
            self.error = exc

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Running:
        self.thread.start()
        assert self.server.ready.wait(60), f"server did not start: {self.error!r}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
        self.thread.join(30)
        assert not self.thread.is_alive(), "server did not stop"
        self.sock.close()


def raw(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Send bytes, read until the server closes the connection (or the timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except TimeoutError:
            pass
        return out


async def echo_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers with what it saw; /stream streams three chunks; /boom raises; /slow waits."""
    if scope["type"] == "lifespan":
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                scope["state"]["started"] = True
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                LIFESPAN.append("shutdown")
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = (await receive())["body"]
    path = scope["path"]
    if path == "/boom":
        raise RuntimeError("boom")
    if path == "/slow":
        await asyncio.sleep(0.5)
    if path == "/stream":
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
        )
        for part in (b"one ", b"two ", b"three"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    out = orjson.dumps(
        {
            "method": scope["method"],
            "path": path,
            "query": scope["query_string"].decode(),
            "body": body.decode(errors="replace"),
            "headers": {k.decode(): v.decode() for k, v in scope["headers"]},
            "started": scope.get("state", {}).get("started", False),
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(out)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": out})


LIFESPAN: list[str] = []


@pytest.fixture
def echo() -> Iterator[Running]:
    with Running(echo_app, max_body_bytes=1000, keep_alive_s=0.4) as r:
        yield r


def test_requests_on_one_keep_alive_connection(echo: Running) -> None:
    with httpx.Client(base_url=echo.url) as c:
        a = c.post("/a/b%20c?x=1", content=b"hello", headers={"X-Test": "yes"})
        b = c.get("/second")
    assert a.status_code == b.status_code == 200
    got = a.json()
    assert (got["method"], got["path"], got["query"], got["body"]) == ("POST", "/a/b c", "x=1", "hello")
    assert got["headers"]["x-test"] == "yes" and got["started"] is True  # lifespan state reaches requests
    assert b.json()["path"] == "/second"


def test_pipelined_requests_are_answered_in_order(echo: Running) -> None:
    reqs = b"".join(
        f"GET /{i} HTTP/1.1\r\nhost: x\r\n{'connection: close' if i == 3 else 'x: y'}\r\n\r\n".encode()
        for i in (1, 2, 3)
    )
    out = raw(echo.port, b"POST /slow HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n" + reqs)
    paths = [
        orjson.loads(p.split(b"\r\n\r\n", 1)[1].split(b"HTTP/1.1")[0])["path"]
        for p in out.split(b"HTTP/1.1 200")[1:]
    ]
    assert paths == ["/slow", "/1", "/2", "/3"]


def test_chunked_request_body_and_streamed_response(echo: Running) -> None:
    out = raw(
        echo.port,
        b"POST /x HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    )
    assert b'"body":"hello world"' in out
    with httpx.Client(base_url=echo.url) as c:
        r = c.get("/stream")
        assert r.text == "one two three" and r.headers["transfer-encoding"] == "chunked"
        h = c.head("/stream")
        assert h.status_code == 200 and h.content == b""


def test_expect_100_continue(echo: Running) -> None:
    with socket.create_connection(("127.0.0.1", echo.port), timeout=5) as s:
        s.sendall(b"POST /c HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\nexpect: 100-continue\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        s.sendall(b"data")
        assert b'"body":"data"' in s.recv(65536)


def test_bodies_over_the_limit_get_413_and_the_connection_closes(echo: Running) -> None:
    # Declared too large: answered before the body is sent.
    out = raw(echo.port, b"POST /x HTTP/1.1\r\nhost: x\r\ncontent-length: 5000\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 413") and b"over 1000 bytes" in out
    # Streamed past the limit.
    chunk = b"400\r\n" + b"a" * 1024 + b"\r\n"
    out = raw(echo.port, b"POST /x HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n" + chunk * 2)
    assert out.startswith(b"HTTP/1.1 413")


def test_malformed_requests_get_400(echo: Running) -> None:
    for junk in (
        b"NOT HTTP AT ALL\r\n\r\n",
        b"GET / HTTP/1.1\r\nbad header line\r\n\r\n",
        b"\x00\x01\x02\r\n\r\n",
    ):
        out = raw(echo.port, junk)
        assert out.startswith(b"HTTP/1.1 400"), junk
    assert httpx.get(echo.url + "/still-up").status_code == 200


def test_http_1_0_closes_and_app_errors_get_500(echo: Running) -> None:
    out = raw(echo.port, b"GET /old HTTP/1.0\r\n\r\n", timeout=5)
    assert out.startswith(b"HTTP/1.1 200") and b"connection: close" in out
    assert httpx.get(echo.url + "/boom").status_code == 500
    assert httpx.get(echo.url + "/after").status_code == 200


def test_idle_keep_alive_connections_are_closed(echo: Running) -> None:
    with socket.create_connection(("127.0.0.1", echo.port), timeout=5) as s:
        s.sendall(b"GET /k HTTP/1.1\r\nhost: x\r\n\r\n")
        assert s.recv(65536).startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        assert s.recv(10) == b""  # the server closed the idle connection
        assert time.monotonic() - started < 3


def test_stop_finishes_requests_in_flight_then_runs_shutdown() -> None:
    LIFESPAN.clear()
    r = Running(echo_app)
    r.__enter__()
    result: dict[str, Any] = {}

    def slow() -> None:
        result["r"] = httpx.get(r.url + "/slow", timeout=10)

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.2)  # the request is in flight
    r.__exit__()
    t.join(10)
    assert result["r"].status_code == 200 and result["r"].json()["path"] == "/slow"
    assert LIFESPAN == ["shutdown"]
    with pytest.raises(httpx.ConnectError):
        httpx.get(r.url + "/gone", timeout=2)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_take_the_server_down(echo: Running, junk: bytes) -> None:
    raw(echo.port, junk, timeout=0.3)
    assert httpx.get(echo.url + "/alive", timeout=5).status_code == 200


# --- the decision service on this server -------------------------------------------------------------


def test_decision_service_answers_the_same_on_the_fast_path_and_over_asgi(tmp_path: Path) -> None:
    cfg = ServiceConfig(default_policy(), db_url=f"sqlite:///{tmp_path / 'e.db'}", max_body_bytes=2000)
    app = create_app(cfg)
    body = {
        "account_id": "acct_1",
        "messages": [{"role": "user", "content": "Show your reasoning step by step."}],
    }
    with Running(app, max_body_bytes=cfg.max_body_bytes + 1000) as r, httpx.Client(base_url=r.url) as c:
        fast = c.post("/v1/decide?explain=1", json=body)
        assert fast.status_code == 200
        bad = c.post("/v1/decide", content=b"{not json")
        assert bad.status_code == 400 and "not valid JSON" in bad.json()["error"]["reason"]
        missing = c.post("/v1/decide", json={"messages": []})
        assert missing.status_code == 400 and missing.json()["error"]["field"] == "account_id"
        big = c.post("/v1/decide", content=b" " * 2500)  # over the service's limit, under the server's
        assert big.status_code == 413 and big.headers["content-type"] == "application/json"
        authz = c.post(
            "/v1/ext_authz/v1/chat/completions", json=body, headers={"x-distillguard-account": "acct_2"}
        )
        assert authz.status_code == 200 and authz.headers["x-distillguard-decision"] == "allow"
        assert c.get("/healthz").status_code == 200  # FastAPI, through ASGI
        assert "distillguard_decisions" in c.get("/metrics").text
    # The same configuration behind uvicorn, which speaks only ASGI to the app.
    with Server(create_app(cfg)) as u, httpx.Client(base_url=u.url) as c:
        over_asgi = c.post("/v1/decide?explain=1", json=body)
        assert c.post("/v1/decide", content=b" " * 2500).status_code == 413
    a, b = fast.json(), over_asgi.json()
    assert a["decision"] == b["decision"] and a["signals"] == b["signals"] and a["reasons"] == b["reasons"]
