"""The decision service's HTTP/1.1 server: httptools parsing, ASGI 3 apps, one event loop per process.

A gateway calls the decision service once per API request, so the server's own cost per request
is paid thousands of times a second. ``bench/bench_http.py`` measures it at 5,000 requests/s on
loopback (2 shared cores): serving the same fixed answer, uvicorn spends about 73 µs of CPU per
request and this server about 48 µs; serving the decision service with a decision engine that does
no work, 97 µs against 64 µs, because here ``/v1/decide`` skips ASGI altogether (the app's
``handle_fast``: no task, future or timer per request). uvicorn's extra cost is its generality:
per-request objects, header validation, timers, flow-control bookkeeping.

What it does: HTTP/1.1 and 1.0; keep-alive with an idle timeout; pipelined requests answered in
order; Content-Length and chunked request bodies, bounded by ``max_body_bytes`` (413 past it);
``Expect: 100-continue``; chunked responses when the app sends no Content-Length; HEAD; the ASGI
lifespan protocol; malformed requests answered 400 and the connection closed; graceful shutdown on
SIGINT/SIGTERM (stop accepting, finish what is in flight, then run the app's shutdown); several
worker processes sharing one listening socket, restarted if they die.

What it does not do, because the decision service needs none of it: TLS (terminate it in the
gateway or a sidecar), HTTP/2, WebSockets, access logs (decisions are counted in ``/metrics``).
The reverse proxy and the TAXII server keep uvicorn: their cost per request is the upstream call.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

import httptools

log = logging.getLogger("distillguard.http")

Reply = Callable[[int, list[tuple[bytes, bytes]], bytes], None]
FastHandler = Callable[[dict[str, Any], bytes, Reply], bool]
ASGIApp = Callable[
    [dict[str, Any], Callable[[], Awaitable[dict[str, Any]]], Callable[..., Awaitable[None]]], Any
]

_ASGI = {"version": "3.0", "spec_version": "2.3"}
_MAX_PENDING = 32  # pipelined requests parsed ahead of the one being answered, before reading pauses
_HIGH_WATER = 256 * 1024  # bytes of unsent response before a streaming app waits


def _status_line(status: int) -> bytes:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return f"HTTP/1.1 {status} {phrase}\r\n".encode("latin-1")


_STATUS_LINES = {s.value: _status_line(s.value) for s in HTTPStatus}


def _head(status: int, headers: list[tuple[bytes, bytes]], close: bool, extra: bytes = b"") -> bytes:
    """A response head: status line, the app's headers, ``extra`` header lines, Connection: close."""
    parts = [_STATUS_LINES.get(status) or _status_line(status)]
    for name, value in headers:
        parts += (name, b": ", value, b"\r\n")
    parts += (extra, b"connection: close\r\n\r\n" if close else b"\r\n")
    return b"".join(parts)


def _plain(status: int, text: str) -> bytes:
    """A whole small text/plain answer that closes the connection (errors the server raises itself)."""
    body = text.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"%d" % len(body))]
    return _head(status, headers, True) + body


class _Request:
    __slots__ = ("scope", "body", "keep_alive", "too_large")

    def __init__(self, scope: dict[str, Any], body: bytes, keep_alive: bool, too_large: bool) -> None:
        self.scope = scope
        self.body = body
        self.keep_alive = keep_alive
        self.too_large = too_large


