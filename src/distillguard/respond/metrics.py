"""Prometheus metrics of the decision service, in a registry of their own (one per service)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# Decision latencies sit well under 10 ms; the buckets resolve the 5 ms budget.
_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class Metrics:
    """Counters, gauges and histograms that ``/metrics`` exposes."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.decisions = Counter(
            "distillguard_decisions", "Decisions answered, by outcome.", ["decision"], registry=r
        )
        self.actions = Counter(
            "distillguard_actions_ordered", "Enforcement records created, by action.", ["action"], registry=r
        )
        self.fail_open = Counter(
            "distillguard_fail_open",
            "Requests allowed because deciding failed or timed out.",
            ["cause"],
            registry=r,
        )
        self.bad_requests = Counter("distillguard_bad_requests", "Malformed decision requests.", registry=r)
        self.latency = Histogram(
            "distillguard_decision_seconds",
            "Time to decide one request.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.state_backend = Gauge(
            "distillguard_state_backend", "1 for the state store in use.", ["backend"], registry=r
        )
        self.state_failovers = Counter(
            "distillguard_state_failovers",
            "Times Redis state was lost and in-process state took over.",
            registry=r,
        )
        self.live_enforcements = Gauge(
            "distillguard_enforcements_loaded", "Unexpired enforcement records held in memory.", registry=r
        )

    def set_backend(self, backend: str) -> None:
        """Mark which state store is in use."""
        for b in ("redis", "memory"):
            self.state_backend.labels(b).set(1.0 if b == backend else 0.0)

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
