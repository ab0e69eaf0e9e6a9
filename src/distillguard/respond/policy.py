"""Response policies: YAML rules that map what is known about a request to graduated actions.

A policy file names itself and its version, and lists rules. Each rule has ``when`` (every
condition must hold; ``any:`` takes a list of condition maps of which one must hold) and ``then``
(actions, each with an expiry and whether it needs a person's approval). ``docs/respond.md`` has
the full grammar; an example::

    name: default
    version: 3
    rules:
      - id: campaign-members
        when: {in_campaign: true, risk: ">= 0.999"}
        then:
          - {action: block_cluster, expiry: 7d, approval: true}
          - {action: withhold_reasoning, expiry: 1d}

Conditions compare *facts* (see ``FACTS``): numbers take ``">= 0.9"``-style comparisons or a bare
number (equality), booleans take ``true``/``false``, strings take a value or a list of values, and
string sets (``reasons``, ``intents_seen``) take a list that must share at least one member.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml


class PolicyError(ValueError):
    """A policy file breaks the grammar; the message names the file and the field path."""


class Action(StrEnum):
    """Every response a policy can order, from the mildest to the harshest."""

    OBSERVE = "observe"
    FLAG_REVIEW = "flag_review"
    REQUIRE_VERIFICATION = "require_verification"
    RATE_LIMIT = "rate_limit"
    WITHHOLD_REASONING = "withhold_reasoning"
    SUMMARISE_REASONING = "summarise_reasoning"
    BLOCK_KEY = "block_key"
    BLOCK_ACCOUNT = "block_account"
    BLOCK_CLUSTER = "block_cluster"


# What each action applies to: the key, the account or the account's cluster.
SCOPE: dict[Action, str] = {
    Action.OBSERVE: "account",
    Action.FLAG_REVIEW: "account",
    Action.REQUIRE_VERIFICATION: "account",
    Action.RATE_LIMIT: "account",
    Action.WITHHOLD_REASONING: "account",
    Action.SUMMARISE_REASONING: "account",
    Action.BLOCK_KEY: "key",
    Action.BLOCK_ACCOUNT: "account",
    Action.BLOCK_CLUSTER: "cluster",
}
BLOCKS = frozenset({Action.BLOCK_KEY, Action.BLOCK_ACCOUNT, Action.BLOCK_CLUSTER})

# Facts a condition may test, and their kinds.
FACTS: dict[str, str] = {
    "risk": "number",  # scan risk of the account (0 when never scanned)
    "flagged": "bool",  # the scan flagged the account
    "in_cluster": "bool",  # the account belongs to a corroborated cluster
    "in_campaign": "bool",  # the account belongs to a campaign
    "cluster": "string",
    "campaign": "string",
    "reasons": "set",  # the scan's reason codes for the account
    "partner_sightings": "number",  # partner reports naming the account, its key, IP or templates
    "intent": "string",  # this request's extraction-intent class (``none`` when not extraction)
    "p_extract": "number",  # this request's extraction probability
    "template_match": "bool",  # this request's template band keys match a campaign's indicators
    "window_requests": "number",  # the account's requests in the sliding window, this one included
    "window_extraction": "number",  # of which the classifier flagged as extraction
    "window_extraction_share": "number",
    "model": "string",
    "tier": "string",
    "reasoning_requested": "bool",  # the request asks for reasoning (reasoning_effort set)
}

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_COMPARE = re.compile(r"^\s*(>=|<=|>|<|==|!=)\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)\s*$")
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
DEFAULT_EXPIRY_S = 86400.0


def parse_duration(value: Any, where: str) -> float:
    """Seconds in ``30s``, ``15m``, ``12h``, ``7d``, ``2w`` or a bare number of seconds."""
    if isinstance(value, bool):
        raise PolicyError(f"{where}: expected a duration like 12h, got {value!r}")
    if isinstance(value, int | float):
        if value <= 0:
            raise PolicyError(f"{where}: a duration must be positive, got {value!r}")
        return float(value)
    m = _DURATION.match(str(value))
    if not m or float(m.group(1)) <= 0:
        raise PolicyError(f"{where}: expected a positive duration like 30s, 15m, 12h or 7d, got {value!r}")
    return float(m.group(1)) * _UNIT[m.group(2)]


@dataclass(frozen=True)
class Condition:
    """One test of one fact."""

    fact: str
    test: Callable[[Any], bool]
    text: str

    def holds(self, facts: Mapping[str, Any]) -> bool:
        """Whether the fact's value passes the test (a missing fact never does)."""
        value = facts.get(self.fact)
        return value is not None and self.test(value)