class _Cycle:
    """One request's ASGI ``receive`` and ``send``."""

    __slots__ = ("conn", "req", "head_only", "started", "complete", "chunked", "head", "body_read", "done")

    def __init__(self, conn: HttpProtocol, req: _Request) -> None:
        self.conn = conn
        self.req = req
        self.head_only = req.scope["method"] == "HEAD"
        self.started = False
        self.complete = False
        self.chunked = False
        self.head: bytes | None = None
        self.body_read = False
        self.done: asyncio.Future[None] | None = None

    async def receive(self) -> dict[str, Any]:
        """The request body in one message; then ``http.disconnect`` once the exchange is over."""
        if not self.body_read:
            self.body_read = True
            return {"type": "http.request", "body": self.req.body, "more_body": False}
        if not self.complete and not self.conn.lost:
            self.done = self.conn.loop.create_future()
            self.conn.waiters.add(self.done)
            try:
                await self.done
            finally:
                self.conn.waiters.discard(self.done)
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        """Write the response: the head with the first body part, chunked without a Content-Length."""
        kind = message["type"]
        if kind == "http.response.start":
            if self.started:
                raise RuntimeError("http.response.start sent twice")
            self.started = True
            status = int(message["status"])
            headers = list(message.get("headers", ()))
            sized = any(name.lower() == b"content-length" for name, _ in headers)
            no_body = self.head_only or status in (204, 304) or 100 <= status < 200
            self.chunked = not sized and not no_body
            chunked = b"transfer-encoding: chunked\r\n" if self.chunked else b""
            self.head = _head(status, headers, self.conn.closing(self.req), chunked)
            return
        if kind != "http.response.body":
            raise RuntimeError(f"unexpected ASGI message {kind!r}")
        if not self.started or self.complete:
            raise RuntimeError("http.response.body outside a response")
        body = message.get("body", b"")
        more = bool(message.get("more_body", False))
        out = self.head or b""
        self.head = None
        if not self.head_only:
            if self.chunked:
                if body:
                    out += b"%x\r\n%s\r\n" % (len(body), body)
                if not more:
                    out += b"0\r\n\r\n"
            else:
                out += body
        if not more:
            self.complete = True
            if self.done is not None and not self.done.done():
                self.done.set_result(None)
        if out and not self.conn.lost:
            self.conn.transport.write(out)
            if more:
                await self.conn.drained()


