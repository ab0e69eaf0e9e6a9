"""Per-account sliding-window counters and token buckets, in process or in Redis.

The window is ``window_s`` seconds cut into ``buckets`` slots; a request adds one to its account's
current slot (and to the extraction slot when the classifier flagged it) and reads back the sum of
the live slots, all in one atomic step, so that parallel requests never lose an update. Both stores
take a whole batch of requests per call (``record_many``, ``take_many``), which is how the decision
service uses them: Redis does a batch as one Lua script over one hash per account (one round trip,
however many requests), and the in-process store does it under one lock on NumPy rows (about 200
bytes per tracked account with 8 slots; see ``bench/bench_decide.py``). The in-process store reuses
the rows of accounts whose window has emptied, so idle accounts do not grow it for ever.

Requests of one batch are applied in order, so a batch gives exactly the counts the same requests
would get one call at a time. The multi-key script needs every key on one Redis node: a single
server or a replicated primary, not Redis Cluster.

``FailoverState`` puts Redis first and the in-process store behind it: when Redis stops answering,
it raises an alert (log line, metric, ``backend`` reads ``memory``) and carries on in process,
trying Redis again every ``retry_s`` seconds. Counts made during the outage stay in process.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np

from distillguard.respond.resp import RespConnection, Script

log = logging.getLogger("distillguard.respond")

R = TypeVar("R")
Hit = tuple[str, float, bool]  # (account, now, extraction)
Take = tuple[str, float, float, float]  # (bucket key, rate per second, burst, now)


@dataclass(frozen=True)
class WindowCounts:
    """An account's requests, and extraction-flagged requests, in the sliding window."""

    requests: int
    extraction: int

    @property
    def extraction_share(self) -> float:
        """Extraction-flagged share of the window's requests."""
        return self.extraction / self.requests if self.requests else 0.0


class State(Protocol):
    """What the decision engine needs from online state."""

    backend: str

    def record_many(self, hits: Sequence[Hit]) -> list[WindowCounts]:
        """Count each ``(account, now, extraction)`` in order; return each one's window, atomically."""
        ...

    def take_many(self, takes: Sequence[Take]) -> list[float]:
        """Take one token per ``(key, rate, burst, now)``: 0.0 when granted, else seconds until one is free."""
        ...

    async def arecord_many(self, hits: Sequence[Hit]) -> list[WindowCounts]:
        """``record_many`` for an event loop."""
        ...

    async def atake_many(self, takes: Sequence[Take]) -> list[float]:
        """``take_many`` for an event loop."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...

    async def aclose(self) -> None:
        """Release connections, from the event loop that used the awaited calls."""
        ...


class _Single:
    """One-request conveniences over the batch calls."""

    def record(self, account: str, now: float, extraction: bool) -> WindowCounts:
        """Count one request of ``account`` at ``now`` and return the window's counts."""
        return self.record_many([(account, now, extraction)])[0]  # type: ignore[attr-defined,no-any-return]

    def take(self, key: str, rate: float, burst: float, now: float) -> float:
        """Take one token from ``key``'s bucket: 0.0 when granted, else seconds until one is free."""
        return self.take_many([(key, rate, burst, now)])[0]  # type: ignore[attr-defined,no-any-return]


