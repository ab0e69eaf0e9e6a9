"""Online window state: sliding-window semantics, token buckets, atomicity under parallel load, and
Redis going away mid-load (fail over to in-process state, alert, come back) against real servers."""

from __future__ import annotations

import math
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from distillguard.respond.state import FailoverState, MemoryState, RedisState
from respond_support import free_port

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_up(url: str = REDIS_URL) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


needs_redis = pytest.mark.skipif(not _redis_up(), reason="no Redis server on 127.0.0.1:6379")


@pytest.fixture
def redis_state() -> Iterator[RedisState]:
    prefix = f"dgtest:{uuid.uuid4().hex[:8]}:"
    state = RedisState(REDIS_URL, window_s=60, buckets=8, timeout_s=1.0, prefix=prefix)
    yield state
    for key in state.client.scan_iter(f"{prefix}*"):
        state.client.delete(key)
    state.close()


class Reference:
    """The documented semantics, written the slow obvious way: live slots are the last `buckets`."""

    def __init__(self, window_s: float, buckets: int) -> None:
        self.slot = window_s / buckets
        self.buckets = buckets
        self.events: dict[str, list[tuple[int, bool]]] = {}

    def record(self, account: str, now: float, extraction: bool) -> tuple[int, int]:
        b = math.floor(now / self.slot)
        self.events.setdefault(account, []).append((b, extraction))
        live = [e for bb, e in self.events[account] if b - self.buckets < bb <= b]
        return len(live), sum(live)


EVENTS = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c"]), st.floats(0, 30, allow_nan=False), st.booleans()),
    min_size=1,
    max_size=60,
)


@settings(deadline=None)
@given(events=EVENTS)
def test_memory_window_matches_the_reference(events: list[tuple[str, float, bool]]) -> None:
    state, ref = MemoryState(window_s=60, buckets=8), Reference(60, 8)
    now = 1_700_000_000.0
    for account, step, extraction in events:
        now += step  # time only moves forward
        got = state.record(account, now, extraction)
        assert (got.requests, got.extraction) == ref.record(account, now, extraction)


@needs_redis
@settings(max_examples=25, deadline=None)
@given(events=EVENTS)
def test_redis_window_matches_the_reference(events: list[tuple[str, float, bool]]) -> None:
    prefix = f"dgtest:{uuid.uuid4().hex[:8]}:"
    state, ref = RedisState(REDIS_URL, 60, 8, timeout_s=1.0, prefix=prefix), Reference(60, 8)
    now = 1_700_000_000.0
    try:
        for account, step, extraction in events:
            now += step
            got = state.record(account, now, extraction)
            assert (got.requests, got.extraction) == ref.record(account, now, extraction)
    finally:
        for key in state.client.scan_iter(f"{prefix}*"):
            state.client.delete(key)
        state.close()


