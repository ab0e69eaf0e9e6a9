"""A lean asyncio Redis connection for the decision service's per-batch scripts.

Every micro-batch of decisions makes one or two Redis round trips (the window script, then the
token buckets). ``bench/bench_decide.py`` measured redis-py's asyncio client at about 230 µs of
CPU per call on the service's event loop, against about 75 µs for the same EVALSHA written and read
by a bare protocol; at thousands of batches a second that difference is a large share of a core.
This module is that bare protocol: RESP2 over one connection per event loop, replies parsed by
hiredis, commands pipelined (replies are matched to callers in order), and nothing else.

It speaks what ``RedisState`` needs: EVALSHA (reloading a script the server has forgotten), AUTH
and SELECT from the URL (``redis://[[user]:password@]host[:port][/db]``, ``rediss://`` for TLS with
the system's CA store, ``unix:///path?db=N``), and a per-command deadline. A command past its
deadline, or a lost connection, fails every command in flight on that connection with
``TimeoutError`` or ``ConnectionError``; the next command opens a fresh connection. The
synchronous calls and the administrative paths keep redis-py.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections import deque
from collections.abc import Sequence
from typing import Any

import hiredis
from redis.connection import parse_url

Arg = str | bytes | int | float


class ReplyError(Exception):
    """An error reply from the server (``-ERR ...``)."""


class Script:
    """A Lua script known by its SHA-1, as EVALSHA addresses it."""

    def __init__(self, source: str) -> None:
        self.source = source.encode()
        self.sha = hashlib.sha1(self.source).hexdigest().encode()  # noqa: S324 - Redis names scripts by SHA-1


def _arg(value: Arg) -> bytes:
    # Encoded as redis-py encodes them, so both clients send the scripts the same numbers.
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bool):
        raise TypeError("a bool is not a Redis argument")
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, float):
        return repr(value).encode()
    raise TypeError(f"not a Redis argument: {type(value).__name__}")


def pack(parts: Sequence[Arg]) -> bytes:
    """One command in RESP: an array of bulk strings."""
    out = [b"*%d\r\n" % len(parts)]
    for p in parts:
        b = _arg(p)
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.reader = hiredis.Reader()
        self.pending: deque[asyncio.Future[Any]] = deque()
        self.transport: asyncio.Transport | None = None
        self.lost: Exception | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.reader.feed(data)
            while True:
                reply = self.reader.gets()
                if reply is False:
                    return
                if not self.pending:
                    raise hiredis.ProtocolError("a reply that no command asked for")
                fut = self.pending.popleft()
                if fut.done():
                    continue  # its caller gave up (deadline); the reply is dropped
                if isinstance(reply, hiredis.ReplyError):
                    fut.set_exception(ReplyError(str(reply)))
                else:
                    fut.set_result(reply)
        except hiredis.ProtocolError as exc:
            self.fail(ConnectionError(f"Redis protocol error: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(ConnectionError(f"Redis connection lost: {exc}" if exc else "Redis connection closed"))

    def fail(self, exc: Exception) -> None:
        """Fail every command in flight and close: their replies can no longer be matched."""
        if self.lost is None:
            self.lost = exc
        while self.pending:
            fut = self.pending.popleft()
            if not fut.done():
                fut.set_exception(exc)
        if self.transport is not None:
            self.transport.abort()


class RespConnection:
    """One Redis connection on one event loop, opened on first use and after any failure."""

    def __init__(self, url: str, timeout_s: float) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self._options = parse_url(url)
        self._proto: _Protocol | None = None
        self._connecting: asyncio.Future[_Protocol] | None = None
        self.connects = 0

    async def _open(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        o = self._options
        if o.get("path"):
            _, proto = await loop.create_unix_connection(_Protocol, o["path"])
        else:
            tls = None
            if self.url.startswith("rediss://"):
                tls = ssl.create_default_context()
            _, proto = await loop.create_connection(
                _Protocol, o.get("host", "localhost"), int(o.get("port", 6379)), ssl=tls
            )
        handshake: list[list[Arg]] = []
        if o.get("password") is not None:
            handshake.append(
                ["AUTH", o["username"], o["password"]] if o.get("username") else ["AUTH", o["password"]]
            )
        if int(o.get("db") or 0):
            handshake.append(["SELECT", int(o["db"])])
        try:
            for cmd in handshake:
                await self._send(proto, cmd)
        except Exception:
            proto.fail(ConnectionError("Redis handshake failed"))
            raise
        self.connects += 1
        return proto

    async def _connection(self) -> _Protocol:
        proto = self._proto
        if proto is not None and proto.lost is None:
            return proto
        if self._connecting is None:
            self._connecting = asyncio.ensure_future(asyncio.wait_for(self._open(), self.timeout_s))
        connecting = self._connecting
        try:
            proto = await asyncio.shield(connecting)
        except TimeoutError:
            raise TimeoutError(f"Redis connect timed out after {self.timeout_s:g} s") from None
        finally:
            if self._connecting is connecting and connecting.done():
                self._connecting = None
        self._proto = proto
        return proto

    async def _send(self, proto: _Protocol, parts: Sequence[Arg]) -> Any:
        if proto.lost is not None or proto.transport is None:
            raise proto.lost or ConnectionError("Redis connection closed")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        proto.pending.append(fut)
        proto.transport.write(pack(parts))
        timer = loop.call_later(self.timeout_s, _expire, proto, fut, self.timeout_s)
        try:
            return await fut
        finally:
            timer.cancel()

    async def execute(self, *parts: Arg) -> Any:
        """Send one command and return its reply (ReplyError for an error reply)."""
        return await self._send(await self._connection(), parts)

    async def evalsha(self, script: Script, keys: Sequence[Arg], args: Sequence[Arg]) -> Any:
        """Run a script by SHA-1; a server that does not know it yet gets its source (EVAL) once."""
        proto = await self._connection()
        tail = [len(keys), *keys, *args]
        try:
            return await self._send(proto, ["EVALSHA", script.sha, *tail])
        except ReplyError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
        return await self._send(proto, ["EVAL", script.source, *tail])

    def close(self) -> None:
        """Close the connection (commands in flight fail with ConnectionError)."""
        if self._proto is not None:
            self._proto.fail(ConnectionError("Redis connection closed by the client"))
            self._proto = None


def _expire(proto: _Protocol, fut: asyncio.Future[Any], timeout_s: float) -> None:
    if not fut.done():
        # A reply may still come for this command; with it unmatched every later reply would go to
        # the wrong caller, so the whole connection goes.
        proto.fail(TimeoutError(f"Redis did not answer within {timeout_s:g} s"))
