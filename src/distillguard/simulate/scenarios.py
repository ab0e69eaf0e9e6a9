"""Named scenarios: the benign population plus zero or more concurrent campaigns.

Defaults are grounded in what frontier labs reported in 2026 and are scaled down so that
``--scale 1`` fits a laptop; ``--scale`` multiplies every population and campaign size:

- three campaigns totalled ~24,000 accounts and ~16M exchanges; campaigns ran 14-45 days at
  20k-3M requests per day;
- one proxy network ran 20,000 accounts at once (hydra cluster: 300 accounts at scale 1, so
  ``--scale 67`` reaches 20,000);
- thick pools ran ~730-860 requests per account per day; thin swarms ~2-13;
- a persona template was repeated tens of thousands of times across hundreds of accounts;
- a campaign moved about half its traffic to a new model within 24 hours of its release.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from distillguard.simulate.personas import benign_population
from distillguard.simulate.population import Context, Source
from distillguard.simulate.tactics import Campaign, CampaignSpec


def _n(base: float, scale: float) -> int:
    return max(1, round(base * scale))


# Per infrastructure: accounts at scale 1, requests per account per day, default content mix.
DEFAULTS: dict[str, tuple[int, tuple[float, float], dict[str, float]]] = {
    # ~15k requests/day sharing cards, IP blocks and sign-up bursts.
    "hydra_cluster": (300, (30.0, 70.0), {"cot_elicitation": 0.5, "plain_harvest": 0.5}),
    # Aged accounts, fresh card and residential proxy each, synchronised waves (reported 2-13/day).
    "thin_swarm": (800, (2.0, 13.0), {"persona_template": 0.7, "plain_harvest": 0.3}),
    # 24/7 with no idle gaps (reported ~730-860/day).
    "thick_pool": (16, (730.0, 860.0), {"rubric_grading": 0.5, "rl_task_generation": 0.5}),
    # Many genuine end users behind each account, 10-70% distillation.
    "reseller_relay": (3, (1000.0, 3000.0), {"synthetic_data": 0.6, "plain_harvest": 0.4}),
}


def campaign(infrastructure: str, scale: float, cid: str | None = None, **overrides: Any) -> CampaignSpec:
    """A campaign spec with the infrastructure's defaults at ``scale``; keyword arguments override them."""
    accounts, rate, content = DEFAULTS[infrastructure]
    spec: dict[str, Any] = {
        "infrastructure": infrastructure,
        "accounts": _n(accounts, scale),
        "per_account_per_day": rate,
        "content": content,
    }
    spec.update(overrides)
    return CampaignSpec(campaign_id=cid or infrastructure.replace("_", "-"), **spec)


def _single(make: Callable[[Context, float], list[CampaignSpec]]) -> Callable[[Context, float], list[Source]]:
    def build(ctx: Context, scale: float) -> list[Source]:
        return [*benign_population(ctx, scale), *(Campaign(ctx, s) for s in make(ctx, scale))]

    build.__doc__ = make.__doc__
    return build


@dataclass(frozen=True)
class Scenario:
    """A named population recipe."""

    name: str
    summary: str
    build: Callable[[Context, float], list[Source]]


def _mixed(ctx: Context, s: float) -> list[CampaignSpec]:
    """Six concurrent campaigns covering every tactic, over the full benign population."""
    return [
        campaign(
            "hydra_cluster",
            s,
            "C1-hydra-reasoning",
            content={"cot_elicitation": 0.4, "reasoning_coercion": 0.4, "plain_harvest": 0.2},
            paraphrase=True,
            release_chaser=True,
            start_day=0.2,
        ),
        campaign("thick_pool", s, "C2-thick-grader"),
        campaign("thin_swarm", s, "C3-thin-persona", start_day=0.5),
        campaign("reseller_relay", s, "C4-relay-synthetic"),
        campaign(
            "hydra_cluster",
            s,
            "C5-technique-search",
            accounts=_n(30, s),
            per_account_per_day=(100.0, 250.0),
            content={"technique_search": 0.7, "censorship_rewrite": 0.3},
            start_day=1.0,
        ),
        campaign(
            "thick_pool",
            s,
            "C6-agentic-failover",
            accounts=_n(24, s),
            per_account_per_day=(300.0, 600.0),
            content={"agentic_harvest": 1.0},
            pool_failover=True,
            start_day=0.3,
        ),
    ]


