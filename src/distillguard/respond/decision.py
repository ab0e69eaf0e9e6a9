"""The per-request decision: signals from the batch kernels, window state, watchlist, policy, actions.

``DecisionEngine.decide`` is the one code path behind ``POST /v1/decide``, the Envoy endpoint, the
LiteLLM guardrail, the reverse proxy and ``distillguard policy test``. Its signals come from the very
functions the batch scanner runs: ``kernels.templates.fingerprint`` (template band keys) and the
intent classifier of ``kernels.intent`` over ``kernels.text.prompt_text``.

Outcome, from the live enforcement records of the key, the account and its cluster:
``deny`` (403) for a block or a pending identity verification, ``deny`` (429, ``Retry-After``) when a
rate-limit bucket is empty, ``shape`` for a rate limit with tokens left or withheld/summarised
reasoning, else ``allow``. Observe and flag-for-review only write audit records.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from distillguard.kernels import templates
from distillguard.kernels.intent import IntentClassifier, _decide, default_classifier
from distillguard.kernels.text import prompt_text
from distillguard.respond.enforcement import Enforcement, EnforcementStore
from distillguard.respond.metrics import Metrics
from distillguard.respond.policy import BLOCKS, Action, Policy
from distillguard.respond.state import Hit, State, Take, WindowCounts
from distillguard.respond.watchlist import Watchlist

log = logging.getLogger("distillguard.respond")

ROLES = frozenset({"system", "user", "assistant", "tool", "developer"})
PARAMS = ("temperature", "top_p", "max_tokens", "n", "stream", "logprobs", "top_logprobs", "reasoning_effort")


class RequestError(ValueError):
    """A malformed decision request; ``field`` names the offending field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


def content_text(content: Any, where: str) -> str:
    """Message content as text: a string, or the text parts of an OpenAI content-part list."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for i, part in enumerate(content):
            if not isinstance(part, dict):
                raise RequestError(
                    f"{where}[{i}]", f"expected a content part object, got {type(part).__name__}"
                )
            if part.get("type") == "text":
                text = part.get("text")
                if not isinstance(text, str):
                    raise RequestError(f"{where}[{i}].text", "expected a string")
                texts.append(text)
        return "\n".join(texts)
    raise RequestError(where, f"expected a string or a list of content parts, got {type(content).__name__}")


def normalise_messages(messages: Any, where: str = "messages") -> list[dict[str, str]]:
    """Validate chat messages and reduce them to the traffic log's ``{role, content}`` strings."""
    if not isinstance(messages, list):
        raise RequestError(where, f"expected a list of messages, got {type(messages).__name__}")
    if not messages:
        raise RequestError(where, "expected at least one message")
    out = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            raise RequestError(f"{where}[{i}]", f"expected an object, got {type(m).__name__}")
        role = m.get("role")
        if role not in ROLES:
            raise RequestError(
                f"{where}[{i}].role", f"expected one of {', '.join(sorted(ROLES))}, got {role!r}"
            )
        # The traffic log knows four roles; a developer message is the newer name of a system message.
        out.append(
            {
                "role": "system" if role == "developer" else role,
                "content": content_text(m.get("content"), f"{where}[{i}].content"),
            }
        )
    return out


@dataclass
class DecideRequest:
    """What the gateway knows of one request."""

    account_id: str
    messages: list[dict[str, str]]
    api_key_id: str | None = None
    ip: str | None = None
    model: str | None = None
    request_id: str | None = None
    tier: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    ts: float | None = None

    @classmethod
    def from_json(cls, obj: Any) -> DecideRequest:
        """Validate a decision request body; raise RequestError naming the field."""
        if not isinstance(obj, dict):
            raise RequestError("", f"expected a JSON object, got {type(obj).__name__}")
        account = obj.get("account_id")
        if not isinstance(account, str) or not account:
            raise RequestError("account_id", "required: a non-empty string")
        if "messages" not in obj:
            raise RequestError("messages", "required: a list of {role, content}")
        messages = normalise_messages(obj["messages"])
        kwargs: dict[str, Any] = {}
        for name in ("api_key_id", "ip", "model", "request_id", "tier"):
            v = obj.get(name)
            if v is not None and not isinstance(v, str):
                raise RequestError(name, f"expected a string, got {type(v).__name__}")
            kwargs[name] = v
        params = obj.get("params") or {}
        if not isinstance(params, dict):
            raise RequestError("params", f"expected an object, got {type(params).__name__}")
        ts = obj.get("ts")
        if ts is not None and (
            isinstance(ts, bool) or not isinstance(ts, int | float) or not math.isfinite(ts)
        ):
            raise RequestError("ts", "expected seconds since the epoch (a number)")
        return cls(account, messages, params=params, ts=ts, **kwargs)