class MemoryState(_Single):
    """In-process state: the default, and the fallback when Redis is away."""

    backend = "memory"

    def __init__(self, window_s: float = 60.0, buckets: int = 8) -> None:
        self.window_s = window_s
        self.buckets = buckets
        self.slot_s = window_s / buckets
        self._lock = threading.Lock()
        self._row: dict[str, int] = {}
        self._owner: list[str | None] = []  # account of each row; None for a free row
        self._free: list[int] = []
        cap = 1024
        self._ids = np.full((cap, buckets), -1, dtype=np.int64)
        self._counts = np.zeros((cap, 2, buckets), dtype=np.int32)
        self._tokens: dict[str, tuple[float, float, float, float]] = {}  # tokens, ts, rate, burst
        self._tokens_sweep = 4096
        self._latest = -(1 << 62)  # newest slot seen

    def __len__(self) -> int:
        return len(self._row)

    def _reclaim(self) -> int:
        """Free the rows of accounts with nothing left in the window; return how many rows are free."""
        used = len(self._owner)
        dead = np.flatnonzero(self._ids[:used].max(axis=1) <= self._latest - self.buckets)
        for row in dead.tolist():
            account = self._owner[row]
            if account is not None:
                del self._row[account]
                self._owner[row] = None
                self._free.append(row)
        return len(self._free)

    def _new_row(self, account: str) -> int:
        # When full, reuse idle rows before growing; grow only when fewer than a quarter came free.
        if not self._free and len(self._owner) >= len(self._ids) and self._reclaim() < len(self._ids) // 4:
            self._grow()
        if self._free:
            row = self._free.pop()
            self._owner[row] = account
            self._ids[row] = -1
            self._counts[row] = 0
        else:
            row = len(self._owner)
            self._owner.append(account)
        self._row[account] = row
        return row

    def _grow(self) -> None:
        cap = len(self._ids) * 2
        ids = np.full((cap, self.buckets), -1, dtype=np.int64)
        ids[: len(self._ids)] = self._ids
        counts = np.zeros((cap, 2, self.buckets), dtype=np.int32)
        counts[: len(self._counts)] = self._counts
        self._ids, self._counts = ids, counts

    def record_many(self, hits: Sequence[Hit]) -> list[WindowCounts]:
        """Count each request in order and return each one's window counts."""
        out = []
        with self._lock:
            for account, now, extraction in hits:
                b = math.floor(now / self.slot_s)
                self._latest = max(self._latest, b)
                row = self._row.get(account)
                if row is None:
                    row = self._new_row(account)
                ids, counts = self._ids[row], self._counts[row]
                slot = b % self.buckets
                if ids[slot] != b:
                    ids[slot] = b
                    counts[:, slot] = 0
                counts[0, slot] += 1
                if extraction:
                    counts[1, slot] += 1
                total = counts[:, ids > b - self.buckets].sum(axis=1)
                out.append(WindowCounts(int(total[0]), int(total[1])))
        return out

    def take_many(self, takes: Sequence[Take]) -> list[float]:
        """Token buckets: refill at ``rate`` per second up to ``burst``, take one each."""
        out = []
        with self._lock:
            for key, rate, burst, now in takes:
                tokens, ts, _, _ = self._tokens.get(key, (burst, now, rate, burst))
                tokens = min(burst, tokens + max(0.0, now - ts) * rate)
                wait = 0.0
                if tokens >= 1.0:
                    tokens -= 1.0
                else:
                    wait = (1.0 - tokens) / rate
                self._tokens[key] = (tokens, now, rate, burst)
                out.append(wait)
            if len(self._tokens) >= self._tokens_sweep:
                self._sweep_tokens(max(now for _, _, _, now in takes))
        return out

    async def arecord_many(self, hits: Sequence[Hit]) -> list[WindowCounts]:
        """``record_many``: in process there is nothing to wait for."""
        return self.record_many(hits)

    async def atake_many(self, takes: Sequence[Take]) -> list[float]:
        """``take_many``: in process there is nothing to wait for."""
        return self.take_many(takes)

    def _sweep_tokens(self, now: float) -> None:
        # A bucket that has refilled to its burst is the same as no bucket: forget it.
        self._tokens = {k: v for k, v in self._tokens.items() if v[0] + max(0.0, now - v[1]) * v[2] < v[3]}
        self._tokens_sweep = max(4096, 2 * len(self._tokens))

    def close(self) -> None:
        """Nothing to release."""

    async def aclose(self) -> None:
        """Nothing to release."""


# One call counts a whole batch. KEYS are the accounts' hashes; ARGV is the number of slots, the
# TTL, then a (slot, extraction flag) pair per key. Returns requests, extraction for each key.
_WINDOW_LUA = """
local n = tonumber(ARGV[1])
local ttl = ARGV[2]
local out = {}
for k = 1, #KEYS do
  local key = KEYS[k]
  local b = tonumber(ARGV[1 + 2 * k])
  redis.call('HINCRBY', key, 'r' .. b, 1)
  if ARGV[2 + 2 * k] == '1' then redis.call('HINCRBY', key, 'e' .. b, 1) end
  local all = redis.call('HGETALL', key)
  local r, e = 0, 0
  for i = 1, #all, 2 do
    local f = all[i]
    local bb = tonumber(string.sub(f, 2))
    if bb <= b - n then
      redis.call('HDEL', key, f)
    elseif string.sub(f, 1, 1) == 'r' then
      r = r + tonumber(all[i + 1])
    else
      e = e + tonumber(all[i + 1])
    end
  end
  redis.call('EXPIRE', key, ttl)
  out[2 * k - 1] = r
  out[2 * k] = e
end
return out
"""

