"""Micro-batching of decision requests on the event loop.

Requests are queued as they arrive; whenever no batch is running, everything queued (up to
``max_batch``) is decided with one ``DecisionEngine.adecide_many`` call: the text kernels run once
over the batch and the window state is counted in one round trip. An idle service therefore decides
each request alone, at once, and a busy one decides bigger batches at a lower cost per request
(``bench/bench_decide.py``: about 360 µs of CPU for a batch of one, 47 µs per request in a batch
of 32), which is what keeps added latency flat as the request rate rises.

Everything runs on the event loop: the kernels are short, bounded CPU work, and the state calls are
awaited, so the loop reads and answers other requests while Redis answers. No thread hands the GIL
back and forth with the loop (measured: that handoff doubled the cost of a batch in the service).

Every request keeps its own deadline. Past it the caller gets ``allow`` (fail open, counted by cause
``timeout``); a queued request whose deadline has passed before its batch starts is dropped from the
batch undecided, so an overload drains at once instead of building a backlog. One watchdog timer
serves every deadline (requests wait in arrival order, so the oldest has the earliest).

Requests are answered through a callback (``submit``), which the decision service's HTTP server
uses with no task or future per request (``http.py``); ``decide`` is the awaitable form.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from distillguard.respond.decision import DecideRequest, Decision, DecisionEngine, fail_open

log = logging.getLogger("distillguard.respond")
_RATE_WINDOW_S = 0.05
_MIN_TIMER_S = 0.001  # uvloop's timers count whole milliseconds


@dataclass(slots=True)
class _Waiting:
    req: DecideRequest
    callback: Callable[[Decision], None]  # called exactly once: the decision, or a fail-open one
    started: float  # time.monotonic()
    deadline: float
    done: bool = False


class DecisionBatcher:
    """Decides the requests of one event loop in micro-batches, one batch at a time."""

    def __init__(
        self,
        engine: DecisionEngine,
        timeout_s: float,
        max_batch: int = 256,
        linger_s: float = 0.001,
        min_batch: int = 16,
    ) -> None:
        self.engine = engine
        self.timeout_s = timeout_s
        self.max_batch = max_batch
        # Linger: under load a small batch waits up to linger_s (or until min_batch requests are
        # queued) for company, because each batch has a fixed cost (one kernel pass, one Redis
        # round trip) that bigger batches share. It applies only while requests arrive fast enough
        # to bring at least two more in that time, so an idle or quiet service answers at once.
        self.linger_s = linger_s
        self.min_batch = min_batch
        self._linger: asyncio.TimerHandle | None = None
        self._linger_until = 0.0
        self._rate = 0.0  # requests per second, measured over the last window of _RATE_WINDOW_S
        self._arrivals = 0
        self._rate_since = time.monotonic()
        self._queue: list[_Waiting] = []
        # Every request not yet answered, oldest (so earliest deadline) first: one watchdog timer
        # serves them all, where a timer per request cost more than a small batch's decision.
        self._open: deque[_Waiting] = deque()
        self._watchdog: asyncio.TimerHandle | None = None
        self._running = False
        self._scheduled = False
        self._last_warning = 0.0
        self._tasks: set[asyncio.Task[None]] = set()
        self.batches = 0
        self.decided = 0

    def submit(self, req: DecideRequest, callback: Callable[[Decision], None]) -> None:
        """Queue ``req`` (call on the event loop); ``callback`` gets its decision, or ``allow``
        (fail open) past the deadline or on an error, exactly once, on the loop."""
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        waiting = _Waiting(req, callback, started, started + self.timeout_s)
        self._queue.append(waiting)
        self._open.append(waiting)
        self._arrivals += 1
        if self._linger is not None and (len(self._queue) >= self.min_batch or started >= self._linger_until):
            # Checked on arrival: under load requests come far more often than the loop's timers
            # resolve (1 ms), so the batch starts on time.
            self._start(loop, force=True)
        if self._watchdog is None:
            self._watchdog = loop.call_later(max(self.timeout_s, _MIN_TIMER_S), self._expire, loop)
        if not self._running and not self._scheduled:
            # Start on the next loop turn, so that requests read in this turn join the same batch.
            self._scheduled = True
            loop.call_soon(self._start, loop)

    async def decide(self, req: DecideRequest) -> Decision:
        """Decide ``req`` within the deadline; allow (fail open) past it or on an error."""
        future: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()

        def answer(decision: Decision) -> None:
            if not future.done():  # the caller may have gone (cancelled)
                future.set_result(decision)

        self.submit(req, answer)
        return await future

    def _settle(self, w: _Waiting, result: Decision | str) -> None:
        """Answer one request: a decision, or why there is none ("timeout" | "error")."""
        if w.done:
            return
        w.done = True
        m = self.engine.metrics
        if isinstance(result, str):
            m.fail_open.labels(result).inc()
            self._warn(w.req, f"took over {self.timeout_s * 1e3:.0f} ms" if result == "timeout" else "failed")
            result = fail_open(result)
        m.latency.observe(time.monotonic() - w.started)
        try:
            w.callback(result)
        except Exception:
            log.exception("answering the decision for %s failed", w.req.account_id)

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        """The watchdog: settle every request past its deadline as "timeout", then wait for the next.

        A decision that arrives for one of them later finds it settled and is dropped.
        """
        self._watchdog = None
        now = time.monotonic()
        while self._open and (self._open[0].done or self._open[0].deadline <= now):
            self._settle(self._open.popleft(), "timeout")
        if self._open:
            # Not under the loop's timer resolution: a shorter delay would spin the loop (uvloop).
            delay = max(self._open[0].deadline - now, _MIN_TIMER_S)
            self._watchdog = loop.call_later(delay, self._expire, loop)

    def _warn(self, req: DecideRequest, what: str) -> None:
        # Under overload every request fails open: one line a second is enough to say so.
        now = time.monotonic()
        if now - self._last_warning >= 1.0:
            self._last_warning = now
            log.warning("decision for %s %s; allowed (fail open)", req.account_id, what)

    def _start(self, loop: asyncio.AbstractEventLoop, force: bool = False) -> None:
        self._scheduled = False
        if self._running or not self._queue:
            return
        now = time.monotonic()
        if now - self._rate_since >= _RATE_WINDOW_S:
            self._rate = self._arrivals / (now - self._rate_since)
            self._arrivals, self._rate_since = 0, now
        if not force and len(self._queue) < self.min_batch and self._rate * self.linger_s >= 2.0:
            start_at = self._queue[0].started + self.linger_s
            if now < start_at:
                if self._linger is None:
                    self._linger_until = start_at
                    # A backstop for when arrivals stop: uvloop rounds delays to whole milliseconds
                    # and runs a shorter one at once, which would spin the loop until start_at.
                    self._linger = loop.call_later(max(start_at - now, _MIN_TIMER_S), self._lingered, loop)
                return
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
        self._running = True
        task = loop.create_task(self._run(loop, batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _lingered(self, loop: asyncio.AbstractEventLoop) -> None:
        self._linger = None
        self._start(loop, force=True)

    async def _run(self, loop: asyncio.AbstractEventLoop, batch: list[_Waiting]) -> None:
        """Decide the batch's requests that are still within their deadline, and answer them all."""
        now = time.monotonic()
        todo = [w for w in batch if w.deadline > now and not w.done]
        decisions: list[Decision] | None = None
        try:
            decisions = await self.engine.adecide_many([w.req for w in todo])
        except Exception:
            log.exception("deciding a batch of %d failed; allowed (fail open)", len(todo))
        finally:
            self._running = False
            self.batches += 1
        if decisions is not None:
            self.decided += len(decisions)
            for w, d in zip(todo, decisions, strict=True):
                self._settle(w, d)
        for w in batch:
            # Left over: the batch failed, or the request was skipped because its deadline had passed
            # in the queue (its caller has timed out, or is about to).
            self._settle(w, "error" if decisions is None else "timeout")
        while self._open and self._open[0].done:
            self._open.popleft()
        if self._queue:
            self._start(loop)
