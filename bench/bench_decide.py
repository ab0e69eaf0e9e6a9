"""Benchmark the online decision service: added latency at a fixed request rate, throughput per core,
and memory per million tracked accounts.

1. Latency: starts ``distillguard serve --state redis://... --workers N`` as a child process on a
   free loopback port (Redis state, SQLite enforcement, the shipped policy), for each N of
   ``--workers`` (default 1 and 2), then sends ``POST /v1/decide`` at a fixed open-loop rate
   (default 1,000 and 5,000 requests/s) for ``--seconds`` each, with real prompts from the packaged
   corpora over 10,000 accounts. Reports the achieved rate and the client-observed p50/p99 round
   trip, plus the server's own decide time (its /metrics histogram). The load is bounded in count
   (rate x seconds) and time, and targets 127.0.0.1 only. The service caches nothing per text, so
   a prompt sent twice costs what a new one does.
2. Throughput per core: ``DecisionEngine.decide_many`` in one thread with Redis state, in batches
   of 1, 8 and 32 requests (the service's micro-batches), CPU time per decision.
3. Memory per million tracked accounts: in-process window state (RSS growth while tracking 1M
   accounts) and Redis (used_memory growth for 20,000 accounts, scaled to 1M; keys removed after).

The load generator runs on the same machine as the service and Redis, so on a small machine it
takes CPU from them: compare figures from one run, and read them with ``nproc`` in mind.

    python bench/bench_decide.py                      # 1 and 2 workers; 1k and 5k req/s, 5 s each
    python bench/bench_decide.py --rates 1000 --seconds 3 --workers 1 --redis redis://127.0.0.1:6379/0
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any

import httpx
import numpy as np
import redis

from distillguard.respond.decision import DecideRequest, DecisionEngine
from distillguard.respond.enforcement import EnforcementStore
from distillguard.respond.policy import default_policy
from distillguard.respond.state import MemoryState, RedisState
from distillguard.simulate.corpora import load_corpora


def _prompts(n: int, seed: int = 0) -> list[list[dict[str, str]]]:
    """``n`` requests: real corpus prompts, each under one of three system prompts (or none)."""
    rng = random.Random(seed)
    c = load_corpora()
    pool = [p.text for name in sorted(c.prompts) for p in c.prompts[name]]
    systems = ["You are a helpful assistant.", "You are a careful math tutor. Think step by step.", ""]
    out = []
    for _ in range(n):
        s = rng.choice(systems)
        msgs = [{"role": "system", "content": s}] if s else []
        out.append([*msgs, {"role": "user", "content": rng.choice(pool)[:2000]}])
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _quantiles(xs: list[float]) -> tuple[float, float]:
    a = np.asarray(xs) * 1e3
    return float(np.percentile(a, 50)), float(np.percentile(a, 99))


async def _load(
    port: int, rate: int, seconds: float, bodies: list[bytes], connections: int = 64
) -> tuple[list[float], int, int, float]:
    """Paced load over ``connections`` keep-alive HTTP/1.1 connections with a minimal hand-written
    client (httpx costs more CPU per request than the service does). Request i is due at i / rate;
    its latency runs from when it was due, so queueing behind a saturated service is counted
    (no coordinated omission). Requests more than 1 s overdue are shed and counted. Bounded: at most
    rate x seconds requests, and the run is cut off at 2 x seconds + 10 s."""
    total = int(rate * seconds)
    latencies: list[float] = []
    errors = shed = 0
    next_i = 0
    start = time.perf_counter() + 0.05

    async def conn() -> None:
        nonlocal next_i, errors, shed
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while next_i < total:
                i = next_i
                next_i += 1
                due = start + i / rate
                now = time.perf_counter()
                if due > now:
                    await asyncio.sleep(due - now)
                elif now - due > 1.0:
                    shed += 1
                    continue
                body = bodies[i % len(bodies)]
                writer.write(
                    b"POST /v1/decide HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
                    b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                if head.startswith(b"HTTP/1.1 200"):
                    latencies.append(time.perf_counter() - due)
                else:
                    errors += 1
        finally:
            writer.close()

    try:
        await asyncio.wait_for(
            asyncio.gather(*(conn() for _ in range(connections))), timeout=seconds * 2 + 10
        )
    except TimeoutError:
        errors += total - len(latencies) - shed - errors
    return latencies, errors, shed, time.perf_counter() - start


def _cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by a process and its live children (uvicorn's workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == pid or int(fields[1]) == pid:  # fields[1] is the parent pid
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _redis_cpu(client: redis.Redis) -> float:
    """CPU seconds the Redis server has used so far."""
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def _server_decide_seconds(url: str) -> tuple[float, float]:
    """Mean decide time from the server's histogram (sum / count)."""
    text = httpx.get(f"{url}/metrics").text
    vals = {}
    for line in text.splitlines():
        for name in ("distillguard_decision_seconds_sum", "distillguard_decision_seconds_count"):
            if line.startswith(name + " "):
                vals[name] = float(line.split()[1])
    return vals.get("distillguard_decision_seconds_sum", 0.0), vals.get(
        "distillguard_decision_seconds_count", 0.0
    )


def _run_loop(coro: Any) -> Any:
    # uvloop when installed: the load generator then needs about half the CPU per request, which on
    # a small machine is CPU the service under test gets back.
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


