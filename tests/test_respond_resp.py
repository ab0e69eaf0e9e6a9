"""The lean asyncio Redis connection (respond/resp.py): against real Redis servers and broken peers."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator

import hiredis
import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

from distillguard.respond.resp import ReplyError, RespConnection, Script, pack

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


needs_redis = pytest.mark.skipif(not _redis_up(), reason="no Redis server on 127.0.0.1:6379")

ECHO = Script("return {#KEYS, ARGV[1], ARGV[2], redis.call('INCRBY', KEYS[1], tonumber(ARGV[1]))}")


@given(
    st.lists(
        st.one_of(st.binary(max_size=40), st.text(max_size=40), st.integers(-(2**63), 2**63 - 1)), max_size=8
    )
)
def test_pack_is_a_resp_array_of_bulk_strings(parts: list[bytes | str | int]) -> None:
    reader = hiredis.Reader()
    reader.feed(pack(["ECHO", *parts]))
    want = [b"ECHO"] + [
        p if isinstance(p, bytes) else str(p).encode() if isinstance(p, int) else p.encode() for p in parts
    ]
    assert reader.gets() == want


def test_pack_encodes_floats_as_redis_py_does() -> None:
    reader = hiredis.Reader()
    reader.feed(pack([0.1, 2.0, 1e-7]))
    assert reader.gets() == [repr(0.1).encode(), b"2.0", repr(1e-7).encode()]
    with pytest.raises(TypeError):
        pack([True])


@needs_redis
def test_scripts_run_and_are_reloaded_after_a_script_flush() -> None:
    key = f"dgtest:resp:{uuid.uuid4().hex}"

    async def main() -> list[object]:
        conn = RespConnection(REDIS_URL, timeout_s=2.0)
        first = await conn.evalsha(ECHO, [key], [5, "x"])
        redis.Redis.from_url(REDIS_URL).script_flush()  # the server forgets every script
        second = await conn.evalsha(ECHO, [key], [2, "y"])
        many = await asyncio.gather(*(conn.evalsha(ECHO, [key], [1, str(i)]) for i in range(50)))
        conn.close()
        return [first, second, many, conn.connects]

    first, second, many, connects = asyncio.run(main())
    assert first == [1, b"5", b"x", 5] and second == [1, b"2", b"y", 7]
    # Fifty commands pipelined on one connection, each answered to its own caller.
    assert [m[2] for m in many] == [str(i).encode() for i in range(50)] and many[-1][3] == 57
    assert connects == 1
    redis.Redis.from_url(REDIS_URL).delete(key)


@needs_redis
def test_error_replies_raise_and_the_connection_goes_on() -> None:
    async def main() -> tuple[str, object]:
        conn = RespConnection(REDIS_URL, timeout_s=2.0)
        with pytest.raises(ReplyError) as info:
            await conn.evalsha(Script("return redis.call('NOSUCHCOMMAND')"), [], [])
        after = await conn.execute("PING")
        conn.close()
        return str(info.value), after

    message, after = asyncio.run(main())
    assert "Unknown" in message or "unknown" in message
    assert after == b"PONG"


@pytest.fixture
def password_redis() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--requirepass",
            "s3cret",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=port, password="s3cret").ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def test_password_and_database_from_the_url(password_redis: str) -> None:
    async def main() -> tuple[object, str]:
        conn = RespConnection(f"redis://:s3cret@{password_redis}/3", timeout_s=2.0)
        await conn.execute("SET", "k", "in-db-3")
        got = await conn.execute("GET", "k")
        conn.close()
        wrong = RespConnection(f"redis://:nope@{password_redis}/0", timeout_s=2.0)
        with pytest.raises(ReplyError) as info:
            await wrong.execute("PING")
        return got, str(info.value)

    got, refused = asyncio.run(main())
    assert got == b"in-db-3"
    host, port = password_redis.split(":")
    assert redis.Redis(host=host, port=int(port), password="s3cret", db=3).get("k") == b"in-db-3"
    assert redis.Redis(host=host, port=int(port), password="s3cret", db=0).get("k") is None
    assert "WRONGPASS" in refused or "invalid" in refused


async def _peer(behaviour: str) -> tuple[asyncio.base_events.Server, int, list[int]]:
    """A fake Redis: 'silent' never answers; 'hangup' closes on the first command, then answers PONG."""
    seen: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(1)
        data = await reader.read(1024)
        if behaviour == "hangup" and len(seen) == 1:
            writer.close()
            return
        if behaviour == "silent":
            await asyncio.sleep(10)
            return
        while data:
            writer.write(b"+PONG\r\n" * data.count(b"PING"))
            await writer.drain()
            data = await reader.read(1024)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], seen


def test_a_command_past_its_deadline_fails_and_the_next_reconnects() -> None:
    async def main() -> tuple[float, int]:
        server, port, seen = await _peer("silent")
        conn = RespConnection(f"redis://127.0.0.1:{port}/0", timeout_s=0.2)
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await conn.execute("PING")
        took = time.monotonic() - started
        with pytest.raises(TimeoutError):
            await conn.execute("PING")  # a fresh connection, also unanswered
        conn.close()
        server.close()
        return took, len(seen)

    took, connections = asyncio.run(main())
    assert 0.15 < took < 1.5
    assert connections == 2


def test_a_lost_connection_fails_its_commands_and_the_next_reconnects() -> None:
    async def main() -> tuple[object, int]:
        server, port, seen = await _peer("hangup")
        conn = RespConnection(f"redis://127.0.0.1:{port}/0", timeout_s=2.0)
        with pytest.raises(ConnectionError):
            await conn.execute("PING")
        again = await conn.execute("PING")
        conn.close()
        server.close()
        return again, len(seen)

    again, connections = asyncio.run(main())
    assert again == b"PONG" and connections == 2


def test_nothing_listening_is_a_connection_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def main() -> None:
        conn = RespConnection(f"redis://127.0.0.1:{port}/0", timeout_s=1.0)
        with pytest.raises(OSError):
            await conn.execute("PING")

    asyncio.run(main())