# ARGV is a (rate, burst, now) triple per key. Lua numbers come back from Redis as integers, so each
# wait travels as text.
_BUCKET_LUA = """
local out = {}
for k = 1, #KEYS do
  local key = KEYS[k]
  local rate = tonumber(ARGV[3 * k - 2])
  local burst = tonumber(ARGV[3 * k - 1])
  local now = tonumber(ARGV[3 * k])
  local v = redis.call('HMGET', key, 't', 'ts')
  local tokens = tonumber(v[1]) or burst
  local ts = tonumber(v[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
  local wait = 0
  if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
  redis.call('HSET', key, 't', tostring(tokens), 'ts', tostring(now))
  redis.call('EXPIRE', key, math.ceil(burst / rate) + 60)
  out[k] = tostring(wait)
end
return out
"""
_WINDOW_SCRIPT = Script(_WINDOW_LUA)
_BUCKET_SCRIPT = Script(_BUCKET_LUA)


class RedisState(_Single):
    """Sliding windows and token buckets in Redis, shared by every service instance."""

    backend = "redis"

    def __init__(
        self,
        url: str,
        window_s: float = 60.0,
        buckets: int = 8,
        timeout_s: float = 0.05,
        prefix: str = "dg:",
    ) -> None:
        import redis

        self.window_s = window_s
        self.buckets = buckets
        self.slot_s = window_s / buckets
        self.prefix = prefix
        self.client = redis.Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            health_check_interval=0,
            max_connections=256,
        )
        self._window = self.client.register_script(_WINDOW_LUA)
        self._bucket = self.client.register_script(_BUCKET_LUA)
        self._ttl = str(math.ceil(window_s) + 60)
        self.url = url
        self.timeout_s = timeout_s
        self._aloop: asyncio.AbstractEventLoop | None = None
        self._aio: RespConnection | None = None

    def ping(self) -> bool:
        """Whether Redis answers."""
        return bool(self.client.ping())

    def _window_call(self, hits: Sequence[Hit]) -> tuple[list[str], list[str | int]]:
        keys = [f"{self.prefix}w:{account}" for account, _, _ in hits]
        args: list[str | int] = [self.buckets, self._ttl]
        for _, now, extraction in hits:
            args += [math.floor(now / self.slot_s), "1" if extraction else "0"]
        return keys, args

    def _bucket_call(self, takes: Sequence[Take]) -> tuple[list[str], list[float]]:
        keys = [f"{self.prefix}tb:{key}" for key, _, _, _ in takes]
        args: list[float] = []
        for _, rate, burst, now in takes:
            args += [rate, burst, now]
        return keys, args

    @staticmethod
    def _counts(flat: Sequence[int]) -> list[WindowCounts]:
        return [WindowCounts(int(flat[i]), int(flat[i + 1])) for i in range(0, len(flat), 2)]

    def record_many(self, hits: Sequence[Hit]) -> list[WindowCounts]:
        """Count a batch of requests and return each one's window counts (one round trip)."""
        if not hits:
            return []
        keys, args = self._window_call(hits)
        return self._counts(self._window(keys=keys, args=args))

    def take_many(self, takes: Sequence[Take]) -> list[float]:
        """Token buckets for a batch, in one round trip."""
        if not takes:
            return []
        keys, args = self._bucket_call(takes)
        return [float(w) for w in self._bucket(keys=keys, args=args)]

    def _async(self) -> RespConnection:
        """The running event loop's connection (made on first use in it)."""
        loop = asyncio.get_running_loop()
        if self._aloop is not loop or self._aio is None:
            self._aio = RespConnection(self.url, self.timeout_s)
            self._aloop = loop
        return self._aio

    async def arecord_many(self, hits: Sequence[Hit]) -> list[WindowCounts]:
        """``record_many`` over the event loop's own lean connection (``resp``), one round trip."""
        if not hits:
            return []
        keys, args = self._window_call(hits)
        return self._counts(await self._async().evalsha(_WINDOW_SCRIPT, keys, args))

    async def atake_many(self, takes: Sequence[Take]) -> list[float]:
        """``take_many`` over the event loop's own lean connection, one round trip."""
        if not takes:
            return []
        keys, args = self._bucket_call(takes)
        return [float(w) for w in await self._async().evalsha(_BUCKET_SCRIPT, keys, args)]

    def reset_connections(self) -> None:
        """Drop every pooled connection (the next command opens a fresh one)."""
        # In-use connections are left alone: closing them under another thread breaks its command
        # mid-flight; if their server is gone they fail and are dropped on their own. The asyncio
        # client is dropped whole (its pool cannot be reached from another thread); the next
        # awaited command makes a fresh one.
        self.client.connection_pool.disconnect(inuse_connections=False)
        old, loop = self._aio, self._aloop
        self._aio, self._aloop = None, None
        if old is not None and loop is not None and not loop.is_closed():
            # The connection belongs to its loop: close it there, from whichever thread.
            loop.call_soon_threadsafe(old.close)

    async def aclose(self) -> None:
        """Close the event loop's connection (call from that loop), then the connection pool."""
        if self._aio is not None and self._aloop is asyncio.get_running_loop():
            self._aio.close()
        self._aio, self._aloop = None, None
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()