def test_window_forgets_old_requests() -> None:
    state = MemoryState(window_s=60, buckets=6)
    t = 1_700_000_000.0
    for i in range(5):
        state.record("a", t + i, extraction=i % 2 == 0)
    assert state.record("a", t + 5, False).requests == 6
    later = state.record("a", t + 200, True)
    assert (later.requests, later.extraction) == (1, 1)


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_token_bucket_grants_burst_then_refills(backend: str, request: pytest.FixtureRequest) -> None:
    if backend == "redis" and not _redis_up():
        pytest.skip("no Redis server on 127.0.0.1:6379")
    state = MemoryState() if backend == "memory" else request.getfixturevalue("redis_state")
    t = 1_700_000_000.0
    assert [state.take("k", 0.5, 3, t) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = state.take("k", 0.5, 3, t)
    assert wait == pytest.approx(2.0)  # one token at 0.5/s
    assert state.take("k", 0.5, 3, t + 1.0) == pytest.approx(1.0)  # half a token accrued, not enough
    assert state.take("k", 0.5, 3, t + 2.5) == 0.0


def _hammer(state: object, account: str, threads: int, per_thread: int, now: float) -> list[int]:
    def work(_: int) -> list[int]:
        return [state.record(account, now, True).requests for _ in range(per_thread)]  # type: ignore[attr-defined]

    with ThreadPoolExecutor(threads) as pool:
        return [c for chunk in pool.map(work, range(threads)) for c in chunk]


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_parallel_load_loses_no_counter_updates(backend: str, request: pytest.FixtureRequest) -> None:
    if backend == "redis" and not _redis_up():
        pytest.skip("no Redis server on 127.0.0.1:6379")
    state = MemoryState() if backend == "memory" else request.getfixturevalue("redis_state")
    threads, per_thread = 8, 250
    seen = _hammer(state, "hot", threads, per_thread, 1_700_000_000.0)
    # Every increment is atomic with its read: each request saw a distinct count, and none is lost.
    assert sorted(seen) == list(range(1, threads * per_thread + 1))
    final = state.record("hot", 1_700_000_000.0, False)
    assert (final.requests, final.extraction) == (threads * per_thread + 1, threads * per_thread)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], int]]:
    """A Redis server of our own on a free port, so the test can take it away."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    cmd = [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(tmp_path),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while not _redis_up(url):
        if time.monotonic() > deadline:
            proc.kill()
            pytest.skip("could not start a private redis-server")
        time.sleep(0.05)
    yield url, proc, port
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=10)


def test_redis_loss_mid_load_fails_over_alerts_and_recovers(
    own_redis: tuple[str, subprocess.Popen[bytes], int], caplog: pytest.LogCaptureFixture
) -> None:
    url, proc, port = own_redis
    changes: list[str] = []
    state = FailoverState(
        RedisState(url, 60, 8, timeout_s=0.2),
        MemoryState(60, 8),
        retry_s=0.3,
        on_change=lambda backend, why: changes.append(backend),
    )
    now = 1_700_000_000.0
    errors: list[BaseException] = []
    done = threading.Event()
    counts: list[int] = []

    def load() -> None:
        while not done.is_set():
            try:
                counts.append(state.record("acct", now, False).requests)
                state.take("acct", 1000, 1000, now)
            except BaseException as exc:  # any exception escaping is a failure to fail open
                errors.append(exc)

    workers = [threading.Thread(target=load) for _ in range(4)]
    for w in workers:
        w.start()
    proc2: subprocess.Popen[bytes] | None = None
    try:
        time.sleep(0.3)
        assert state.backend == "redis"
        proc.kill()  # Redis goes away mid-load
        proc.wait()
        time.sleep(0.6)
        assert state.backend == "memory"
        assert changes[:1] == ["memory"] and "ALERT: Redis state unreachable" in caplog.text
        served_during_outage = len(counts)
        time.sleep(0.3)
        assert len(counts) > served_during_outage  # requests keep being answered from in-process state
        # Retries every 0.3 s kept failing during the outage, yet it raised one alert, not one per retry.
        assert changes == ["memory"] and state.failures >= 2
        # Redis comes back on the same port: the next retry moves state back onto it.
        proc2 = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while state.backend != "redis" or changes[-1] != "redis":
            assert time.monotonic() < deadline, "did not return to Redis"
            time.sleep(0.05)
    finally:
        done.set()
        for w in workers:
            w.join()
        state.close()
        if proc2 is not None:
            proc2.terminate()
            proc2.wait(timeout=10)
    assert not errors
    assert changes[-1] == "redis"


BATCHED_EVENTS = st.lists(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.floats(0, 20, allow_nan=False), st.booleans()),
        min_size=1,
        max_size=8,
    ),
    min_size=1,
    max_size=12,
)


def _batched_matches_reference(state: object, batches: list[list[tuple[str, float, bool]]]) -> None:
    ref = Reference(60, 8)
    now = 1_700_000_000.0
    for batch in batches:
        hits = []
        for account, step, extraction in batch:
            now += step
            hits.append((account, now, extraction))
        got = state.record_many(hits)  # type: ignore[attr-defined]
        # A batch counts exactly as its requests would one at a time, in order, repeats included.
        assert [(c.requests, c.extraction) for c in got] == [ref.record(*h) for h in hits]


@settings(deadline=None)
@given(batches=BATCHED_EVENTS)
def test_memory_batches_count_as_requests_one_at_a_time(batches: list[list[tuple[str, float, bool]]]) -> None:
    _batched_matches_reference(MemoryState(window_s=60, buckets=8), batches)


@needs_redis
@settings(max_examples=20, deadline=None)
@given(batches=BATCHED_EVENTS)
def test_redis_batches_count_as_requests_one_at_a_time(batches: list[list[tuple[str, float, bool]]]) -> None:
    prefix = f"dgtest:{uuid.uuid4().hex[:8]}:"
    state = RedisState(REDIS_URL, 60, 8, timeout_s=1.0, prefix=prefix)
    try:
        _batched_matches_reference(state, batches)
    finally:
        for key in state.client.scan_iter(f"{prefix}*"):
            state.client.delete(key)
        state.close()


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_batched_token_buckets_match_one_at_a_time(backend: str, request: pytest.FixtureRequest) -> None:
    if backend == "redis" and not _redis_up():
        pytest.skip("no Redis server on 127.0.0.1:6379")
    state = MemoryState() if backend == "memory" else request.getfixturevalue("redis_state")
    t = 1_700_000_000.0
    # Two keys interleaved in one batch: each draws on its own bucket, in order.
    waits = state.take_many(
        [("k1", 0.5, 2, t), ("k2", 1.0, 1, t), ("k1", 0.5, 2, t), ("k1", 0.5, 2, t), ("k2", 1.0, 1, t)]
    )
    assert waits[:3] == [0.0, 0.0, 0.0] and waits[3] == pytest.approx(2.0) and waits[4] == pytest.approx(1.0)
    assert state.take_many([]) == [] and state.record_many([]) == []


def test_idle_accounts_free_their_rows() -> None:
    state = MemoryState(window_s=60, buckets=6)
    t = 1_700_000_000.0
    state.record_many([(f"old{i}", t, False) for i in range(5000)])
    rows = len(state._ids)
    assert len(state) == 5000
    # Once the old accounts' windows have emptied, new accounts take their rows instead of growing.
    later = t + 3600
    counts = state.record_many([(f"new{i}", later, i % 2 == 0) for i in range(5000)])
    assert len(state._ids) == rows and len(state) == 5000
    assert all(c.requests == 1 for c in counts)
    # A returning account starts from an empty window, not from a reused row's leftovers.
    assert (state.record("old1", later, True).requests, state.record("new1", later, False).requests) == (1, 2)


def test_refilled_token_buckets_are_forgotten() -> None:
    state = MemoryState()
    t = 1_700_000_000.0
    state.take_many([(f"k{i}", 1.0, 5, t) for i in range(5000)])
    assert len(state._tokens) == 5000  # a bucket one token short of its burst still matters
    state.take_many([(f"j{i}", 1.0, 5, t + 10) for i in range(5000)])
    # Ten seconds on, every k bucket is full again and carries no information: only j buckets remain.
    assert all(k.startswith("j") for k in state._tokens)