@dataclass(frozen=True)
class Clause:
    """Conditions that must all hold, plus ``any`` groups of which one must hold each."""

    conditions: tuple[Condition, ...]
    any_of: tuple[tuple[Clause, ...], ...] = ()

    def holds(self, facts: Mapping[str, Any]) -> bool:
        """Whether the clause is true of these facts."""
        return all(c.holds(facts) for c in self.conditions) and all(
            any(c.holds(facts) for c in group) for group in self.any_of
        )

    def describe(self, facts: Mapping[str, Any]) -> dict[str, Any]:
        """The facts this clause looked at, as evidence for an audit record."""
        out = {c.fact: _plain(facts.get(c.fact)) for c in self.conditions}
        for group in self.any_of:
            for sub in group:
                if sub.holds(facts):
                    out.update(sub.describe(facts))
                    break
        return out


@dataclass(frozen=True)
class ActionSpec:
    """One action a rule orders: expiry, approval and its parameters (rate-limit rate and burst)."""

    action: Action
    expiry_s: float
    approval: bool = False
    rate: float = 0.0  # tokens (requests) per second, for rate_limit
    burst: float = 0.0

    @property
    def scope(self) -> str:
        """``key``, ``account`` or ``cluster``."""
        return SCOPE[self.action]


@dataclass(frozen=True)
class Rule:
    """A named rule: when its clause holds, its actions are ordered."""

    id: str
    when: Clause
    then: tuple[ActionSpec, ...]
    reason: str


@dataclass(frozen=True)
class Policy:
    """A whole policy file."""

    name: str
    version: str
    rules: tuple[Rule, ...]
    window_s: float = 60.0
    source: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def label(self) -> str:
        """``name@version``, as audit records cite it."""
        return f"{self.name}@{self.version}"

    def matches(self, facts: Mapping[str, Any]) -> list[Rule]:
        """Rules whose clauses hold for these facts, in file order."""
        return [r for r in self.rules if r.when.holds(facts)]


