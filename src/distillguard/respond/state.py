"""Per-account sliding-window counters and token buckets, in process or in Redis.

The window is ``window_s`` seconds cut into ``buckets`` slots; a request adds one to its account's
current slot (and to the extraction slot when the classifier flagged it) and reads back the sum of
the live slots, all in one atomic step, so that parallel requests never lose an update. Redis does
the step as one Lua script on a hash per account; the in-process store does it under a lock on
NumPy rows (about 200 bytes per tracked account with 8 slots; see ``bench/bench_decide.py``).

``FailoverState`` puts Redis first and the in-process store behind it: when Redis stops answering,
it raises an alert (log line, metric, ``backend`` reads ``memory``) and carries on in process,
trying Redis again every ``retry_s`` seconds. Counts made during the outage stay in process.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

log = logging.getLogger("distillguard.respond")


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

    def record(self, account: str, now: float, extraction: bool) -> WindowCounts:
        """Count one request of ``account`` at ``now`` and return the window's counts, atomically."""
        ...

    def take(self, key: str, rate: float, burst: float, now: float) -> float:
        """Take one token from ``key``'s bucket: 0.0 when granted, else seconds until one is free."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class MemoryState:
    """In-process state: the default, and the fallback when Redis is away."""

    backend = "memory"

    def __init__(self, window_s: float = 60.0, buckets: int = 8) -> None:
        self.window_s = window_s
        self.buckets = buckets
        self.slot_s = window_s / buckets
        self._lock = threading.Lock()
        self._row: dict[str, int] = {}
        cap = 1024
        self._ids = np.full((cap, buckets), -1, dtype=np.int64)
        self._counts = np.zeros((cap, 2, buckets), dtype=np.int32)
        self._tokens: dict[str, tuple[float, float]] = {}

    def __len__(self) -> int:
        return len(self._row)

    def _grow(self) -> None:
        cap = len(self._ids) * 2
        ids = np.full((cap, self.buckets), -1, dtype=np.int64)
        ids[: len(self._ids)] = self._ids
        counts = np.zeros((cap, 2, self.buckets), dtype=np.int32)
        counts[: len(self._counts)] = self._counts
        self._ids, self._counts = ids, counts

    def record(self, account: str, now: float, extraction: bool) -> WindowCounts:
        """Count one request and return the window's counts."""
        b = math.floor(now / self.slot_s)
        slot = b % self.buckets
        with self._lock:
            row = self._row.get(account)
            if row is None:
                row = len(self._row)
                if row >= len(self._ids):
                    self._grow()
                self._row[account] = row
            ids, counts = self._ids[row], self._counts[row]
            if ids[slot] != b:
                ids[slot] = b
                counts[:, slot] = 0
            counts[0, slot] += 1
            if extraction:
                counts[1, slot] += 1
            live = ids > b - self.buckets
            total = counts[:, live].sum(axis=1)
        return WindowCounts(int(total[0]), int(total[1]))

    def take(self, key: str, rate: float, burst: float, now: float) -> float:
        """Token bucket: refill at ``rate`` per second up to ``burst``, take one."""
        with self._lock:
            tokens, ts = self._tokens.get(key, (burst, now))
            tokens = min(burst, tokens + max(0.0, now - ts) * rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / rate
            self._tokens[key] = (tokens, now)
        return wait

    def close(self) -> None:
        """Nothing to release."""


_WINDOW_LUA = """
local key = KEYS[1]
local b = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
redis.call('HINCRBY', key, 'r' .. b, 1)
if ARGV[3] == '1' then redis.call('HINCRBY', key, 'e' .. b, 1) end
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
redis.call('EXPIRE', key, ARGV[4])
return {r, e}
"""

# Lua numbers come back from Redis as integers, so the wait travels as text.
_BUCKET_LUA = """
local key = KEYS[1]
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local v = redis.call('HMGET', key, 't', 'ts')
local tokens = tonumber(v[1]) or burst
local ts = tonumber(v[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', key, 't', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', key, math.ceil(burst / rate) + 60)
return tostring(wait)
"""


class RedisState:
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

    def ping(self) -> bool:
        """Whether Redis answers."""
        return bool(self.client.ping())

    def record(self, account: str, now: float, extraction: bool) -> WindowCounts:
        """Count one request and return the window's counts (one round trip)."""
        b = math.floor(now / self.slot_s)
        r, e = self._window(
            keys=[f"{self.prefix}w:{account}"], args=[b, self.buckets, "1" if extraction else "0", self._ttl]
        )
        return WindowCounts(int(r), int(e))

    def take(self, key: str, rate: float, burst: float, now: float) -> float:
        """Token bucket in one round trip."""
        return float(self._bucket(keys=[f"{self.prefix}tb:{key}"], args=[rate, burst, now]))

    def reset_connections(self) -> None:
        """Drop every pooled connection (the next command opens a fresh one)."""
        # In-use connections are left alone: closing them under another thread breaks its command
        # mid-flight; if their server is gone they fail and are dropped on their own.
        self.client.connection_pool.disconnect(inuse_connections=False)

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()


class FailoverState:
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

    def record(self, account: str, now: float, extraction: bool) -> WindowCounts:
        """Count in Redis, or in process while Redis is away."""
        if self._use_primary():
            started = time.monotonic()
            try:
                counts = self.primary.record(account, now, extraction)
            except Exception as exc:  # fail open: any failure of the primary store means the fallback
                self._failed(exc)
            else:
                self._recovered(started)
                return counts
        return self.fallback.record(account, now, extraction)

    def take(self, key: str, rate: float, burst: float, now: float) -> float:
        """Token bucket in Redis, or in process while Redis is away."""
        if self._use_primary():
            started = time.monotonic()
            try:
                wait = self.primary.take(key, rate, burst, now)
            except Exception as exc:  # fail open, as above
                self._failed(exc)
            else:
                self._recovered(started)
                return wait
        return self.fallback.take(key, rate, burst, now)

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


def open_state(
    url: str | None, window_s: float, on_change: Callable[[str, str], None] | None = None
) -> State:
    """``memory`` (or None) for in-process state; ``redis://...`` for Redis with in-process fallback."""
    if not url or url == "memory":
        return MemoryState(window_s)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return FailoverState(RedisState(url, window_s), MemoryState(window_s), on_change=on_change)
    raise ValueError(f"--state: expected 'memory' or a redis:// URL, got {url!r}")