@dataclass(frozen=True)
class Signals:
    """Per-request signals from the shared kernels."""

    intent: str
    p_extract: float
    keys: dict[str, list[int]]

    def to_json(self, explain: bool = False) -> dict[str, Any]:
        """Signals as JSON; band keys only when asked to explain."""
        out: dict[str, Any] = {"intent": self.intent, "p_extract": self.p_extract}
        if explain:
            out["template_keys"] = self.keys
        return out


class SignalKernels:
    """The batch scanner's kernels applied to requests: one at a time or a micro-batch in one pass."""

    def __init__(self, classifier: IntentClassifier | None = None) -> None:
        self.classifier = classifier or default_classifier()
        self._classes = np.asarray(self.classifier.classes_).astype(str)
        self._none = int(np.flatnonzero(self._classes == "none")[0])
        # The tokeniser builds its code-point tables on first use (about a second): do it now, not
        # inside the first request's deadline.
        self([{"role": "system", "content": "Warm up."}, {"role": "user", "content": "Warm up, 1 2 3."}])

    def __call__(self, messages: Sequence[Mapping[str, Any]]) -> Signals:
        """Intent class, extraction probability and template band keys of one request."""
        return self.many([messages])[0]

    def many(self, requests: Sequence[Sequence[Mapping[str, Any]]]) -> list[Signals]:
        """Signals of each request, vectorised over the batch (per-call overhead is most of the cost
        of one request, so a batch of 32 costs about a tenth per request of 32 single calls)."""
        if not requests:
            return []
        proba = self.classifier.predict_proba([prompt_text(m) for m in requests])
        intents = _decide(proba, self._classes, self.classifier.threshold).tolist()
        # float32, as the batch kernel's INTENT_SCHEMA stores it, so both give the same number.
        p_extract = (1.0 - proba[:, self._none]).astype(np.float32).tolist()
        keys = templates.fingerprints(requests)
        return [Signals(str(i), float(p), k) for i, p, k in zip(intents, p_extract, keys, strict=True)]


@dataclass
class Decision:
    """The answer to one decision request."""

    decision: str  # allow | shape | deny
    status: int
    reasons: list[str] = field(default_factory=list)
    reasoning: str = "full"  # full | withhold | summarise
    limits: dict[str, float] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    enforcements: list[Enforcement] = field(default_factory=list)
    new_enforcements: list[Enforcement] = field(default_factory=list)
    signals: Signals | None = None
    window: WindowCounts | None = None
    fail_open: bool = False

    def to_json(self, explain: bool = False) -> dict[str, Any]:
        """The response body of ``POST /v1/decide``."""
        out: dict[str, Any] = {
            "decision": self.decision,
            "status": self.status,
            "reasons": self.reasons,
            "reasoning": self.reasoning,
            "headers": self.headers,
            "actions": [
                {
                    "id": e.id,
                    "action": e.action,
                    "scope": e.scope,
                    "subject": e.subject,
                    "rule": e.rule,
                    "policy": e.policy,
                    "status": e.status,
                    "expires_at": e.to_json()["expires_at"],
                }
                for e in self.enforcements
            ],
            "fail_open": self.fail_open,
        }
        if self.limits is not None:
            out["limits"] = self.limits
        if self.signals is not None:
            out["signals"] = self.signals.to_json(explain)
        if self.window is not None:
            out["window"] = {"requests": self.window.requests, "extraction": self.window.extraction}
        return out


def fail_open(cause: str) -> Decision:
    """The answer when deciding failed: allow, and say why."""
    return Decision(
        "allow", 200, [f"fail_open:{cause}"], headers={"X-DistillGuard-Decision": "allow"}, fail_open=True
    )


