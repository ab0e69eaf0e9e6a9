"""What users of the simulator rely on: determinism, coverage, and each tactic behaving as documented."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from distillguard.simulate.corpora import load_corpora
from distillguard.simulate.engine import run_simulation
from distillguard.simulate.personas import BENIGN_PERSONAS
from distillguard.simulate.scenarios import SCENARIOS
from distillguard.simulate.tactics import TACTICS

DAY = 86400.0


def _run(tmp_path_factory: pytest.TempPathFactory, scenario: str, **kw: object) -> Path:
    out = tmp_path_factory.mktemp(scenario)
    run_simulation(scenario, out, **{"days": 2, "scale": 0.2, "seed": 3, **kw})  # type: ignore[arg-type]
    return out


def _load(out: Path) -> tuple[list[dict], dict[str, dict], dict[str, dict], dict]:
    requests = pq.read_table(out / "requests.parquet").to_pylist()
    labels = {r["account_id"]: r for r in map(json.loads, (out / "labels.jsonl").read_text().splitlines())}
    accounts = {r["account_id"]: r for r in pq.read_table(out / "accounts.parquet").to_pylist()}
    manifest = json.loads((out / "scenario.json").read_text())
    return requests, labels, accounts, manifest


def _epoch(ts: dt.datetime) -> float:
    return ts.timestamp()


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple]:
    out = _run(tmp_path_factory, "mixed")
    return out, _load(out)


def test_same_seed_same_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for out, seed in ((a, 5), (b, 5), (c, 6)):
        run_simulation("thick_pool", out, days=1, scale=0.05, seed=seed, fmt="jsonl")
    for name in ("requests.jsonl", "accounts.jsonl", "labels.jsonl"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    assert (a / "requests.jsonl").read_bytes() != (c / "requests.jsonl").read_bytes()


def test_mixed_covers_every_benign_persona_and_many_tactics(mixed: tuple) -> None:
    _, (requests, labels, _, manifest) = mixed
    per_persona = Counter(labels[r["account_id"]]["persona"] for r in requests)
    for persona in BENIGN_PERSONAS:
        assert per_persona[persona] > 0, persona
    tactics = {t for r in labels.values() if r["label"] == "attack" for t in r["tactics"]}
    assert tactics == set(TACTICS), set(TACTICS) - tactics
    attack_requests = Counter(
        labels[r["account_id"]]["campaign_id"] for r in requests if labels[r["account_id"]]["campaign_id"]
    )
    assert set(attack_requests) == set(manifest["campaigns"])
    assert manifest["requests"] == len(requests)


def test_requests_are_time_ordered_unique_and_inside_the_window(mixed: tuple) -> None:
    _, (requests, labels, accounts, manifest) = mixed
    ts = [r["ts"] for r in requests]
    assert ts == sorted(ts)
    start = dt.datetime.fromisoformat(manifest["start"].replace("Z", "+00:00"))
    end = dt.datetime.fromisoformat(manifest["end"].replace("Z", "+00:00"))
    assert start <= ts[0] and ts[-1] < end
    assert len({r["request_id"] for r in requests}) == len(requests)
    assert {r["account_id"] for r in requests} <= set(accounts) == set(labels)
    # No request before its account existed.
    assert all(r["ts"] > accounts[r["account_id"]]["created_at"] for r in requests)


def test_ids_reveal_nothing(mixed: tuple) -> None:
    """Ids are opaque: sorting by id does not group campaigns together."""
    _, (_, labels, _, _) = mixed
    ordered = [labels[a]["label"] for a in sorted(labels)]
    runs = sum(1 for x, y in zip(ordered, ordered[1:], strict=False) if x != y)
    attack = ordered.count("attack")
    expected = 2 * attack * (len(ordered) - attack) / len(ordered)  # runs of a random shuffle
    assert runs > 0.8 * expected


def test_every_prompt_wraps_a_real_corpus_text(mixed: tuple) -> None:
    _, (requests, _, _, _) = mixed
    corpora = load_corpora()
    keys = {p.text[:40] for pool in corpora.prompts.values() for p in pool}
    keys |= {u[:40] for c in corpora.chats for u, a in c.turns} | {
        a[:40] for c in corpora.chats for u, a in c.turns
    }
    lengths = sorted({len(k) for k in keys})
    rng = np.random.default_rng(0)
    sample = [requests[i] for i in rng.choice(len(requests), size=min(600, len(requests)), replace=False)]
    missing = []
    for r in sample:
        text = "\n".join(m["content"] for m in r["messages"])
        found = any(text[i : i + n] in keys for i in range(len(text)) for n in lengths if i + n <= len(text))
        if not found:
            missing.append(text[:200])
    assert not missing, missing[:3]


def _campaign_rows(requests: list[dict], labels: dict, infra: str) -> list[dict]:
    return [
        r
        for r in requests
        if labels[r["account_id"]]["persona"] == infra and labels[r["account_id"]]["label"] == "attack"
    ]


def test_thick_pool_runs_730_to_860_a_day_around_the_clock(tmp_path_factory: pytest.TempPathFactory) -> None:
    requests, labels, _, _ = _load(_run(tmp_path_factory, "thick_pool"))
    rows = _campaign_rows(requests, labels, "thick_pool")
    per_acct = Counter(r["account_id"] for r in rows)
    rates = np.array(list(per_acct.values())) / 2
    assert 700 <= rates.mean() <= 900 and rates.min() > 600
    hours = {r["ts"].hour for r in rows}
    assert hours == set(range(24))
    # No idle gap longer than an hour on any account.
    by_acct = defaultdict(list)
    for r in rows:
        by_acct[r["account_id"]].append(_epoch(r["ts"]))
    assert max(np.diff(sorted(v)).max() for v in by_acct.values()) < 3600


def test_thin_swarm_stays_under_per_account_thresholds_but_moves_in_waves(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    requests, labels, accounts, _ = _load(_run(tmp_path_factory, "thin_swarm"))
    rows = _campaign_rows(requests, labels, "thin_swarm")
    members = [a for a, r in labels.items() if r["persona"] == "thin_swarm"]
    per_acct = Counter(r["account_id"] for r in rows)
    days_active = 1.5  # the campaign starts at the window start; two-day window
    rates = np.array([per_acct[a] for a in members]) / days_active
    assert 2 <= rates.mean() <= 13 and rates.max() < 30
    # Fresh card per account, and no sign-up burst.
    assert len({accounts[a]["payment_fingerprint"] for a in members}) == len(members)
    created = sorted(_epoch(accounts[a]["created_at"]) for a in members)
    assert (created[-1] - created[0]) > 30 * DAY
    # Synchronised waves: requests bunch into a few two-minute slots, where independent users
    # at this volume would touch most of them.
    slots = {int(_epoch(r["ts"]) // 120) for r in rows}
    span = (max(_epoch(r["ts"]) for r in rows) - min(_epoch(r["ts"]) for r in rows)) / 120
    assert len(slots) / span < 0.3 and len(rows) / span > 1.5


def test_hydra_cluster_shares_cards_blocks_and_sign_up_bursts(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    requests, labels, accounts, _ = _load(_run(tmp_path_factory, "hydra_cluster"))
    members = [a for a, r in labels.items() if r["persona"] == "hydra_cluster"]
    cards = Counter(accounts[a]["payment_fingerprint"] for a in members)
    assert cards.most_common(1)[0][1] >= 5 and len(cards) < len(members) / 2
    blocks = {r["ip"].rsplit(".", 1)[0] for r in _campaign_rows(requests, labels, "hydra_cluster")}
    assert len(blocks) <= 4
    created = np.sort([_epoch(accounts[a]["created_at"]) for a in members])
    # Every account has at least 5 others created within 3 hours of it.
    close = [(np.abs(created - c) < 3 * 3600).sum() - 1 for c in created]
    assert min(close) >= 5


def test_release_chaser_moves_40_to_60_percent_within_a_day(tmp_path_factory: pytest.TempPathFactory) -> None:
    out = _run(tmp_path_factory, "release_chaser", days=3)
    requests, labels, _, manifest = _load(out)
    new = manifest["models"][-1]
    release = dt.datetime.fromisoformat(new["released_at"].replace("Z", "+00:00")).timestamp()
    rows = _campaign_rows(requests, labels, "hydra_cluster")
    before = [r for r in rows if _epoch(r["ts"]) < release]
    assert before and not any(r["model"] == new["name"] for r in before)
    after = [r for r in rows if release + DAY <= _epoch(r["ts"]) < release + 1.5 * DAY]
    share = sum(r["model"] == new["name"] for r in after) / len(after)
    assert 0.35 <= share <= 0.65
    # Benign users adopt it far more slowly.
    benign_after = [
        r
        for r in requests
        if labels[r["account_id"]]["label"] == "benign" and release <= _epoch(r["ts"]) < release + DAY
    ]
    assert sum(r["model"] == new["name"] for r in benign_after) / len(benign_after) < 0.2


def test_pool_failover_replaces_banned_pool_within_hours(tmp_path_factory: pytest.TempPathFactory) -> None:
    out = _run(tmp_path_factory, "pool_failover", days=3)
    requests, labels, accounts, manifest = _load(out)
    banned_at = dt.datetime.fromisoformat(
        manifest["campaigns"]["pool-failover"]["banned_at"].replace("Z", "+00:00")
    ).timestamp()
    members = [a for a, r in labels.items() if r["campaign_id"] == "pool-failover"]
    old = [a for a in members if _epoch(accounts[a]["created_at"]) < banned_at]
    new = [a for a in members if _epoch(accounts[a]["created_at"]) >= banned_at]
    assert old and len(new) == len(old)
    assert max(_epoch(accounts[a]["created_at"]) for a in new) < banned_at + 10 * 3600
    rows = _campaign_rows(requests, labels, "thick_pool")
    last_old = max(_epoch(r["ts"]) for r in rows if r["account_id"] in set(old))
    assert banned_at <= last_old <= banned_at + 3600
    assert all(
        r["status"] == 403 for r in rows if r["account_id"] in set(old) and _epoch(r["ts"]) >= banned_at
    )
    first_new = min(_epoch(r["ts"]) for r in rows if r["account_id"] in set(new))
    assert first_new < banned_at + 8 * 3600


def test_reseller_relay_forwards_many_end_users(tmp_path_factory: pytest.TempPathFactory) -> None:
    requests, labels, _, _ = _load(_run(tmp_path_factory, "reseller_relay"))
    rows = _campaign_rows(requests, labels, "reseller_relay")
    by_acct: dict[str, set] = defaultdict(set)
    for r in rows:
        by_acct[r["account_id"]].add(r["ip"])
    assert by_acct
    assert min(len(ips) for ips in by_acct.values()) > 300
    chats = {u for c in load_corpora().chats for u, _ in c.turns}
    genuine = sum(r["messages"][-1]["content"] in chats for r in rows) / len(rows)
    assert 0.2 <= genuine <= 0.9


def test_benign_chat_users_sleep_and_ramp_up(mixed: tuple) -> None:
    _, (requests, labels, accounts, manifest) = mixed
    from distillguard.simulate.world import COUNTRY_TZ

    local_hours = Counter()
    for r in requests:
        if labels[r["account_id"]]["persona"] == "chat_user":
            tz = COUNTRY_TZ[accounts[r["account_id"]]["country"]]
            local_hours[int((r["ts"].hour + r["ts"].minute / 60 + tz) % 24)] += 1
    night = sum(local_hours[h] for h in (2, 3, 4))
    day = sum(local_hours[h] for h in (14, 15, 16))
    assert night < 0.2 * day


def test_technique_search_is_mostly_refused(tmp_path_factory: pytest.TempPathFactory) -> None:
    requests, labels, _, _ = _load(_run(tmp_path_factory, "technique_search"))
    rows = [r for r in requests if labels[r["account_id"]]["label"] == "attack"]
    refused = sum(r["status"] in (400, 403) for r in rows) / len(rows)
    assert refused > 0.5
    assert len({r["messages"][-1]["content"] for r in rows}) > 0.9 * len(rows)


@pytest.mark.parametrize("name", sorted(set(SCENARIOS) - {"mixed"}))
def test_every_scenario_runs(tmp_path: Path, name: str) -> None:
    result = run_simulation(name, tmp_path, days=1, scale=0.05, seed=1)
    assert result.requests > 0
    labels = [json.loads(x) for x in (tmp_path / "labels.jsonl").read_text().splitlines()]
    assert (name == "benign") == all(r["label"] == "benign" for r in labels)


def test_bad_arguments_get_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown scenario 'nope'; choose one of: benign, mixed"):
        run_simulation("nope", tmp_path)
    with pytest.raises(ValueError, match="--days must be at least 1"):
        run_simulation("mixed", tmp_path, days=0)
    with pytest.raises(ValueError, match="--scale must be greater than 0"):
        run_simulation("mixed", tmp_path, scale=0)
    with pytest.raises(ValueError, match="--format"):
        run_simulation("mixed", tmp_path, fmt="csv")
    with pytest.raises(ValueError, match="--start"):
        run_simulation("mixed", tmp_path, start="yesterday")
