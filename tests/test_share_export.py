"""Export to STIX 2.1: conformance (stix2-validator, stix2.parse), TLP 2.0, the redaction gate."""

from __future__ import annotations

import copy
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from distillguard.cli import app
from distillguard.share import extension as ext
from distillguard.share import tlp
from distillguard.share.conformance import parse_strict, validator_errors
from distillguard.share.export import CampaignFileError, build_bundle, load_campaigns
from distillguard.share.keys import Keyring
from distillguard.share.redact import RedactionError, check_bundle
from share_fixtures import ACCOUNTS, PROMPT, RESPONSE, campaign, secrets_of

RING = Keyring.new("forum")


def _bundle(campaigns=None, level="amber+strict"):
    return build_bundle(
        campaigns or [campaign(), campaign(campaign_id="cmp_000000000001")], RING, "Provider A", level
    )


def _first(bundle, kind):
    return next(o for o in bundle["objects"] if o["type"] == kind)


def test_every_required_object_type_is_exported_and_valid():
    b = _bundle()
    kinds = {o["type"] for o in b["objects"]}
    assert {
        "report", "campaign", "intrusion-set", "attack-pattern", "indicator", "infrastructure",
        "identity", "sighting", "note", "opinion", "relationship", "marking-definition",
        "extension-definition",
    } <= kinds  # fmt: skip
    assert validator_errors(b) == []
    parsed = parse_strict(b)
    assert len(parsed.objects) == len(b["objects"])
    report = _first(b, "report")
    assert set(report["object_refs"]) >= {o["id"] for o in b["objects"] if o["type"] == "campaign"}


def test_indicators_are_single_comparisons_with_name_and_description():
    b = _bundle()
    indicators = [o for o in b["objects"] if o["type"] == "indicator"]
    assert indicators
    for ind in indicators:
        assert ind["name"] and ind["description"]
        assert re.fullmatch(r"\[[a-z0-9-]+:[a-z_]+ = '[^']+'\]", ind["pattern"])
        assert " AND " not in ind["pattern"] and " OR " not in ind["pattern"]


def test_atlas_techniques_and_taxonomy_are_attack_patterns():
    b = _bundle()
    ids = {
        r["external_id"]
        for o in b["objects"]
        if o["type"] == "attack-pattern"
        for r in o["external_references"]
    }
    assert {"AML.T0024.002", "AML.T0040", "chain-of-thought exfiltration", "infrastructure"} <= ids


def test_counts_leave_only_as_ranges():
    body = _first(_bundle(), "campaign")["extensions"][ext.EXTENSION_ID]
    assert body["requests"] == {"min": 1000, "max": 9999}
    assert body["accounts"] == {"min": 10, "max": 99}
    assert body["output_tokens"] == {"min": 100000, "max": 999999}
    assert {m["model"] for m in body["model_release_context"]["models"]} == {
        "frontier-2-thinking-2026-02-01",
        "frontier-3-2026-03-02",
    }
    assert body["model_release_context"]["release_chase"] is True
    assert body["bases"]["capabilities"] == "inferred" and body["bases"]["requests"] == "observed"
    text = json.dumps(_bundle())
    for exact in ("4235", "932633", "2154"):
        assert exact not in text


@given(st.integers(min_value=0, max_value=10**12))
def test_count_range_holds_the_count_and_passes_the_schema(n):
    r = ext.count_range(n)
    assert r["min"] <= n and (r["max"] is None or n <= r["max"])
    assert r in ext.extension_body_schema()["properties"]["requests"]["enum"]


def test_default_marking_is_amber_strict_on_every_object():
    b = _bundle()
    amber_strict = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
    assert tlp.marking("amber+strict") in b["objects"]
    for o in b["objects"]:
        if o["type"] in ("marking-definition", "extension-definition") or o["id"] == ext.PROJECT_IDENTITY_ID:
            continue
        assert o["object_marking_refs"] == [amber_strict], o["id"]


def test_green_marking_and_its_definition():
    b = _bundle(level="TLP:GREEN")
    green = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
    assert _first(b, "campaign")["object_marking_refs"] == [green]
    assert tlp.marking("green") in b["objects"]
    assert validator_errors(b) == []


