"""The feedback loop on real detection output: simulate, scan, load the scan into the online state,
and check that campaign members are recognised, that a fresh account reusing a campaign's prompt
template matches its band keys, and that reloading picks up a new scan."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from distillguard.cli import app as cli
from distillguard.kernels.templates import fingerprint
from distillguard.respond.policy import parse_policy
from distillguard.respond.service import ServiceConfig, create_app
from distillguard.respond.watchlist import Watchlist, WatchlistError
from respond_support import Server

POLICY = {
    "name": "loop",
    "version": 1,
    "rules": [
        {"id": "member", "when": {"in_campaign": True}, "then": ["withhold_reasoning"]},
        {"id": "template", "when": {"template_match": True}, "then": ["flag_review"]},
        {"id": "partners", "when": {"partner_sightings": ">= 2"}, "then": ["require_verification"]},
    ],
}


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory, small_mixed: Path) -> Path:
    d = tmp_path_factory.mktemp("loop")
    for name in ("requests.parquet", "accounts.parquet", "labels.jsonl"):
        (d / name).symlink_to(small_mixed / name)
    runner = CliRunner()
    result = runner.invoke(cli, ["scan", str(d), "--out", str(d / "scan"), "--quiet"])
    assert result.exit_code == 0, result.output
    return d


def test_scan_outputs_load_and_template_keys_match_fresh_accounts(scanned: Path, tmp_path: Path) -> None:
    w = Watchlist.load(scanned / "scan")
    campaigns = json.loads((scanned / "scan" / "campaigns.json").read_text())["campaigns"]
    assert campaigns, "the scan found no campaign to feed back"
    members = set(campaigns[0]["accounts"])
    assert {a for a, i in w.accounts.items() if i.campaign} == {a for c in campaigns for a in c["accounts"]}
    assert w.summary()["template_keys"] > 0
    requests = pq.read_table(scanned / "requests.parquet", columns=["account_id", "messages"]).to_pylist()
    labels = {
        r["account_id"]: r["label"]
        for r in map(json.loads, (scanned / "labels.jsonl").read_text().splitlines())
    }
    member_requests = [r["messages"] for r in requests if r["account_id"] in members][:200]
    benign_requests = [r["messages"] for r in requests if labels.get(r["account_id"]) == "benign"][:400]

    def hits(reqs: list) -> int:
        return sum(bool(w.template_campaigns(fingerprint(m))) for m in reqs)

    # campaigns.json carries a campaign's top indicators only: they catch some of its requests ...
    assert hits(member_requests) > 0
    # ... and learning every key its members share from the scanned logs catches most of them.
    assert w.add_campaign_templates([scanned / "requests.parquet"]) > 0
    assert hits(member_requests) >= len(member_requests) // 2
    assert hits(benign_requests) <= len(benign_requests) // 100
    # A fresh account, unknown to the scan, sending a campaign's templated request is recognised online.
    sample = next(m for m in member_requests if w.template_campaigns(fingerprint(m)))
    sightings = tmp_path / "sightings.jsonl"
    sightings.write_text('{"indicator": "account:acct_partner_seen", "count": 2}\n')
    cfg = ServiceConfig(
        parse_policy(POLICY),
        db_url="sqlite://",
        timeout_s=1.0,
        scan_dirs=[scanned / "scan"],
        sightings=[sightings],
        scan_logs=[scanned / "requests.parquet"],
    )
    with Server(create_app(cfg)) as server, httpx.Client(base_url=server.url) as c:
        fresh = c.post("/v1/decide", json={"account_id": "acct_fresh", "messages": sample}).json()
        assert [a["action"] for a in fresh["actions"]] == ["flag_review"] and fresh["decision"] == "allow"
        member = c.post("/v1/decide", json={"account_id": sorted(members)[0], "messages": sample}).json()
        assert member["decision"] == "shape" and member["reasoning"] == "withhold"
        seen = c.post(
            "/v1/decide",
            json={"account_id": "acct_partner_seen", "messages": [{"role": "user", "content": "hi"}]},
        ).json()
        assert (
            seen["decision"] == "deny" and seen["headers"]["X-DistillGuard-Action"] == "require_verification"
        )
        # A newer scan replaces the old one on reload: here, one that flags nobody.
        (scanned / "scan" / "accounts.csv").write_text(
            "account_id,risk,flagged,cluster_id,campaign_id,reasons\n"
        )
        (scanned / "scan" / "campaigns.json").write_text('{"campaigns": []}\n')
        assert c.post("/v1/watchlist/reload").json()["campaign_accounts"] == 0
        later = c.post("/v1/decide", json={"account_id": "acct_fresh2", "messages": sample}).json()
        assert later["actions"] == []


def test_bad_feedback_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(WatchlistError, match="not a scan output directory"):
        Watchlist.load(tmp_path)
    (tmp_path / "accounts.csv").write_text(
        "account_id,risk,flagged,cluster_id,campaign_id,reasons\na,high,1,,,\n"
    )
    with pytest.raises(WatchlistError, match=r"accounts\.csv:2: risk"):
        Watchlist.load(tmp_path)
    bad = tmp_path / "s.jsonl"
    bad.write_text('{"indicator": "account:a"}\n{"indicator": "tk:body:xyz"}\n')
    with pytest.raises(WatchlistError, match=r"s\.jsonl:2: template indicator"):
        Watchlist.load(sightings=bad)