class HttpProtocol(asyncio.Protocol):
    """One client connection: parse requests, run the app on them one at a time, answer in order."""

    def __init__(self, server: HttpServer) -> None:
        self.server = server
        self.loop = server.loop
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.client: tuple[str, int] | None = None
        self.local: tuple[str, int] | None = None
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.body_size = 0
        self.too_large = False
        self.pending: deque[_Request] = deque()
        self.busy = False
        self.lost = False
        self.paused = False
        self.waiters: set[asyncio.Future[None]] = set()
        self.writable: asyncio.Event | None = None
        self.last_active = 0.0

    # -- connection events --

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # noqa: D102 - asyncio callback
        self.transport = transport  # type: ignore[assignment]  # uvloop's transports are not subclasses
        peer = transport.get_extra_info("peername")
        local = transport.get_extra_info("sockname")
        self.client = (str(peer[0]), int(peer[1])) if isinstance(peer, tuple) else None
        self.local = (str(local[0]), int(local[1])) if isinstance(local, tuple) else None
        self.server.connections.add(self)
        self.last_active = self.loop.time()

    def connection_lost(self, exc: Exception | None) -> None:  # noqa: D102 - asyncio callback
        self.lost = True
        self.server.connections.discard(self)
        for w in self.waiters:
            if not w.done():
                w.set_result(None)
        if self.writable is not None:
            self.writable.set()

    def data_received(self, data: bytes) -> None:  # noqa: D102 - asyncio callback
        self.last_active = self.loop.time()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._refuse(400, "protocol upgrades are not supported")
        except httptools.HttpParserError as exc:
            self._refuse(400, f"malformed HTTP request: {exc}")

    def pause_writing(self) -> None:  # noqa: D102 - asyncio callback
        self.writable = asyncio.Event()

    def resume_writing(self) -> None:  # noqa: D102 - asyncio callback
        if self.writable is not None:
            self.writable.set()
            self.writable = None

    async def drained(self) -> None:
        """Wait while the client is slower than a streaming response."""
        if self.writable is not None:
            await self.writable.wait()

    # -- parser callbacks (httptools) --

    def on_message_begin(self) -> None:  # noqa: D102 - parser callback
        self.url = b""
        self.headers = []
        self.body = []
        self.body_size = 0
        self.too_large = False

    def on_url(self, url: bytes) -> None:  # noqa: D102 - parser callback
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:  # noqa: D102 - parser callback
        name = name.lower()
        if name == b"content-length" and value.strip().isdigit() and int(value) > self.server.max_body_bytes:
            self.too_large = True
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:  # noqa: D102 - parser callback
        if self.busy or self.pending:
            return  # answered in turn; a pipelining client does not wait for 100 Continue
        if self.too_large:
            # Declared too large: answer before the body is sent rather than read and drop it.
            self._refuse(413, f"request body over {self.server.max_body_bytes} bytes")
            return
        for name, value in self.headers:
            if name == b"expect" and value.lower() == b"100-continue":
                self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:  # noqa: D102 - parser callback
        self.body_size += len(body)
        if self.body_size > self.server.max_body_bytes:
            self.too_large = True
            self.body = []
            if not self.busy and not self.pending:
                self._refuse(413, f"request body over {self.server.max_body_bytes} bytes")
        elif not self.too_large:
            self.body.append(body)

    def on_message_complete(self) -> None:  # noqa: D102 - parser callback
        try:
            parts = httptools.parse_url(self.url)
        except httptools.HttpParserInvalidURLError:
            self._refuse(400, "malformed request target")
            return
        raw_path = parts.path or b"/"
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": _ASGI,
            "http_version": self.parser.get_http_version(),
            "server": self.local,
            "client": self.client,
            "scheme": "http",
            "method": self.parser.get_method().decode("ascii"),
            "root_path": "",
            "path": unquote(raw_path.decode("latin-1")),
            "raw_path": raw_path,
            "query_string": parts.query or b"",
            "headers": self.headers,
        }
        if self.server.state is not None:
            scope["state"] = self.server.state.copy()
        body = self.body[0] if len(self.body) == 1 else b"".join(self.body)
        self.pending.append(_Request(scope, body, self.parser.should_keep_alive(), self.too_large))
        if len(self.pending) > _MAX_PENDING and not self.paused:
            self.paused = True
            self.transport.pause_reading()
        self._next()

    # -- answering --

    def _next(self) -> None:
        if self.busy or self.lost:
            return
        if not self.pending:
            if self.server.stopping:
                self.transport.close()
            else:
                self.last_active = self.loop.time()
            return
        req = self.pending.popleft()
        if self.paused and len(self.pending) <= _MAX_PENDING // 2:
            self.paused = False
            self.transport.resume_reading()
        if req.too_large:
            # The body was read and dropped; close so a client that sent more than it declared
            # cannot smuggle it in as another request.
            self._refuse(413, f"request body over {self.server.max_body_bytes} bytes")
            return
        self.busy = True
        self.server.in_flight += 1
        fast = self.server.fast
        if fast is not None:
            answered = False

            def reply(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
                nonlocal answered
                if answered:
                    raise RuntimeError("a request answered twice")
                answered = True
                self._reply(req, status, headers, body)

            try:
                if fast(req.scope, req.body, reply):
                    return
            except Exception:
                log.exception("the app failed on %s %s", req.scope["method"], req.scope["path"])
                if not answered:
                    self._reply(
                        req, 500, [(b"content-type", b"text/plain; charset=utf-8")], b"internal server error"
                    )
                return
        self.loop.create_task(self._run(req))

    def _reply(self, req: _Request, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        """Write a whole answer from the fast path, then go on to the next request."""
        self.server.in_flight -= 1
        self.busy = False
        if self.lost:
            return
        head = _head(status, [(b"content-length", b"%d" % len(body)), *headers], self.closing(req))
        self.transport.write(head if req.scope["method"] == "HEAD" else head + body)
        self._finished(req)

    def closing(self, req: _Request) -> bool:
        """Whether the connection closes after answering ``req``."""
        return not req.keep_alive or self.server.stopping

    def _finished(self, req: _Request) -> None:
        """After a whole answer: close if the exchange asked for it, else go on to the next request."""
        if self.closing(req):
            self.transport.close()
        else:
            self._next()

    async def _run(self, req: _Request) -> None:
        cycle = _Cycle(self, req)
        try:
            await self.server.app(req.scope, cycle.receive, cycle.send)
        except Exception:
            log.exception("the app failed on %s %s", req.scope["method"], req.scope["path"])
        finally:
            self.server.in_flight -= 1
            self.busy = False
        if not cycle.complete:
            if not cycle.started and not self.lost:
                self._refuse(500, "internal server error")
            else:
                self.transport.close()  # a response cut short cannot be completed
            return
        self._finished(req)

    def _refuse(self, status: int, text: str) -> None:
        if not self.lost:
            self.transport.write(_plain(status, text))
            self.transport.close()
        self.lost = True

    # -- idle connections --

    def close_if_idle_since(self, cutoff: float) -> None:
        """Close a keep-alive connection with nothing to answer and no data since ``cutoff``."""
        if self.last_active < cutoff and not self.busy and not self.pending and not self.lost:
            self.transport.close()

    def close_if_idle(self) -> None:
        """Close now unless a request is being answered (shutdown)."""
        if not self.busy and not self.pending and not self.lost:
            self.transport.close()


class LifespanError(RuntimeError):
    """The app's start-up (or shutdown) handler failed."""


class _Lifespan:
    """The ASGI lifespan protocol: start-up before serving, shutdown after."""

    def __init__(self, app: ASGIApp, loop: asyncio.AbstractEventLoop) -> None:
        self.app = app
        self.loop = loop
        self.state: dict[str, Any] = {}
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.answers: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None
        self.supported = True

    async def _main(self) -> None:
        scope = {"type": "lifespan", "asgi": _ASGI, "state": self.state}
        try:
            await self.app(scope, self.inbox.get, self.answers.put)
        except Exception as exc:
            await self.answers.put({"type": "error", "message": repr(exc)})
        else:
            await self.answers.put({"type": "returned"})

    async def _ask(self, what: str) -> None:
        await self.inbox.put({"type": f"lifespan.{what}"})
        answer = await self.answers.get()
        if answer["type"] == f"lifespan.{what}.complete":
            return
        if answer["type"] == "returned" and what == "startup":
            self.supported = False  # an app that ignores lifespan events
            return
        if answer["type"] == "error" and what == "startup":
            # An app that raises on the lifespan scope does not speak it, as uvicorn's "auto" treats it.
            log.info("the app does not support the ASGI lifespan protocol: %s", answer.get("message"))
            self.supported = False
            return
        raise LifespanError(f"{what} failed: {answer.get('message', answer['type'])}")

    async def startup(self) -> None:
        """Run the app's start-up; LifespanError when it fails."""
        self.task = self.loop.create_task(self._main())
        await self._ask("startup")

    async def shutdown(self) -> None:
        """Run the app's shutdown (if it took part in start-up)."""
        if self.supported:
            await self._ask("shutdown")
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self.task, 5)


class HttpServer:
    """Serves one ASGI app on a listening socket until ``stop`` (or SIGINT/SIGTERM in ``serve``)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int = 4 << 20,
        keep_alive_s: float = 5.0,
        graceful_s: float = 30.0,
    ) -> None:
        self.app = app
        # An app may answer some requests itself, with no ASGI round: handle_fast(scope, body, reply)
        # returns False for a request it leaves to ASGI, else calls reply(status, headers, body) once.
        self.fast: FastHandler | None = getattr(app, "handle_fast", None)
        self.max_body_bytes = max_body_bytes
        self.keep_alive_s = keep_alive_s
        self.graceful_s = graceful_s
        self.loop: asyncio.AbstractEventLoop = None  # type: ignore[assignment]
        self.connections: set[HttpProtocol] = set()
        self.in_flight = 0
        self.stopping = False
        self.state: dict[str, Any] | None = None
        self.ready = threading.Event()  # set once accepting (tests and embedders wait on it)
        self._stop: asyncio.Event | None = None
        self.port: int | None = None

    def stop(self) -> None:
        """Stop accepting, finish requests in flight, close; safe from a signal handler or another thread."""
        if self._stop is not None and self.loop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.keep_alive_s / 2))
            cutoff = self.loop.time() - self.keep_alive_s
            for conn in list(self.connections):
                conn.close_if_idle_since(cutoff)

    async def serve(self, sock: socket.socket, install_signals: bool = True) -> None:
        """Run the lifespan start-up, serve ``sock`` until stopped, then shut down gracefully."""
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        lifespan = _Lifespan(self.app, self.loop)
        await lifespan.startup()
        self.state = lifespan.state if lifespan.state else None
        server = await self.loop.create_server(lambda: HttpProtocol(self), sock=sock, backlog=2048)
        self.port = sock.getsockname()[1] if sock.family in (socket.AF_INET, socket.AF_INET6) else None
        if install_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    self.loop.add_signal_handler(sig, self._stop.set)
        # Keep-alive timeouts are swept once a second: a timer per request costs more than that.
        sweeper = self.loop.create_task(self._sweep())
        self.ready.set()
        try:
            await self._stop.wait()
        finally:
            sweeper.cancel()
            self.stopping = True
            server.close()
            for conn in list(self.connections):
                conn.close_if_idle()
            deadline = time.monotonic() + self.graceful_s
            while (self.connections or self.in_flight) and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            for conn in list(self.connections):
                conn.transport.abort()
            await server.wait_closed()
            await lifespan.shutdown()
            if install_signals:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                        self.loop.remove_signal_handler(sig)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket, shared by every worker process."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    sock.setblocking(False)
    return sock


def _run_loop(coro: Awaitable[None]) -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency where it builds (not Windows)
        asyncio.run(coro)  # type: ignore[arg-type]
        return
    uvloop.run(coro)  # type: ignore[arg-type]


def run(app: ASGIApp, sock: socket.socket, *, max_body_bytes: int = 4 << 20) -> None:
    """Serve ``app`` on ``sock`` in this process until SIGINT/SIGTERM."""
    _run_loop(HttpServer(app, max_body_bytes=max_body_bytes).serve(sock))


def _load(factory: str) -> ASGIApp:
    module, _, name = factory.partition(":")
    return getattr(importlib.import_module(module), name)()


def _worker(factory: str, sock: socket.socket, max_body_bytes: int) -> None:
    # The parent handles Ctrl-C for the group; a worker stops on the SIGTERM it sends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"
    )
    _run_loop(_serve_worker(factory, sock, max_body_bytes))


async def _serve_worker(factory: str, sock: socket.socket, max_body_bytes: int) -> None:
    server = HttpServer(_load(factory), max_body_bytes=max_body_bytes)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, server.stop)
    await server.serve(sock, install_signals=False)


def run_workers(factory: str, sock: socket.socket, workers: int, *, max_body_bytes: int = 4 << 20) -> int:
    """Serve the app that ``factory`` ("module:function") builds in ``workers`` processes sharing ``sock``.

    A worker that dies is restarted (one that dies within a second of starting, five times in a
    row, stops the service). SIGINT or SIGTERM stops every worker gracefully. Returns an exit status.
    """
    ctx = multiprocessing.get_context("spawn")
    procs: dict[int, tuple[multiprocessing.process.BaseProcess, float]] = {}
    stopping = False
    quick_deaths = 0

    def start(slot: int) -> None:
        p = ctx.Process(
            target=_worker, args=(factory, sock, max_body_bytes), name=f"distillguard-worker-{slot}"
        )
        p.start()
        procs[slot] = (p, time.monotonic())

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for slot in range(workers):
            start(slot)
        while not stopping:
            time.sleep(0.2)
            for slot, (p, born) in list(procs.items()):
                if p.is_alive() or stopping:
                    continue
                quick_deaths = quick_deaths + 1 if time.monotonic() - born < 1.0 else 0
                log.warning("worker %s exited with %s; restarting it", p.pid, p.exitcode)
                if quick_deaths >= 5:
                    log.error("workers keep dying at start-up; stopping")
                    stopping = True
                    break
                start(slot)
    finally:
        for p, _ in procs.values():
            if p.is_alive() and p.pid is not None:
                os.kill(p.pid, signal.SIGTERM)
        for p, _ in procs.values():
            p.join(60)
            if p.is_alive():
                p.kill()
                p.join()
        for s, h in old.items():
            signal.signal(s, h)
        sock.close()
    return 1 if quick_deaths >= 5 else 0
