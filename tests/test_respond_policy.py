"""Policy files: the grammar, clear errors, condition semantics, and `distillguard policy test`."""

from __future__ import annotations

import json
import operator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from distillguard.cli import app
from distillguard.respond.policy import (
    Action,
    PolicyError,
    default_policy,
    load_policy,
    parse_duration,
    parse_policy,
)

runner = CliRunner()


@pytest.fixture(scope="module")
def sim_small(small_mixed: Path) -> Path:
    return small_mixed


def _policy(**rule: object) -> dict:
    return {
        "name": "p",
        "version": 1,
        "rules": [{"id": "r", "when": {"flagged": True}, "then": ["observe"], **rule}],
    }


def test_default_policy_parses_and_orders_graduated_actions() -> None:
    p = default_policy()
    assert p.label == "default@1"
    campaign = next(r for r in p.rules if r.id == "campaign-members")
    block = next(a for a in campaign.then if a.action is Action.BLOCK_CLUSTER)
    assert block.approval and block.expiry_s == 30 * 86400 and block.scope == "cluster"
    limit = next(a for a in campaign.then if a.action is Action.RATE_LIMIT)
    assert (limit.rate, limit.burst) == (0.2, 5.0)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (_policy(when={"riskiness": ">= 1"}), "rules[0].when.riskiness: unknown fact 'riskiness'"),
        (_policy(when={"risk": "about 0.9"}), "rules[0].when.risk: risk takes a comparison"),
        (_policy(when={"flagged": "yes"}), "rules[0].when.flagged: flagged takes true or false"),
        (_policy(then=["nuke_account"]), "rules[0].then[0].action: unknown action 'nuke_account'"),
        (_policy(then=[{"action": "rate_limit", "rate": 1}]), "rules[0].then[0].burst: rate_limit needs"),
        (
            _policy(then=[{"action": "block_key", "expiry": "soon"}]),
            "rules[0].then[0].expiry: expected a positive",
        ),
        (_policy(then=[{"action": "observe", "rate": 2}]), "rate and burst only apply to rate_limit"),
        ({"name": "p", "version": 1}, "missing required key 'rules'"),
        (_policy(when={"any": []}), "rules[0].when.any: expected a list"),
    ],
)
def test_bad_policies_name_the_field(doc: dict, message: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(doc, "pol.yaml")
    assert str(info.value).startswith("pol.yaml: ") and message in str(info.value)


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nversion: 1\nrules:\n  - id: a\n    when: {flagged: true\n")
    with pytest.raises(PolicyError, match=r"bad\.yaml:\d+:\d+: invalid YAML"):
        load_policy(path)


def test_duplicate_rule_ids_are_refused() -> None:
    doc = _policy()
    doc["rules"].append(dict(doc["rules"][0]))
    with pytest.raises(PolicyError, match="duplicate rule id 'r'"):
        parse_policy(doc)


@settings(deadline=None)
@given(n=st.integers(1, 10_000), unit=st.sampled_from(["s", "m", "h", "d", "w"]))
def test_durations_in_every_unit(n: int, unit: str) -> None:
    assert (
        parse_duration(f"{n}{unit}", "x") == n * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]
    )


OPS = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}


@settings(deadline=None)
@given(
    op=st.sampled_from(sorted(OPS)),
    bound=st.integers(-1000, 1000),
    value=st.integers(-1000, 1000),
)
def test_numeric_comparisons_mean_what_they_say(op: str, bound: int, value: int) -> None:
    p = parse_policy(_policy(when={"window_requests": f"{op} {bound}"}))
    assert bool(p.matches({"window_requests": value})) is OPS[op](value, bound)


def test_clause_semantics_all_any_sets_and_missing_facts() -> None:
    p = parse_policy(
        _policy(
            when={
                "intent": ["cot_elicitation", "reasoning_coercion"],
                "reasons": ["ip_rotation"],
                "any": [{"risk": ">= 0.99"}, {"partner_sightings": ">= 2"}],
            }
        )
    )
    base = {"intent": "cot_elicitation", "reasons": frozenset({"ip_rotation", "refusals"}), "risk": 0.5}
    assert not p.matches(base)  # neither any-branch holds; partner_sightings is missing
    assert p.matches({**base, "partner_sightings": 3})
    assert p.matches({**base, "risk": 0.995})
    assert not p.matches({**base, "risk": 0.995, "intent": "none"})
    assert not p.matches({**base, "risk": 0.995, "reasons": frozenset({"refusals"})})
    rule = p.rules[0]
    assert rule.when.describe({**base, "risk": 0.995}) == {
        "intent": "cot_elicitation",
        "reasons": ["ip_rotation", "refusals"],
        "risk": 0.995,
    }