def test_export_is_deterministic_so_servers_store_it_once():
    a, b = _bundle(), _bundle()
    ids = lambda x: [o["id"] for o in x["objects"] if o["type"] not in ("report",)]  # noqa: E731
    assert ids(a) == ids(b)


def test_extension_schema_file_matches_code():
    assert ext.shipped_schema() == ext.validator_schema()


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda c: c.__setitem__("prompt_text", PROMPT), id="extra prompt_text property"),
        pytest.param(
            lambda c: c["extensions"][ext.EXTENSION_ID].__setitem__("prompt_text", PROMPT),
            id="prompt_text inside the extension",
        ),
        pytest.param(
            lambda c: c["extensions"][ext.EXTENSION_ID].__setitem__("requests", 4235), id="count not a range"
        ),
        pytest.param(
            lambda c: c["extensions"][ext.EXTENSION_ID].__setitem__("requests", {"min": 1000, "max": 4235}),
            id="range that is not a bucket",
        ),
        pytest.param(
            lambda c: c["extensions"][ext.EXTENSION_ID].__setitem__("capabilities", ["write my essay"]),
            id="free text capability",
        ),
        pytest.param(
            lambda c: c["extensions"][ext.EXTENSION_ID].__setitem__("template_fingerprints", ["tk:head:12"]),
            id="unkeyed template key",
        ),
    ],
)
def test_validator_and_gate_reject_mutated_bundles(mutate):
    b = _bundle()
    mutate(_first(b, "campaign"))
    assert validator_errors(b)
    with pytest.raises(RedactionError, match="campaign--"):
        check_bundle(b, producers=["Provider A"])


def test_stix2_parse_rejects_unknown_property():
    b = _bundle()
    _first(b, "indicator")["prompt_text"] = PROMPT
    with pytest.raises(Exception, match="prompt_text"):
        parse_strict(b)


# ---- smuggling: every place a local value could ride out ----------------------------------------

SMUGGLE = {
    "prompt": PROMPT,
    "response": RESPONSE,
    "email": "jane.doe@example.com",
    "ipv4": "198.51.100.23",
    "ipv6": "2001:db8::1f",
    "account": ACCOUNTS[3],
    "card": "4111 1111 1111 1111",
}


def _smuggle_into_campaign(where: str, value: str) -> dict:
    c = campaign()
    if where == "capability":
        c["capabilities"][value] = 50
    elif where == "model":
        c["models"][value] = 500
    elif where == "tactic":
        c["tactics"].append({"tactic": value, "method": value, "atlas": [value], "requests": 10})
    elif where == "template_indicator":
        c["evidence"]["shared_indicators"].append(
            {"kind": "template", "indicator": f"tk:head:{value}", "accounts": 9}
        )
    elif where == "link_kind":
        c["evidence"]["link_kinds"][value] = 3
    elif where == "reason":
        c["evidence"]["reasons"][value] = 3
    elif where == "campaign_id":
        c["campaign_id"] = value
    elif where == "sample":
        c["evidence"]["sample_requests"][0]["prompt_head"] = value
    return c


@pytest.mark.parametrize("what", sorted(SMUGGLE))
@pytest.mark.parametrize(
    "where",
    ["capability", "model", "tactic", "template_indicator", "link_kind", "reason", "campaign_id", "sample"],
)
def test_campaign_fields_cannot_smuggle_values_out(where, what):
    value = SMUGGLE[what]
    c = _smuggle_into_campaign(where, value)
    try:
        b = build_bundle([c], RING, "Provider A")
        check_bundle(b, secrets=[*secrets_of([c]), value], producers=["Provider A"])
    except RedactionError:
        return  # refused before anything was written
    assert value not in json.dumps(b)
    assert value.lower() not in json.dumps(b).lower()