def _plain(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return sorted(value)
    return value


def _condition(fact: str, spec: Any, where: str) -> Condition:
    kind = FACTS.get(fact)
    if kind is None:
        raise PolicyError(f"{where}: unknown fact {fact!r}; known facts: {', '.join(FACTS)}")
    text = f"{fact}: {spec!r}"
    if kind == "bool":
        if not isinstance(spec, bool):
            raise PolicyError(f"{where}: {fact} takes true or false, got {spec!r}")
        return Condition(fact, lambda v, s=spec: bool(v) is s, text)
    if kind == "number":
        if isinstance(spec, bool):
            raise PolicyError(f"{where}: {fact} takes a number or a comparison like '>= 0.9', got {spec!r}")
        if isinstance(spec, int | float):
            return Condition(fact, lambda v, s=float(spec): float(v) == s, text)
        m = _COMPARE.match(str(spec))
        if not m:
            raise PolicyError(f"{where}: {fact} takes a comparison like '>= 0.9', got {spec!r}")
        op, bound = _OPS[m.group(1)], float(m.group(2))
        return Condition(fact, lambda v, op=op, b=bound: op(float(v), b), text)
    values = spec if isinstance(spec, list) else [spec]
    if not values or not all(isinstance(v, str) and v for v in values):
        raise PolicyError(f"{where}: {fact} takes a string or a list of strings, got {spec!r}")
    wanted = frozenset(values)
    if kind == "set":
        return Condition(fact, lambda v, w=wanted: bool(w & set(v)), text)
    return Condition(fact, lambda v, w=wanted: v in w, text)


def _clause(spec: Any, where: str) -> Clause:
    if not isinstance(spec, dict) or not spec:
        raise PolicyError(f"{where}: expected a map of conditions, got {spec!r}")
    conditions: list[Condition] = []
    groups: list[tuple[Clause, ...]] = []
    for fact, value in spec.items():
        if fact == "any":
            if not isinstance(value, list) or not value:
                raise PolicyError(f"{where}.any: expected a list of condition maps, got {value!r}")
            groups.append(tuple(_clause(v, f"{where}.any[{i}]") for i, v in enumerate(value)))
        else:
            conditions.append(_condition(str(fact), value, f"{where}.{fact}"))
    return Clause(tuple(conditions), tuple(groups))


def _action(spec: Any, where: str, default_expiry: float) -> ActionSpec:
    if isinstance(spec, str):
        spec = {"action": spec}
    if not isinstance(spec, dict):
        raise PolicyError(f"{where}: expected an action map like {{action: block_key}}, got {spec!r}")
    unknown = set(spec) - {"action", "expiry", "approval", "rate", "burst"}
    if unknown:
        raise PolicyError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    try:
        action = Action(spec.get("action"))
    except ValueError:
        raise PolicyError(
            f"{where}.action: unknown action {spec.get('action')!r}; expected one of "
            + ", ".join(a.value for a in Action)
        ) from None
    expiry = parse_duration(spec["expiry"], f"{where}.expiry") if "expiry" in spec else default_expiry
    approval = spec.get("approval", False)
    if not isinstance(approval, bool):
        raise PolicyError(f"{where}.approval: expected true or false, got {approval!r}")
    rate = burst = 0.0
    if action is Action.RATE_LIMIT:
        for name in ("rate", "burst"):
            value = spec.get(name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise PolicyError(f"{where}.{name}: rate_limit needs a positive number, got {value!r}")
        rate, burst = float(spec["rate"]), float(spec["burst"])
    elif "rate" in spec or "burst" in spec:
        raise PolicyError(f"{where}: rate and burst only apply to rate_limit")
    return ActionSpec(action, expiry, approval, rate, burst)


def parse_policy(doc: Any, source: str = "<policy>") -> Policy:
    """Build a policy from a parsed YAML document; raise PolicyError naming ``source`` and the field."""
    if not isinstance(doc, dict):
        raise PolicyError(f"{source}: expected a map with name, version and rules")
    for key in ("name", "version", "rules"):
        if key not in doc:
            raise PolicyError(f"{source}: missing required key {key!r}")
    unknown = set(doc) - {"name", "version", "rules", "window", "default_expiry", "description"}
    if unknown:
        raise PolicyError(f"{source}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    name, version = doc["name"], doc["version"]
    if not isinstance(name, str) or not name:
        raise PolicyError(f"{source}: name: expected a non-empty string, got {name!r}")
    if isinstance(version, bool) or not isinstance(version, str | int | float):
        raise PolicyError(f"{source}: version: expected a string or number, got {version!r}")
    window = parse_duration(doc.get("window", 60), f"{source}: window")
    default_expiry = parse_duration(doc.get("default_expiry", DEFAULT_EXPIRY_S), f"{source}: default_expiry")
    rules_doc = doc["rules"]
    if not isinstance(rules_doc, list):
        raise PolicyError(f"{source}: rules: expected a list, got {type(rules_doc).__name__}")
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, r in enumerate(rules_doc):
        where = f"{source}: rules[{i}]"
        if not isinstance(r, dict):
            raise PolicyError(f"{where}: expected a map with id, when and then")
        unknown = set(r) - {"id", "when", "then", "reason"}
        if unknown:
            raise PolicyError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
        rid = r.get("id")
        if not isinstance(rid, str) or not rid:
            raise PolicyError(f"{where}.id: expected a non-empty string, got {rid!r}")
        if rid in seen:
            raise PolicyError(f"{where}.id: duplicate rule id {rid!r}")
        seen.add(rid)
        then = r.get("then")
        if not isinstance(then, list) or not then:
            raise PolicyError(f"{where}.then: expected a non-empty list of actions, got {then!r}")
        actions = tuple(_action(a, f"{where}.then[{j}]", default_expiry) for j, a in enumerate(then))
        reason = r.get("reason", rid)
        if not isinstance(reason, str):
            raise PolicyError(f"{where}.reason: expected a string, got {reason!r}")
        rules.append(Rule(rid, _clause(r.get("when"), f"{where}.when"), actions, reason))
    return Policy(name, str(version), tuple(rules), window, source, doc)


def load_policy(path: str | Path) -> Policy:
    """Read and check a policy YAML file; raise PolicyError naming the file (and line for YAML errors)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"{p}: cannot read: {exc.strerror or exc}") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyError(f"{p}{at}: invalid YAML: {problem}") from None
    return parse_policy(doc, str(p))


DEFAULT_POLICY_YAML = """\
name: default
version: 1
description: Graduated response to distillation; blocks wait for an analyst's approval.
window: 60s
rules:
  - id: campaign-members
    reason: member of a detected distillation campaign
    when: {in_campaign: true}
    then:
      - {action: withhold_reasoning, expiry: 7d}
      - {action: rate_limit, rate: 0.2, burst: 5, expiry: 7d}
      - {action: block_cluster, expiry: 30d, approval: true}
  - id: flagged-account
    reason: scan flagged the account
    when: {flagged: true}
    then:
      - {action: flag_review, expiry: 7d}
      - {action: summarise_reasoning, expiry: 1d}
  - id: campaign-template
    reason: request built from a campaign's prompt template
    when: {template_match: true}
    then:
      - {action: withhold_reasoning, expiry: 1d}
      - {action: flag_review, expiry: 7d}
  - id: partner-sighting
    reason: partners report this account's indicators
    when: {partner_sightings: ">= 2"}
    then:
      - {action: require_verification, expiry: 7d}
  - id: bulk-extraction
    reason: sustained extraction-shaped prompts
    when: {window_extraction: ">= 20", window_extraction_share: ">= 0.5"}
    then:
      - {action: withhold_reasoning, expiry: 1h}
      - {action: rate_limit, rate: 0.5, burst: 10, expiry: 1h}
      - {action: flag_review, expiry: 7d}
"""


def default_policy() -> Policy:
    """The shipped policy (``DEFAULT_POLICY_YAML``)."""
    return parse_policy(yaml.safe_load(DEFAULT_POLICY_YAML), "<default policy>")