class DecisionEngine:
    """Policy, state, watchlist and enforcement records, deciding one request at a time."""

    def __init__(
        self,
        policy: Policy,
        state: State,
        store: EnforcementStore,
        watchlist: Watchlist | None = None,
        kernels: SignalKernels | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.policy = policy
        self.state = state
        self.store = store
        self.watchlist = watchlist or Watchlist()
        self.kernels = kernels or SignalKernels()
        self.metrics = metrics or Metrics()

    def close(self) -> None:
        """Release state and database connections."""
        self.state.close()
        self.store.close()

    async def aclose(self) -> None:
        """``close`` from the event loop that used ``adecide_many``."""
        await self.state.aclose()
        self.store.close()

    def facts(self, req: DecideRequest, signals: Signals, counts: WindowCounts) -> dict[str, Any]:
        """Everything a policy condition may test about this request."""
        intel = self.watchlist.account(req.account_id)
        campaigns = self.watchlist.template_campaigns(signals.keys)
        return {
            "risk": intel.risk if intel else 0.0,
            "flagged": intel.flagged if intel else False,
            "in_cluster": bool(intel and intel.cluster),
            "in_campaign": bool(intel and intel.campaign),
            "cluster": intel.cluster if intel and intel.cluster else None,
            "campaign": intel.campaign
            if intel and intel.campaign
            else (min(campaigns) if campaigns else None),
            "reasons": intel.reasons if intel else frozenset(),
            "partner_sightings": self.watchlist.sightings_for(
                req.account_id, req.api_key_id, req.ip, signals.keys
            ),
            "intent": signals.intent,
            "p_extract": signals.p_extract,
            "template_match": bool(campaigns),
            "window_requests": counts.requests,
            "window_extraction": counts.extraction,
            "window_extraction_share": counts.extraction_share,
            "model": req.model,
            "tier": req.tier,
            "reasoning_requested": bool(req.params.get("reasoning_effort")),
        }

    def _subjects(self, req: DecideRequest, cluster: str | None) -> list[tuple[str, str]]:
        subjects = [("account", req.account_id)]
        if req.api_key_id:
            subjects.append(("key", req.api_key_id))
        if cluster:
            subjects.append(("cluster", cluster))
        return subjects

    def _order(
        self, req: DecideRequest, facts: dict[str, Any], existing: list[Enforcement], now: float
    ) -> list[Enforcement]:
        """Create records for matched rules' actions that are not already in force (or pending)."""
        held = {(e.action, e.scope, e.subject) for e in existing}
        new: list[Enforcement] = []
        for rule in self.policy.matches(facts):
            evidence = rule.when.describe(facts)
            if req.request_id:
                evidence["request_id"] = req.request_id
            for spec in rule.then:
                subject = {"account": req.account_id, "key": req.api_key_id, "cluster": facts["cluster"]}[
                    spec.scope
                ]
                if not subject or (spec.action.value, spec.scope, subject) in held:
                    continue
                held.add((spec.action.value, spec.scope, subject))
                params = {"rate": spec.rate, "burst": spec.burst} if spec.action is Action.RATE_LIMIT else {}
                record = Enforcement(
                    action=spec.action.value,
                    scope=spec.scope,
                    subject=subject,
                    account_id=req.account_id,
                    policy=self.policy.label,
                    rule=rule.id,
                    reason=rule.reason,
                    evidence=evidence,
                    created_at=now,
                    expires_at=now + spec.expiry_s,
                    needs_approval=spec.approval,
                    status="pending" if spec.approval else "active",
                    params=params,
                )
                # Indexed at once, so a later request of the same batch sees it; written to the
                # database by the batch, in one transaction, before any answer goes out.
                new.append(self.store.stage(record))
                self.metrics.actions.labels(spec.action.value).inc()
        return new

    def decide(
        self, req: DecideRequest, now: float | None = None, signals: Signals | None = None
    ) -> Decision:
        """Decide one request (``signals`` may be precomputed by the batch kernels, as in replay)."""
        return self.decide_many([req], now, None if signals is None else [signals])[0]

    def decide_many(
        self,
        reqs: Sequence[DecideRequest],
        now: float | None = None,
        signals: Sequence[Signals | None] | None = None,
    ) -> list[Decision]:
        """Decide a micro-batch: kernels in one vectorised pass, window counts in one state call,
        token buckets in one more; each decision is the one the request would get alone, in order.

        A request whose signals or policy evaluation fails is answered ``fail_open("error")`` (and
        counted) without failing the rest of the batch.
        """
        batch = _Batch.start(self, reqs, now, signals)
        batch.counted(self.state.record_many(batch.hits()))
        batch.persisted(self.store.persist, batch.orders())
        batch.waited(self.state.take_many(batch.takes()))
        return batch.finish()

    async def adecide_many(self, reqs: Sequence[DecideRequest]) -> list[Decision]:
        """``decide_many`` for an event loop: the same steps, with the state calls awaited (so a slow
        state store holds up no other request, and no thread hands the GIL back and forth)."""
        batch = _Batch.start(self, reqs, None, None)
        batch.counted(await self.state.arecord_many(batch.hits()))
        if orders := batch.orders():
            # A database commit (an fsync on SQLite) would stall every request on the loop.
            await asyncio.to_thread(batch.persisted, self.store.persist, orders)
        batch.waited(await self.state.atake_many(batch.takes()))
        return batch.finish()

    def signals_many(self, reqs: Sequence[DecideRequest]) -> list[Signals | None]:
        """Signals of each request; None for one whose kernels failed (the rest are unaffected)."""
        try:
            return list(self.kernels.many([r.messages for r in reqs]))
        except Exception:
            # Find the request that broke the batch; the others still get their signals.
            out: list[Signals | None] = []
            for r in reqs:
                try:
                    out.append(self.kernels.many([r.messages])[0])
                except Exception:
                    log.exception("signals for %s failed; allowed (fail open)", r.account_id)
                    out.append(None)
            return out

    @staticmethod
    def _bucket(records: list[Enforcement], now: float) -> Enforcement | None:
        """The rate limit whose bucket this request draws on: the strictest live one, unless a block
        or a verification denies the request first (then no token is taken)."""
        live = [e for e in records if e.live(now)]
        if any(Action(e.action) in BLOCKS or e.action == Action.REQUIRE_VERIFICATION for e in live):
            return None
        limits = [e for e in live if e.action == Action.RATE_LIMIT]
        return min(limits, key=lambda r: r.params.get("rate", math.inf)) if limits else None

    def _outcome(
        self, records: list[Enforcement], now: float, bucket: Enforcement | None, wait: float
    ) -> Decision:
        """The answer from the records in force, and the token bucket's wait when one applies."""
        live = [e for e in records if e.live(now)]
        by_action: dict[str, list[Enforcement]] = {}
        for e in live:
            by_action.setdefault(e.action, []).append(e)
        reasons = [
            f"{e.action}:{e.rule}" for e in live if e.action not in (Action.OBSERVE, Action.FLAG_REVIEW)
        ]
        blocks = [e for e in live if Action(e.action) in BLOCKS]
        if blocks:
            return Decision(
                "deny",
                403,
                reasons,
                headers={"X-DistillGuard-Decision": "deny", "X-DistillGuard-Action": blocks[0].action},
                enforcements=records,
            )
        if Action.REQUIRE_VERIFICATION in by_action:
            return Decision(
                "deny",
                403,
                reasons,
                headers={"X-DistillGuard-Decision": "deny", "X-DistillGuard-Action": "require_verification"},
                enforcements=records,
            )
        headers = {"X-DistillGuard-Decision": "allow"}
        shaped = False
        limits = None
        if bucket is not None:
            rate, burst = float(bucket.params["rate"]), float(bucket.params["burst"])
            limits = {"rate_per_s": rate, "burst": burst}
            headers["X-RateLimit-Limit"] = f"{rate * 60:g}/min"
            if wait > 0:
                headers.update(
                    {
                        "X-DistillGuard-Decision": "deny",
                        "X-DistillGuard-Action": "rate_limit",
                        "Retry-After": str(max(1, math.ceil(wait))),
                    }
                )
                return Decision("deny", 429, reasons, limits=limits, headers=headers, enforcements=records)
            shaped = True
        reasoning = "full"
        if Action.WITHHOLD_REASONING in by_action:
            reasoning = "withhold"
        elif Action.SUMMARISE_REASONING in by_action:
            reasoning = "summarise"
        if reasoning != "full":
            headers["X-DistillGuard-Reasoning"] = reasoning
            shaped = True
        if shaped:
            headers["X-DistillGuard-Decision"] = "shape"
            return Decision("shape", 200, reasons, reasoning, limits, headers, records)
        return Decision("allow", 200, reasons, headers=headers, enforcements=records)


@dataclass
class _Batch:
    """One micro-batch between its steps: signals, window counts, orders, token buckets, answers."""

    engine: DecisionEngine
    reqs: Sequence[DecideRequest]
    nows: list[float]
    sigs: list[Signals | None]
    live: list[int]
    pending: list[tuple[int, WindowCounts, list[Enforcement], list[Enforcement], Enforcement | None]] = field(
        default_factory=list
    )
    waits: dict[int, float] = field(default_factory=dict)

    @classmethod
    def start(
        cls,
        engine: DecisionEngine,
        reqs: Sequence[DecideRequest],
        now: float | None,
        signals: Sequence[Signals | None] | None,
    ) -> _Batch:
        """Timestamps and signals (computed here unless given)."""
        clock = time.time() if now is None else now
        nows = [r.ts if r.ts is not None and now is None else clock for r in reqs]
        sigs = list(signals) if signals is not None else engine.signals_many(reqs)
        return cls(engine, reqs, nows, sigs, [i for i, s in enumerate(sigs) if s is not None])

    def hits(self) -> list[Hit]:
        """What the window state counts: one hit per request with signals."""
        return [(self.reqs[i].account_id, self.nows[i], self.sigs[i].intent != "none") for i in self.live]  # type: ignore[union-attr]

    def counted(self, counts: list[WindowCounts]) -> None:
        """Evaluate the policy with the window counts; order new enforcement records."""
        e = self.engine
        for i, c in zip(self.live, counts, strict=True):
            req, sig, now = self.reqs[i], self.sigs[i], self.nows[i]
            assert sig is not None
            try:
                facts = e.facts(req, sig, c)
                existing = e.store.for_subjects(e._subjects(req, facts["cluster"]), now)
                new = e._order(req, facts, existing, now)
            except Exception:  # one request's failure must not take its batch with it
                log.exception("deciding for %s failed; allowed (fail open)", req.account_id)
                continue
            records = [*existing, *new]
            self.pending.append((i, c, records, new, e._bucket(records, now)))

    def orders(self) -> list[Enforcement]:
        """Enforcement records this batch ordered (staged in memory, not yet written)."""
        return [e for _, _, _, new, _ in self.pending for e in new]

    def persisted(self, persist: Callable[[list[Enforcement]], None], orders: list[Enforcement]) -> None:
        """Write the batch's orders; if that fails, the requests that ordered them fail open."""
        if not orders:
            return
        try:
            persist(orders)
        except Exception:
            log.exception("writing %d enforcement records failed; their requests fail open", len(orders))
            self.pending = [p for p in self.pending if not p[3]]

    def takes(self) -> list[Take]:
        """Token-bucket draws of the rate-limited requests."""
        return [
            (f"{b.scope}:{b.subject}", float(b.params["rate"]), float(b.params["burst"]), self.nows[i])
            for i, _, _, _, b in self.pending
            if b is not None
        ]

    def waited(self, waits: list[float]) -> None:
        """Record each rate-limited request's wait."""
        limited = [i for i, _, _, _, b in self.pending if b is not None]
        self.waits = dict(zip(limited, waits, strict=True))

    def finish(self) -> list[Decision]:
        """Each request's decision, in order; fail open where a step failed."""
        e = self.engine
        out: list[Decision | None] = [None] * len(self.reqs)
        for i, c, records, new, b in self.pending:
            d = e._outcome(records, self.nows[i], b, self.waits.get(i, 0.0))
            d.new_enforcements = new
            d.signals = self.sigs[i]
            d.window = c
            out[i] = d
        result = []
        for d in out:
            if d is None:
                e.metrics.fail_open.labels("error").inc()
                d = fail_open("error")
            e.metrics.decisions.labels(d.decision).inc()
            result.append(d)
        return result
