"""Accounts and traffic sources: the building blocks that personas and attack tactics extend.

A ``Source`` owns one or more accounts and produces their traffic in two steps, so a whole
population can be written in global time order in bounded memory: ``events`` draws arrival times
for a time slice as NumPy arrays (cheap), and ``render`` turns one arrival into a request record
(only for the slice being written). Each source has its own random generators, seeded from the
run's seed and the source's position, so a run is deterministic for a seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from distillguard.simulate.corpora import Corpora, Prompt
from distillguard.simulate.world import COUNTRY_TZ, DAY, HOUR, Network, World, tokens

Request = dict[str, Any]
ENDPOINTS = ("/v1/chat/completions", "/v1/responses", "/v1/messages")
EFFORTS = ("low", "medium", "high")


@dataclass
class Account:
    """One billing account with its ground truth and the client state it keeps while active."""

    account_id: str
    created_at: float
    tier: str
    country: str
    email_domain: str
    payment_fingerprint: str
    verified: bool
    label: str
    persona: str
    campaign_id: str | None = None
    tactics: tuple[str, ...] = ()
    api_keys: tuple[str, ...] = ()
    ip: str = ""
    user_agent: str = ""
    endpoint: str = "/v1/chat/completions"
    adopts_new_model_at: float = float("inf")
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def tz(self) -> float:
        """UTC offset of the account's billing country."""
        return COUNTRY_TZ.get(self.country, 0.0)

    def account_row(self) -> dict[str, Any]:
        """The account as an ``accounts`` record (times in epoch microseconds)."""
        return {
            "account_id": self.account_id,
            "created_at": int(self.created_at * 1e6),
            "tier": self.tier,
            "country": self.country,
            "email_domain": self.email_domain,
            "payment_fingerprint": self.payment_fingerprint,
            "verified": self.verified,
        }

    def label_row(self) -> dict[str, Any]:
        """The account's ground truth as a ``labels`` record."""
        return {
            "account_id": self.account_id,
            "label": self.label,
            "campaign_id": self.campaign_id,
            "persona": self.persona,
            "tactics": list(self.tactics),
        }


@dataclass
class Context:
    """What every source needs to build accounts and requests."""

    world: World
    corpora: Corpora
    seed: int
    _count: int = 0

    def spawn(self) -> tuple[random.Random, np.random.Generator, int]:
        """Return fresh, independent generators for the next source, and its index."""
        index = self._count
        self._count += 1
        ss = np.random.SeedSequence(entropy=self.seed, spawn_key=(index,))
        return random.Random(int(ss.generate_state(1)[0])), np.random.default_rng(ss), index