class FailoverState(_Single):
    """Redis first; on a Redis error, alert and use in-process state until Redis answers again."""

    def __init__(
        self,
        primary: RedisState,
        fallback: MemoryState,
        retry_s: float = 5.0,
        on_change: Callable[[str, str], None] | None = None,
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.retry_s = retry_s
        self.on_change = on_change
        self._down_until = 0.0
        self._down_since = 0.0
        self._lock = threading.Lock()
        self.failures = 0

    @property
    def backend(self) -> str:
        """The store now in use: ``redis`` or ``memory``."""
        return "memory" if self._down_until else "redis"

    def _failed(self, exc: Exception) -> None:
        with self._lock:
            self.failures += 1
            # A failed retry while already on the fallback is not a new outage: no second alert.
            was_up = self._down_until == 0.0
            if was_up:
                self._down_since = time.monotonic()
            self._down_until = time.monotonic() + self.retry_s
        # Pooled connections to a dead server would fail one by one after it comes back and flip us
        # back to the fallback; drop them all so a retry always starts on fresh connections.
        self.primary.reset_connections()
        if was_up:
            log.error("ALERT: Redis state unreachable (%s); failing over to in-process state", exc)
            if self.on_change:
                self.on_change("memory", str(exc))

    def _use_primary(self) -> bool:
        # Once the retry time has come, the next request that gets through decides whether Redis is back.
        return self._down_until <= time.monotonic()

    def _route(self, primary: Callable[[], R], fallback: Callable[[], R]) -> R:
        """``primary()`` while Redis is in use and answers; else ``fallback()``."""
        if self._use_primary():
            started = time.monotonic()
            try:
                result = primary()
            except Exception as exc:  # fail open: any failure of the primary store means the fallback
                self._failed(exc)
            else:
                self._recovered(started)
                return result
        return fallback()

    async def _aroute(self, primary: Callable[[], Awaitable[R]], fallback: Callable[[], R]) -> R:
        """``_route`` with the Redis call awaited."""
        if self._use_primary():
            started = time.monotonic()
            try:
                result = await primary()
            except Exception as exc:  # fail open, as above
                self._failed(exc)
            else:
                self._recovered(started)
                return result
        return fallback()

    def record_many(self, hits: Sequence[Hit]) -> list[WindowCounts]:
        """Count in Redis, or in process while Redis is away."""
        return self._route(lambda: self.primary.record_many(hits), lambda: self.fallback.record_many(hits))

    def take_many(self, takes: Sequence[Take]) -> list[float]:
        """Token buckets in Redis, or in process while Redis is away."""
        return self._route(lambda: self.primary.take_many(takes), lambda: self.fallback.take_many(takes))

    async def arecord_many(self, hits: Sequence[Hit]) -> list[WindowCounts]:
        """``record_many`` awaited: Redis, or in process while Redis is away."""
        return await self._aroute(
            lambda: self.primary.arecord_many(hits), lambda: self.fallback.record_many(hits)
        )

    async def atake_many(self, takes: Sequence[Take]) -> list[float]:
        """``take_many`` awaited: Redis, or in process while Redis is away."""
        return await self._aroute(
            lambda: self.primary.atake_many(takes), lambda: self.fallback.take_many(takes)
        )

    def _recovered(self, started: float) -> None:
        # Only a command sent after the outage began proves Redis is back; one that was in flight
        # when it began may still succeed and must not flip the state back.
        if self._down_until != 0.0 and started > self._down_since:
            with self._lock:
                back = self._down_until != 0.0 and started > self._down_since
                if back:
                    self._down_until = 0.0
            if back:
                log.warning("Redis state reachable again; back on Redis")
                if self.on_change:
                    self.on_change("redis", "")

    def close(self) -> None:
        """Close both stores."""
        self.primary.close()
        self.fallback.close()

    async def aclose(self) -> None:
        """Close both stores from the event loop."""
        await self.primary.aclose()
        self.fallback.close()


def open_state(
    url: str | None, window_s: float, on_change: Callable[[str, str], None] | None = None
) -> State:
    """``memory`` (or None) for in-process state; ``redis://...`` for Redis with in-process fallback."""
    if not url or url == "memory":
        return MemoryState(window_s)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return FailoverState(RedisState(url, window_s), MemoryState(window_s), on_change=on_change)
    raise ValueError(f"--state: expected 'memory' or a redis:// URL, got {url!r}")
