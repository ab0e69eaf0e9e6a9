"""DecisionBatcher: answers once per request, batches under load, never waits when quiet, keeps deadlines."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from distillguard.respond.batcher import DecisionBatcher
from distillguard.respond.decision import DecideRequest, Decision
from distillguard.respond.metrics import Metrics


class FakeEngine:
    """Decides instantly (or hangs), and records the size of every batch."""

    def __init__(self, hang: bool = False) -> None:
        self.metrics = Metrics()
        self.sizes: list[int] = []
        self.hang = hang

    async def adecide_many(self, reqs: list[DecideRequest], now: float | None = None) -> list[Decision]:
        self.sizes.append(len(reqs))
        if self.hang:
            await asyncio.sleep(3600)
        return [Decision("allow", 200, reasons=[r.account_id]) for r in reqs]


def req(i: int) -> DecideRequest:
    return DecideRequest(f"acct_{i}", [{"role": "user", "content": "hi"}])


def test_a_quiet_service_decides_each_request_at_once() -> None:
    async def main() -> tuple[list[float], list[int]]:
        engine = FakeEngine()
        batcher = DecisionBatcher(engine, timeout_s=1.0, linger_s=0.02, min_batch=16)  # type: ignore[arg-type]
        waits = []
        for i in range(5):
            started = time.monotonic()
            d = await batcher.decide(req(i))
            waits.append(time.monotonic() - started)
            assert d.reasons == [f"acct_{i}"]
            # About 16 requests a second: under the two-per-linger (100 a second) that lingering needs.
            await asyncio.sleep(0.06)
        return waits, engine.sizes

    waits, sizes = asyncio.run(main())
    assert sizes == [1, 1, 1, 1, 1]
    assert max(waits) < 0.015  # never the 20 ms linger


def test_a_busy_service_waits_briefly_for_bigger_batches() -> None:
    async def main() -> tuple[list[int], dict[int, list[str]], float]:
        engine = FakeEngine()
        batcher = DecisionBatcher(engine, timeout_s=2.0, linger_s=0.02, min_batch=8)  # type: ignore[arg-type]
        answers: dict[int, list[str]] = {}
        worst = 0.0

        def answer(i: int, started: float) -> Any:
            def done(d: Decision) -> None:
                nonlocal worst
                assert i not in answers, "answered twice"
                answers[i] = d.reasons
                worst = max(worst, time.monotonic() - started)

            return done

        for i in range(600):  # about 3,000 requests a second for 0.2 s
            batcher.submit(req(i), answer(i, time.monotonic()))
            if i % 3 == 2:
                await asyncio.sleep(0.001)
        while len(answers) < 600:
            await asyncio.sleep(0.01)
        return engine.sizes, answers, worst

    sizes, answers, worst = asyncio.run(main())
    assert all(answers[i] == [f"acct_{i}"] for i in range(600))
    assert sum(sizes) == 600
    assert sizes[0] < 8  # before the first 50 ms rate window, batches start at once
    late = sizes[-30:-1]  # once the rate is measured (the very last batch is what was left)
    assert min(late) >= 8
    assert worst < 0.5


def test_the_watchdog_fails_open_every_request_past_its_deadline() -> None:
    async def main() -> tuple[list[Decision], list[float], Metrics]:
        engine = FakeEngine(hang=True)
        batcher = DecisionBatcher(engine, timeout_s=0.1)  # type: ignore[arg-type]
        started = time.monotonic()
        results = await asyncio.gather(*(batcher.decide(req(i)) for i in range(20)))
        took = time.monotonic() - started
        late = time.monotonic()
        more = await batcher.decide(req(99))  # queued behind the hung batch: dropped at its deadline
        return [*results, more], [took, time.monotonic() - late], engine.metrics

    results, (took, took_more), metrics = asyncio.run(main())
    assert all(d.fail_open and d.decision == "allow" and d.reasons == ["fail_open:timeout"] for d in results)
    assert 0.09 < took < 0.6 and 0.09 < took_more < 0.6
    assert metrics.fail_open.labels("timeout")._value.get() == 21