class Source:
    """A group of accounts whose traffic is generated together (one user, one org, one campaign)."""

    persona: str = "source"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.world = ctx.world
        self.corpora = ctx.corpora
        self.rand, self.np_rng, self.index = ctx.spawn()
        self.net = Network(self.rand)
        self.accounts: list[Account] = []

    # -- building accounts ---------------------------------------------------------------------------
    def new_account(
        self,
        *,
        country: str,
        tier: str,
        created_at: float,
        email_domain: str,
        payment_fingerprint: str | None = None,
        verified: bool = False,
        label: str = "benign",
        persona: str | None = None,
        campaign_id: str | None = None,
        tactics: tuple[str, ...] = (),
        n_keys: int = 1,
        ip: str = "",
        user_agent: str = "",
    ) -> Account:
        """Create and register an account with opaque ids."""
        n = len(self.accounts)
        acct = Account(
            account_id=self.world.mint("acct", self.index, n, length=16),
            created_at=created_at,
            tier=tier,
            country=country,
            email_domain=email_domain,
            payment_fingerprint=payment_fingerprint or self.world.mint("pf", self.index, n, length=24),
            verified=verified,
            label=label,
            persona=persona or self.persona,
            campaign_id=campaign_id,
            tactics=tactics,
            api_keys=tuple(self.world.mint("key", self.index, n, k, length=20) for k in range(n_keys)),
            ip=ip,
            user_agent=user_agent,
            endpoint=self.rand.choices(ENDPOINTS, (0.8, 0.15, 0.05))[0],
        )
        self.accounts.append(acct)
        return acct

    def aged_created_at(self, min_days: float = 30, max_days: float = 900) -> float:
        """A sign-up time well before the window."""
        return self.world.start - self.rand.uniform(min_days, max_days) * DAY

    # -- traffic ------------------------------------------------------------------------------------
    def events(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """Arrival times in [t0, t1) and the local index of the account each belongs to."""
        raise NotImplementedError

    def render(self, ts: float, acct: int) -> Request:
        """Build the request record for one arrival (without request_id, ts and account_id)."""
        raise NotImplementedError

    # -- helpers for subclasses ---------------------------------------------------------------------
    def ramp(self, acct: Account, t: float, days: float = 10.0) -> float:
        """Fraction of full activity a new account reaches by time t: humans ramp up over days."""
        age = (t - acct.created_at) / DAY
        if age <= 0:
            return 0.0
        return min(1.0, 0.15 + age / days)

    def alive(self, times: np.ndarray, acct: Account) -> np.ndarray:
        """Drop arrivals before the account existed."""
        return times[times >= acct.created_at + 60.0]

    def pick_model(self, ts: float, acct: Account, mix: tuple[float, float, float] | None = None) -> str:
        """Choose the model an ordinary user asks for, including gradual adoption of the new release."""
        w = self.world
        if mix is None:
            if "mix" not in acct.state:
                thinking, mini = self.rand.uniform(0.05, 0.6), self.rand.uniform(0.05, 0.3)
                acct.state["mix"] = (1.0 - thinking - mini, mini, thinking)
            mix = acct.state["mix"]
        if ts >= acct.adopts_new_model_at and self.rand.random() < 0.5:
            return w.new_model.name
        r = self.rand.random()
        if r < mix[0]:
            return w.flagship
        if r < mix[0] + mix[1]:
            return w.mini
        return w.thinking

    def set_adoption(self, acct: Account, mean_days: float, share: float = 0.7) -> None:
        """Decide when (if ever) an account starts using the newly released model."""
        if self.rand.random() < share:
            acct.adopts_new_model_at = self.world.new_model.released_at + self.rand.expovariate(
                1.0 / (mean_days * DAY)
            )

    def answer(
        self,
        *,
        acct: Account,
        model: str,
        messages: list[dict[str, str]],
        reply: str,
        params: dict[str, Any] | None = None,
        status: int = 200,
        finish_reason: str = "stop",
        endpoint: str | None = None,
        ip: str | None = None,
        user_agent: str | None = None,
        key: int = 0,
        reasoning_text: str | None = None,
    ) -> Request:
        """Assemble a request record with a response, usage and reasoning where the model returns it."""
        input_tokens = sum(tokens(m["content"]) for m in messages) + 4 * len(messages)
        response: dict[str, Any] | None
        usage: dict[str, int]
        if self.world.is_reasoning(model) and acct.label == "benign":
            # Ordinary users of reasoning models set the effort too, many always and often to high.
            if "effort" not in acct.state:
                acct.state["effort"] = (
                    self.rand.choice((0.0, 0.0, 0.5, 1.0, 1.0)),
                    self.rand.choices(EFFORTS, (0.2, 0.3, 0.5))[0],
                )
            p_effort, effort = acct.state["effort"]
            if self.rand.random() < p_effort:
                params = {**(params or {}), "reasoning_effort": effort}
        if status == 200:
            reasoning = None
            if self.world.is_reasoning(model):
                reasoning = reasoning_text or reasoning_for(reply, self.rand)
            max_tokens = (params or {}).get("max_tokens")
            out_tokens = tokens(reply)
            if max_tokens and out_tokens > max_tokens:
                reply = reply[: max_tokens * 4]
                out_tokens = max_tokens
                finish_reason = "length"
            response = {"content": reply, "reasoning": reasoning, "finish_reason": finish_reason}
            r_tokens = tokens(reasoning) * 3 if reasoning else 0  # shown thinking is a summary
            usage = {
                "input_tokens": input_tokens,
                "output_tokens": out_tokens + r_tokens,
                "reasoning_tokens": r_tokens,
            }
        else:
            response = None
            usage = {"input_tokens": input_tokens, "output_tokens": 0, "reasoning_tokens": 0}
        return {
            "api_key_id": acct.api_keys[key % len(acct.api_keys)],
            "ip": ip or acct.ip,
            "user_agent": user_agent or acct.user_agent,
            "model": model,
            "endpoint": endpoint or acct.endpoint,
            "messages": messages,
            "params": params,
            "response": response,
            "usage": usage,
            "status": status,
        }


_REASONING_OPENERS = (
    "Let me think about what is being asked.",
    "First, I need to understand the request.",
    "The user wants",
    "Okay, breaking this down.",
    "Let me work through this carefully.",
)


def reasoning_for(reply: str, rand: random.Random) -> str:
    """A model's shown thinking: a short plan drawn from the reply it leads to."""
    first = reply.split("\n", 1)[0][:300]
    return f"{rand.choice(_REASONING_OPENERS)} {first} I should check the details before answering."


def pick(rand: random.Random, pool: tuple[Prompt, ...]) -> Prompt:
    """Draw one prompt uniformly from a corpus."""
    return pool[rand.randrange(len(pool))]


def burst_times(rng: np.random.Generator, start: float, n: int, per_second: float) -> np.ndarray:
    """``n`` arrivals starting at ``start`` at a steady batch-job rate, with small jitter."""
    gaps = rng.exponential(1.0 / per_second, size=n)
    return start + np.cumsum(gaps)


def session_times(
    rng: np.random.Generator, starts: np.ndarray, mean_turns: float, gap_s: tuple[float, float]
) -> np.ndarray:
    """Expand session start times into turn times: a human reads, thinks and types between turns."""
    if len(starts) == 0:
        return starts
    counts = rng.geometric(1.0 / mean_turns, size=len(starts))
    out = []
    for s, c in zip(starts, counts, strict=True):
        gaps = rng.uniform(gap_s[0], gap_s[1], size=c)
        gaps[0] = 0.0
        out.append(s + np.cumsum(gaps))
    return np.concatenate(out)


__all__ = [
    "Account",
    "Context",
    "Request",
    "Source",
    "burst_times",
    "pick",
    "reasoning_for",
    "session_times",
    "HOUR",
    "DAY",
]