SCENARIOS: dict[str, Scenario] = {
    sc.name: sc
    for sc in (
        Scenario(
            "benign",
            "Only the benign population (every persona); for false-positive studies.",
            lambda ctx, s: benign_population(ctx, s),
        ),
        Scenario("mixed", _mixed.__doc__ or "", _single(_mixed)),
        Scenario(
            "hydra_cluster",
            "One hydra cluster harvesting plain answers and reconstructed reasoning.",
            _single(lambda c, s: [campaign("hydra_cluster", s)]),
        ),
        Scenario(
            "thin_swarm",
            "One thin swarm under any per-account threshold, linked only by templates and timing.",
            _single(lambda c, s: [campaign("thin_swarm", s)]),
        ),
        Scenario(
            "thick_pool",
            "One thick pool grading and generating RL tasks around the clock.",
            _single(lambda c, s: [campaign("thick_pool", s)]),
        ),
        Scenario(
            "reseller_relay",
            "Three reseller accounts relaying real users with distillation mixed in.",
            _single(lambda c, s: [campaign("reseller_relay", s)]),
        ),
        Scenario(
            "release_chaser",
            "A hydra cluster that moves half its traffic to the new model within a day.",
            _single(
                lambda c, s: [
                    campaign("hydra_cluster", s, "release-chaser", accounts=_n(150, s), release_chaser=True)
                ]
            ),
        ),
        Scenario(
            "reasoning_coercion",
            "Multilingual reasoning-trace coercion from a paraphrasing hydra cluster.",
            _single(
                lambda c, s: [
                    campaign(
                        "hydra_cluster",
                        s,
                        "reasoning-coercion",
                        accounts=_n(200, s),
                        content={"reasoning_coercion": 1.0},
                        paraphrase=True,
                    )
                ]
            ),
        ),
        Scenario(
            "cot_elicitation",
            "Chain-of-thought elicitation over completed answers.",
            _single(
                lambda c, s: [
                    campaign(
                        "hydra_cluster",
                        s,
                        "cot-elicitation",
                        accounts=_n(200, s),
                        content={"cot_elicitation": 1.0},
                    )
                ]
            ),
        ),
        Scenario(
            "rubric_grading",
            "The model used as a reward model by a thick pool.",
            _single(
                lambda c, s: [
                    campaign(
                        "thick_pool", s, "rubric-grading", accounts=_n(12, s), content={"rubric_grading": 1.0}
                    )
                ]
            ),
        ),
        Scenario(
            "rl_task_generation",
            "RL task generation by a thick pool.",
            _single(
                lambda c, s: [
                    campaign(
                        "thick_pool",
                        s,
                        "rl-task-generation",
                        accounts=_n(12, s),
                        content={"rl_task_generation": 1.0},
                    )
                ]
            ),
        ),
        Scenario(
            "censorship_rewrite",
            "Censorship-safe rewrites of sensitive questions.",
            _single(
                lambda c, s: [
                    campaign(
                        "hydra_cluster",
                        s,
                        "censorship-rewrite",
                        accounts=_n(100, s),
                        content={"censorship_rewrite": 1.0},
                    )
                ]
            ),
        ),
        Scenario(
            "agentic_harvest",
            "Tool-use trajectory harvesting that imitates coding agents.",
            _single(
                lambda c, s: [
                    campaign(
                        "thick_pool",
                        s,
                        "agentic-harvest",
                        accounts=_n(20, s),
                        per_account_per_day=(300.0, 600.0),
                        content={"agentic_harvest": 1.0},
                    )
                ]
            ),
        ),
        Scenario(
            "technique_search",
            "Thousands of varied extraction attempts, mostly refused.",
            _single(
                lambda c, s: [
                    campaign(
                        "hydra_cluster",
                        s,
                        "technique-search",
                        accounts=_n(40, s),
                        per_account_per_day=(100.0, 300.0),
                        content={"technique_search": 0.8, "cot_elicitation": 0.2},
                    )
                ]
            ),
        ),
        Scenario(
            "pool_failover",
            "A thick pool banned mid-window and replaced by a fresh pool within hours.",
            _single(
                lambda c, s: [
                    campaign(
                        "thick_pool",
                        s,
                        "pool-failover",
                        accounts=_n(30, s),
                        per_account_per_day=(400.0, 700.0),
                        content={"plain_harvest": 0.5, "persona_template": 0.5},
                        pool_failover=True,
                    )
                ]
            ),
        ),
    )
}


def get_scenario(name: str) -> Scenario:
    """Look up a scenario, or raise ValueError listing the known names."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; choose one of: {', '.join(SCENARIOS)}") from None
