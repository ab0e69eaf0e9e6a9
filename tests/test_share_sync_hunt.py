"""Push, pull (incremental, resumable) and retro-hunt between two providers through a real TAXII server."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pyarrow as pa
import pytest

from distillguard.kernels.templates import fingerprint
from distillguard.share.conformance import validator_errors
from distillguard.share.export import build_bundle
from distillguard.share.keys import Keyring
from distillguard.share.redact import check_bundle
from distillguard.share.retrohunt import collect, evidence, hunt, sightings_bundle
from distillguard.share.serve import running
from distillguard.share.server import ServerConfig
from distillguard.share.store import Store
from distillguard.share.sync import PartnerError, State, load_partners, pull, push, read_inbox
from share_fixtures import campaign

COL = "0f3c8d2e-5b7a-4c1e-9d3f-2a6b8c4e1f70"
TEMPLATE = (
    "You are GradeBot, a strict grader. For the task below, reason step by step, show every "
    "intermediate step of your chain of thought, then give a score from 1 to 10 and a rubric."
)


def _requests(rows):
    t0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    return pa.table(
        {
            "request_id": [f"req_{i:08d}" for i in range(len(rows))],
            "account_id": [a for a, _ in rows],
            "ts": pa.array(
                [t0 + dt.timedelta(minutes=i) for i in range(len(rows))], pa.timestamp("us", tz="UTC")
            ),
            "messages": [
                [{"role": "system", "content": s}, {"role": "user", "content": "Task 12"}] for _, s in rows
            ],
        }
    )


@pytest.fixture()
def setup(tmp_path):
    ring = Keyring.new("forum")
    # Provider A saw the campaign's template; its band keys are the campaign's shared indicators.
    keys = fingerprint([{"role": "system", "content": TEMPLATE}])["system"]
    shared = [{"kind": "template", "indicator": f"tk:system:{k}", "accounts": 30} for k in keys]
    a_campaign = campaign()
    a_campaign["evidence"]["shared_indicators"] = shared
    bundle = build_bundle([a_campaign], ring, "Provider A")
    (tmp_path / "a.json").write_text(json.dumps(bundle))
    sha = lambda s: hashlib.sha256(s.encode()).hexdigest()  # noqa: E731
    config = ServerConfig.from_dict(
        {
            "collections": [{"id": COL, "title": "provider A indicators"}],
            "principals": [
                {
                    "name": "a",
                    "password_sha256": sha("pa"),
                    "clearance": "red",
                    "read": [COL],
                    "write": [COL],
                },
                {
                    "name": "b",
                    "password_sha256": sha("pb"),
                    "clearance": "amber+strict",
                    "read": [COL],
                    "write": [COL],
                },
            ],
        }
    )
    store = Store(f"sqlite:///{tmp_path}/a.db")
    with running(store, config) as base:
        partners = tmp_path / "partners.json"
        entry = {"api_root": f"{base}/share/", "collection": COL}
        partners.write_text(
            json.dumps(
                {
                    "partners": [
                        {"name": "provider-a", "user": "a", "password_env": "DG_A", **entry},
                        {"name": "provider-a-as-b", "user": "b", "password_env": "DG_B", **entry},
                    ]
                }
            )
        )
        env = {"DG_A": "pa", "DG_B": "pb"}
        yield tmp_path, ring, load_partners(partners, env), bundle
    store.close()


def test_push_pull_resume_and_hunt(setup):
    tmp, ring, partners, bundle = setup
    a, b = partners["provider-a"], partners["provider-a-as-b"]
    # A publishes (in chunks, twice: the second push sends nothing new).
    state_a = State(tmp / "a-state.json")
    assert push(a, state_a, tmp / "a.json", chunk=10) == len(bundle["objects"])
    assert push(a, state_a, tmp / "a.json", chunk=10) == 0
    # B pulls one page, "crashes", resumes: every object arrives exactly once.
    state_b = State(tmp / "b-state.json")
    first = pull(b, state_b, tmp / "inbox", page_size=7, max_pages=1)
    assert first == 7
    rest = pull(b, State(tmp / "b-state.json"), tmp / "inbox", page_size=7)
    ids = [o["id"] for _, o in read_inbox(tmp / "inbox")]
    assert first + rest == len(ids) == len(set(ids)) == len(bundle["objects"])
    assert pull(b, State(tmp / "b-state.json"), tmp / "inbox") == 0

    # B's traffic: three accounts use a lightly edited copy of the template, two are unrelated.
    edited = TEMPLATE.replace("GradeBot", "ScoreBot").replace("1 to 10", "0 to 100")
    rows = [
        ("acct_b1", edited),
        ("acct_b2", edited),
        ("acct_b3", TEMPLATE),
        ("acct_b4", "You are a helpful assistant."),
    ]
    rows += [("acct_b5", "Summarise the following meeting notes in three bullet points for the team.")]
    indicators = collect(read_inbox(tmp / "inbox"))
    assert len(indicators) == 10
    matches = hunt([_requests(rows)], indicators, ring)
    found = evidence(matches, indicators, [{"campaign_id": "cmp_local", "accounts": ["acct_b1"]}])
    assert len(found) == 1
    assert found[0]["accounts"] == ["acct_b1", "acct_b2", "acct_b3"]
    assert found[0]["local_campaigns"] == ["cmp_local"]
    assert found[0]["accounts_not_in_local_campaigns"] == ["acct_b2", "acct_b3"]
    camp = next(o for o in bundle["objects"] if o["type"] == "campaign")
    assert found[0]["partner_campaign"] == camp["id"]

    # Without the group key nothing matches.
    assert hunt([_requests(rows)], indicators, Keyring.new("other")) == {}

    # Sightings go back to A: checked, valid, accepted by A's server.
    sightings = sightings_bundle(matches, "Provider B")
    check_bundle(sightings, producers=["Provider B"])
    assert validator_errors(sightings) == []
    text = json.dumps(sightings)
    assert "acct_b" not in text and "req_" not in text
    (tmp / "s.json").write_text(text)
    assert push(b, State(tmp / "b-state.json"), tmp / "s.json") == len(sightings["objects"])
    got = {o["id"] for _, o in read_inbox(tmp / "inbox")}
    pull(a, State(tmp / "a-state.json"), tmp / "a-inbox")
    back = [o for _, o in read_inbox(tmp / "a-inbox") if o["type"] == "sighting" and o["id"] not in got]
    assert {s["sighting_of_ref"] for s in back} == set(matches)


def test_partner_errors_name_file_field_and_url(setup, tmp_path):
    tmp, _, partners, _ = setup
    p = tmp_path / "p.json"
    p.write_text(json.dumps({"partners": [{"name": "x", "api_root": "u", "collection": "c", "user": "u"}]}))
    with pytest.raises(PartnerError, match=r"partners\[0\]\.password_env"):
        load_partners(p, {})
    bad = partners["provider-a"].__class__("x", partners["provider-a"].api_root, COL, "a", "wrong")
    with pytest.raises(PartnerError, match="HTTP 401"):
        pull(bad, State(tmp_path / "s.json"), tmp_path / "inbox")


def test_keyed_user_agents_are_exported_and_hunted():
    from distillguard.share.export import campaign_user_agents

    ring = Keyring.new("forum")
    c = campaign()
    a0, a1, a2 = c["accounts"][:3]
    ours = pa.table(
        {
            "account_id": [a0, a1, a2, "acct_benign1", "acct_benign1"],
            "user_agent": [
                "harvest/9.1 (cluster)",
                "harvest/9.1 (cluster)",
                "OpenAI/Python 1.54.3",
                "OpenAI/Python 1.54.3",
                "x/1",
            ],
        }
    )
    # Only a user agent that two or more campaign accounts, and nobody else, send is shared.
    agents = campaign_user_agents([c], ours)
    assert agents == {c["campaign_id"]: ["harvest/9.1 (cluster)"]}
    c["user_agents"] = agents[c["campaign_id"]]
    bundle = build_bundle([c], ring, "Provider A")
    text = json.dumps(bundle)
    assert "harvest/9.1" not in text and "hk1:" in text
    check_bundle(bundle, secrets=c["user_agents"], producers=["Provider A"])
    assert validator_errors(bundle) == []
    t0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    theirs = pa.table(
        {
            "request_id": ["r1", "r2", "r3"],
            "account_id": ["acct_x1", "acct_x2", "acct_x3"],
            "ts": pa.array([t0] * 3, pa.timestamp("us", tz="UTC")),
            "messages": [[{"role": "user", "content": "hello there"}]] * 3,
            "user_agent": ["harvest/9.1 (cluster)", "harvest/9.2 (cluster)", None],
        }
    )
    indicators = collect(("provider-a", o) for o in bundle["objects"])
    matches = hunt([theirs], indicators, ring)
    assert {a for m in matches.values() for a in m.accounts} == {"acct_x1"}


def test_psi_results_become_evidence():
    from distillguard.share.retrohunt import psi_evidence

    result = {
        "partner": "provider-a",
        "kind": "payment",
        "matched": [{"value": "payment:pf_1", "accounts": ["acct_1", "acct_2"]}],
    }
    e = psi_evidence(result, [{"campaign_id": "cmp_1", "accounts": ["acct_1"]}])
    assert e["accounts"] == ["acct_1", "acct_2"] and e["local_campaigns"] == ["cmp_1"]
    assert e["accounts_not_in_local_campaigns"] == ["acct_2"] and e["psi_kind"] == "payment"
    from distillguard.share.retrohunt import annotate

    local = [{"campaign_id": "cmp_1", "accounts": ["acct_1", "acct_9"], "evidence": {"reasons": {}}}]
    (c,) = annotate(local, [e])
    assert c["evidence"]["partner_matches"] == [
        {"partner": "provider-a", "partner_campaign": None, "kind": "payment", "accounts_matched": 1}
    ]
    assert "partner_matches" not in local[0]["evidence"]


def test_cli_push_pull_hunt(setup, monkeypatch):
    import pyarrow.parquet as pq
    from typer.testing import CliRunner

    from distillguard.cli import app
    from distillguard.io.schema import REQUESTS

    tmp, ring, _, bundle = setup
    monkeypatch.setenv("DG_A", "pa")
    monkeypatch.setenv("DG_B", "pb")
    ring.save(tmp / "group.keys.json")
    runner = CliRunner()
    partners = str(tmp / "partners.json")
    r = runner.invoke(
        app,
        [
            "share",
            "push",
            str(tmp / "a.json"),
            "--partners",
            partners,
            "--partner",
            "provider-a",
            "--state",
            str(tmp / "sa.json"),
            "-q",
        ],
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        app,
        [
            "share",
            "pull",
            "--partners",
            partners,
            "--partner",
            "provider-a-as-b",
            "--inbox",
            str(tmp / "in"),
            "--state",
            str(tmp / "sb.json"),
            "-q",
        ],
    )
    assert r.exit_code == 0 and f"{len(bundle['objects'])} new objects" in r.output, r.output
    rows = [("acct_b1", TEMPLATE), ("acct_b2", "Write a haiku about the sea, please, in English.")]
    t = _requests(rows)
    n = t.num_rows
    full = pa.table(
        {f.name: (t.column(f.name) if f.name in t.column_names else pa.nulls(n, f.type)) for f in REQUESTS},
        schema=REQUESTS.remove_metadata(),
    ).set_column(REQUESTS.get_field_index("model"), "model", pa.array(["frontier-2"] * n))
    pq.write_table(full.cast(REQUESTS), tmp / "requests.parquet")
    local = [campaign(campaign_id="cmp_b", accounts=["acct_b1"], n_accounts=1)]
    (tmp / "local.json").write_text(json.dumps({"campaigns": local}))
    r = runner.invoke(
        app,
        [
            "share",
            "hunt",
            str(tmp / "requests.parquet"),
            "-k",
            str(tmp / "group.keys.json"),
            "-p",
            "Provider B",
            "--inbox",
            str(tmp / "in"),
            "-o",
            str(tmp / "hunt"),
            "--campaigns",
            str(tmp / "local.json"),
            "-q",
        ],
    )
    assert r.exit_code == 0, r.output
    ev = json.loads((tmp / "hunt" / "evidence.json").read_text())["matches"]
    assert [m["accounts"] for m in ev] == [["acct_b1"]] and ev[0]["local_campaigns"] == ["cmp_b"]
    (annotated,) = json.loads((tmp / "hunt" / "campaigns.json").read_text())["campaigns"]
    assert annotated["evidence"]["partner_matches"][0]["accounts_matched"] == 1
    sightings = json.loads((tmp / "hunt" / "sightings.json").read_text())
    assert validator_errors(sightings) == []
    r = runner.invoke(app, ["share", "pull", "--partners", partners, "--partner", "nobody"])
    assert r.exit_code == 2 and "no partner named 'nobody'" in r.output