POLICY = """\
name: replay-test
version: 7
window: 10m
rules:
  - id: bulk-extraction
    when: {window_extraction: ">= 5", window_extraction_share: ">= 0.5"}
    then:
      - {action: withhold_reasoning, expiry: 1h}
      - {action: flag_review, expiry: 7d}
  - id: campaign
    when: {in_campaign: true}
    then:
      - {action: block_account, expiry: 1d}
"""


def test_policy_test_replays_logs_and_counts_benign_accounts(sim_small: Path, tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(POLICY)
    labels = [json.loads(line) for line in (sim_small / "labels.jsonl").read_text().splitlines()]
    attack = sorted(r["account_id"] for r in labels if r["label"] == "attack")
    # A scan output naming two attack accounts as campaign members: the feedback loop's input.
    scan = tmp_path / "scan"
    scan.mkdir()
    rows = [f"{a},0.999999,1,k1,cmp_x,linked_cluster" for a in attack[:2]]
    (scan / "accounts.csv").write_text(
        "account_id,risk,flagged,cluster_id,campaign_id,reasons\n" + "\n".join(rows) + "\n"
    )
    report = tmp_path / "report.json"
    result = runner.invoke(
        app,
        [
            "policy",
            "test",
            str(policy),
            str(sim_small / "requests.parquet"),
            "--scan",
            str(scan),
            "--out",
            str(report),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "replay-test@7 replayed over" in result.stdout
    assert "benign accounts touched:" in result.stdout and "attack accounts touched:" in result.stdout
    doc = json.loads(report.read_text())
    # Campaign members are blocked from their first request on.
    for a in attack[:2]:
        outcome = doc["accounts"][a]
        assert "block_account" in outcome["actions"] and outcome["decisions"] == {"deny": outcome["requests"]}
    assert doc["actions"]["block_account"]["accounts"] == 2
    assert doc["actions"]["block_account"]["benign_accounts"] == 0
    by_label = doc["by_label"]
    senders = set(pq.read_table(sim_small / "requests.parquet", columns=["account_id"]).column(0).to_pylist())
    assert by_label["benign"]["accounts"] + by_label["attack"]["accounts"] == len(senders)
    # Every audit record says what, why, evidence, when and by which policy version.
    rec = next(r for r in doc["audit"] if r["action"] == "block_account")
    assert (
        rec["policy"] == "replay-test@7"
        and rec["rule"] == "campaign"
        and rec["evidence"]["in_campaign"] is True
    )
    assert rec["created_at"].endswith("Z") and rec["expires_at"] > rec["created_at"]
    # The bulk-extraction rule fired on accounts sending many extraction prompts, mostly attackers.
    withheld = [a for a, o in doc["accounts"].items() if "withhold_reasoning" in o["actions"]]
    assert withheld and sum(doc["accounts"][a]["label"] == "attack" for a in withheld) >= len(withheld) / 2


def test_policy_test_reports_bad_policy_and_missing_log(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nversion: 1\nrules:\n  - {id: a, when: {risk: high}, then: [observe]}\n")
    result = runner.invoke(app, ["policy", "test", str(bad), str(tmp_path / "nope.jsonl")])
    assert (
        result.exit_code == 2 and "rules[0].when.risk" in result.output and "Traceback" not in result.output
    )
    good = tmp_path / "good.yaml"
    good.write_text(POLICY)
    result = runner.invoke(app, ["policy", "test", str(good), str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2 and "nope.jsonl: no such file" in result.output


def test_policy_check_and_default_round_trip(tmp_path: Path) -> None:
    result = runner.invoke(app, ["policy", "default"])
    assert result.exit_code == 0
    path = tmp_path / "default.yaml"
    path.write_text(result.stdout)
    result = runner.invoke(app, ["policy", "check", str(path)])
    assert (
        result.exit_code == 0
        and "default@1: 5 rules" in result.stdout
        and "block_cluster (approval)" in result.stdout
    )