def _string_slots(obj, path=()):
    if isinstance(obj, str):
        yield path
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _string_slots(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _string_slots(v, (*path, i))


def _set(obj, path, value):
    for p in path[:-1]:
        obj = obj[p]
    obj[path[-1]] = value


_BUNDLE = _bundle([campaign()])
_SLOTS = [
    (i, path)
    for i, o in enumerate(_BUNDLE["objects"])
    for path in _string_slots(o)
    if path[0] not in ("type",)
]


@pytest.mark.parametrize("what", sorted(SMUGGLE))
def test_gate_refuses_each_value_in_every_string_slot(what):
    value = SMUGGLE[what]
    refused = 0
    for i, path in _SLOTS:
        b = copy.deepcopy(_BUNDLE)
        old = b["objects"][i]
        for p in path[:-1]:
            old = old[p]
        # Appended, so the slot keeps its own shape and only the smuggled value can be the reason.
        _set(b["objects"][i], path, f"{old[path[-1]]} {value}")
        with pytest.raises(RedactionError):
            check_bundle(b, secrets=secrets_of([campaign()]), producers=["Provider A"])
        refused += 1
    assert refused == len(_SLOTS) > 100


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    slot=st.sampled_from(_SLOTS),
    value=st.one_of(
        st.emails(),
        st.ip_addresses().map(str).filter(lambda s: sum(ch.isalnum() for ch in s) >= 3),
        st.text(alphabet=st.characters(categories=["L"]), min_size=12, max_size=40).filter(
            lambda s: not s.isascii()
        ),
    ),
)
def test_gate_refuses_generated_identifiers_anywhere(slot, value):
    i, path = slot
    b = copy.deepcopy(_BUNDLE)
    old = b["objects"][i]
    for p in path[:-1]:
        old = old[p]
    _set(b["objects"][i], path, f"{old[path[-1]]} {value}")
    with pytest.raises(RedactionError):
        check_bundle(b, producers=["Provider A"])


def test_gate_refuses_unknown_objects_and_extensions():
    b = _bundle()
    b["objects"].append(
        {"type": "observed-data", "id": "observed-data--" + "0" * 8 + "-0000-4000-8000-" + "0" * 12}
    )
    with pytest.raises(RedactionError, match="observed-data"):
        check_bundle(b)
    b = _bundle()
    _first(b, "campaign")["extensions"]["extension-definition--00000000-0000-4000-8000-000000000000"] = {}
    with pytest.raises(RedactionError, match="extensions"):
        check_bundle(b, producers=["Provider A"])


def test_load_campaigns_names_file_and_field(tmp_path):
    p = tmp_path / "campaigns.json"
    p.write_text(json.dumps({"campaigns": [{"campaign_id": "x", "n_accounts": "many"}]}))
    with pytest.raises(CampaignFileError, match=r"campaigns\.json: campaigns\[0\]\.n_accounts"):
        load_campaigns(p)
    p.write_text("{nope")
    with pytest.raises(CampaignFileError, match="line 1"):
        load_campaigns(p)


def test_cli_export_and_check(tmp_path):
    runner = CliRunner()
    keys = tmp_path / "group.keys.json"
    assert runner.invoke(app, ["share", "keygen", str(keys)]).exit_code == 0
    camp = tmp_path / "campaigns.json"
    camp.write_text(json.dumps({"campaigns": [campaign()]}))
    bundle = tmp_path / "a.json"
    r = runner.invoke(
        app, ["share", "export", str(camp), "-k", str(keys), "-p", "Provider A", "-o", str(bundle)]
    )
    assert r.exit_code == 0, r.output
    text = bundle.read_text()
    for s in secrets_of([campaign()]):
        assert s not in text
    r = runner.invoke(app, ["share", "check", str(bundle), "-p", "Provider A"])
    assert r.exit_code == 0, r.output
    data = json.loads(text)
    _first(data, "note")["content"] += " " + PROMPT
    bundle.write_text(json.dumps(data))
    r = runner.invoke(app, ["share", "check", str(bundle), "-p", "Provider A"])
    assert r.exit_code == 1
    r = runner.invoke(app, ["share", "export", str(camp), "-k", str(keys), "-p", "Jane <jane@example.com>"])
    assert r.exit_code == 2 and "refusing to export" in r.output