def bench_latency(redis_url: str, rates: list[int], seconds: float, workers: int) -> None:
    port = _free_port()
    db = os.path.join(tempfile.mkdtemp(prefix="dg-bench-"), "enf.db")
    cmd = [
        sys.executable,
        "-m",
        "distillguard.cli",
        "serve",
        "--state",
        redis_url,
        "--db",
        f"sqlite:///{db}",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--timeout-ms",
        "1000",
        "--workers",
        str(workers),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("decision service did not start")
            time.sleep(0.5)
        import orjson

        rng = random.Random(1)
        bodies = [
            orjson.dumps({"account_id": f"acct_bench_{rng.randrange(10_000)}", "messages": m})
            for m in _prompts(max(int(max(rates) * seconds), 1000))
        ]
        _run_loop(_load(port, 200, 2.0, bodies))  # warm up connections and code paths
        rclient = redis.Redis.from_url(redis_url)
        print(
            f"decision latency, POST /v1/decide over loopback, Redis state ({redis_url}), {workers} worker(s):"
        )
        for rate in rates:
            # The load generator is Python too: freeze what it holds (the request bodies, the
            # corpora) so that a full collection cannot pause it mid-run and count as latency.
            gc.collect()
            gc.freeze()
            s0, c0 = _server_decide_seconds(url)
            cpu0, gen0, red0 = _cpu_seconds(proc.pid), time.process_time(), _redis_cpu(rclient)
            lat, errors, shed, elapsed = _run_loop(_load(port, rate, seconds, bodies))
            cpu = _cpu_seconds(proc.pid) - cpu0
            gen, red = time.process_time() - gen0, _redis_cpu(rclient) - red0
            s1, c1 = _server_decide_seconds(url)
            p50, p99 = _quantiles(lat)
            server_ms = (s1 - s0) / max(c1 - c0, 1) * 1e3
            print(
                f"  offered {rate:>5}/s for {seconds:g}s: achieved {len(lat) / elapsed:,.0f}/s, "
                f"p50 {p50:.2f} ms, p99 {p99:.2f} ms (from when due), server decide mean {server_ms:.2f} ms, "
                f"shed {shed} (over 1 s late), errors {errors}; CPU in cores: service {cpu / elapsed:.2f} "
                f"({cpu / max(len(lat), 1) * 1e6:,.0f} µs per decision), load generator {gen / elapsed:.2f}, "
                f"Redis {red / elapsed:.2f}"
            )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def bench_throughput(redis_url: str, n: int) -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # as tune_for_serving does in the service
    prefix = f"dgbench:{uuid.uuid4().hex[:8]}:"
    state = RedisState(redis_url, prefix=prefix, timeout_s=1.0)
    engine = DecisionEngine(default_policy(), state, EnforcementStore("sqlite://"))
    prompts = _prompts(n, seed=2)
    reqs = [DecideRequest(f"acct_{i % 5000}", m) for i, m in enumerate(prompts)]
    engine.decide_many(reqs[:200])
    print(
        f"throughput per core, DecisionEngine.decide_many with Redis state, {n:,} decisions per batch size:"
    )
    for size in (1, 8, 32):
        cpu0, t0 = time.process_time(), time.perf_counter()
        for i in range(0, n, size):
            engine.decide_many(reqs[i : i + size])
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
        print(
            f"  batches of {size:>2}: {n / cpu:,.0f} decisions per CPU-second "
            f"({cpu / n * 1e6:,.0f} µs CPU, {wall / n * 1e6:,.0f} µs wall each)"
        )
    for key in state.client.scan_iter(f"{prefix}*", count=1000):
        state.client.delete(key)
    state.close()


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def bench_memory(redis_url: str) -> None:
    state = MemoryState()
    before = _rss_mib()
    now = time.time()
    for i in range(1_000_000):
        state.record(f"acct_{i:016x}", now, i % 3 == 0)
    after = _rss_mib()
    print(
        f"memory, in-process window state: {after - before:,.0f} MiB per 1M tracked accounts "
        f"(peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB)"
    )
    prefix = f"dgbench:{uuid.uuid4().hex[:8]}:"
    rs = RedisState(redis_url, prefix=prefix, timeout_s=2.0)
    used0 = rs.client.info("memory")["used_memory"]
    n = 20_000
    pipe = rs.client.pipeline(transaction=False)
    for i in range(n):
        # The same hash layout the window script writes: one field per live slot and counter.
        pipe.hset(f"{prefix}w:acct_{i:016x}", mapping={f"r{int(now // 7.5)}": 1, f"e{int(now // 7.5)}": 1})
        pipe.expire(f"{prefix}w:acct_{i:016x}", 120)
        if i % 1000 == 999:
            pipe.execute()
    pipe.execute()
    used1 = rs.client.info("memory")["used_memory"]
    print(
        f"memory, Redis window state: {(used1 - used0) / n * 1e6 / 2**20:,.0f} MiB per 1M tracked accounts "
        f"(measured on {n:,} accounts, one live slot each)"
    )
    for key in rs.client.scan_iter(f"{prefix}*", count=1000):
        rs.client.delete(key)
    rs.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    ap.add_argument("--rates", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="decision service worker processes (each run)"
    )
    ap.add_argument("--throughput-n", type=int, default=3000)
    ap.add_argument("--skip", nargs="*", default=[], choices=["latency", "throughput", "memory"])
    args = ap.parse_args()
    if not args.redis.startswith("redis://127.0.0.1") and not args.redis.startswith("redis://localhost"):
        raise SystemExit("--redis must be on loopback")
    redis.Redis.from_url(args.redis).ping()
    print(f"{os.cpu_count()} CPUs; python {sys.version.split()[0]}")
    if "throughput" not in args.skip:
        bench_throughput(args.redis, args.throughput_n)
    if "memory" not in args.skip:
        bench_memory(args.redis)
    if "latency" not in args.skip:
        for workers in args.workers:
            bench_latency(args.redis, args.rates, args.seconds, workers)


if __name__ == "__main__":
    main()
