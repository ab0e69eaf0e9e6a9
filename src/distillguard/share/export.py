"""Campaigns (``campaigns.json`` from ``distillguard scan``) as a STIX 2.1 bundle inside a ``report``.

Each campaign becomes a ``campaign`` with the distillation extension, an ``intrusion-set`` behind it,
an ``infrastructure`` (its account and proxy pool), keyed template ``indicator`` objects (one
single-comparison pattern each) with the producer's ``sighting`` of each, a ``note`` and an
``opinion`` that partners can answer with their own, and relationships to shared MITRE ATLAS and
distillation-method ``attack-pattern`` objects. Every object carries a TLP 2.0 marking and the
producer identity. Ids are UUIDv5 of the producer and the local campaign id, so exporting the same
scan again yields the same ids (a server stores it once), and only the producer can map a STIX id
back to its own campaign.

Nothing is copied from the campaign as text: names and descriptions are built from fixed phrases
and the closed vocabularies of the extension, counts become ranges, template keys are keyed with
the sharing group's key, and account ids, request ids, sample prompts and network or payment values
are never read. ``redact.check_bundle`` then verifies the result before it is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from distillguard.share import extension as ext
from distillguard.share import tlp
from distillguard.share.keys import Keyring

NAMESPACE = uuid.UUID("ba64e59a-5f78-4d33-b4d6-26dedc615088")
ATLAS: dict[str, str] = {
    "AML.T0024.002": "Extract AI Model",
    "AML.T0040": "AI Model Inference API Access",
}
MAX_TEMPLATE_KEYS = 40
MIN_MODEL_REQUESTS = 10
PARTS = ("system", "head", "tail", "body")


class CampaignFileError(ValueError):
    """campaigns.json is missing, malformed, or a campaign lacks a field export needs."""


def stix_id(kind: str, *names: str) -> str:
    """A deterministic STIX id for an object named by ``names`` (stable across exports).

    STIX wants UUIDv4 for domain objects, so the name's SHA-256 fills a version-4 UUID's random
    bits instead of using UUIDv5.
    """
    digest = hashlib.sha256(NAMESPACE.bytes + "/".join((kind, *names)).encode()).digest()
    return f"{kind}--{uuid.UUID(bytes=digest[:16], version=4)}"


def timestamp(value: Any) -> str:
    """A STIX timestamp (UTC, milliseconds, ``Z``) from a datetime or the scan's timestamp text."""
    if isinstance(value, dt.datetime):
        t = value
    else:
        try:
            t = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError as e:
            raise CampaignFileError(f"not a timestamp: {str(value)[:40]!r}") from e
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def load_campaigns(path: Path) -> list[dict[str, Any]]:
    """Read ``campaigns.json`` and check the fields export uses, naming the campaign and field."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as e:
        raise CampaignFileError(f"{path}: no such file (run `distillguard scan` first)") from e
    except json.JSONDecodeError as e:
        raise CampaignFileError(f"{path}: line {e.lineno}: not JSON ({e.msg})") from e
    campaigns = data.get("campaigns") if isinstance(data, dict) else None
    if not isinstance(campaigns, list):
        raise CampaignFileError(f"{path}: expected an object with a 'campaigns' list")
    need = {"campaign_id": str, "n_accounts": int, "requests": int, "first_seen": str, "last_seen": str}
    for i, c in enumerate(campaigns):
        for name, kind in need.items():
            if not isinstance(c, dict) or not isinstance(c.get(name), kind):
                raise CampaignFileError(f"{path}: campaigns[{i}].{name}: missing or not {kind.__name__}")
    return campaigns


def _common(producer_id: str, marking: str, created: str, modified: str) -> dict[str, Any]:
    return {
        "spec_version": "2.1",
        "created_by_ref": producer_id,
        "created": created,
        "modified": modified,
        "object_marking_refs": [marking],
    }


def producer_identity(name: str, marking: str) -> dict[str, Any]:
    """The producing provider's ``identity`` (an organisation)."""
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": stix_id("identity", name),
        "created": ext.DEFINED,
        "modified": ext.DEFINED,
        "name": name,
        "identity_class": "organization",
        "sectors": ["technology"],
        "object_marking_refs": [marking],
    }


def attack_patterns(producer_id: str, marking: str) -> dict[str, dict[str, Any]]:
    """ATLAS techniques and distillation methods as ``attack-pattern`` objects, by key."""
    out: dict[str, dict[str, Any]] = {}
    base = _common(producer_id, marking, ext.DEFINED, ext.DEFINED)
    for tid, name in ATLAS.items():
        out[tid] = {
            "type": "attack-pattern",
            "id": stix_id("attack-pattern", "atlas", tid),
            **base,
            "name": name,
            "external_references": [{"source_name": "mitre-atlas", "external_id": tid}],
        }
    for method in ext.METHODS:
        out[method] = {
            "type": "attack-pattern",
            "id": stix_id("attack-pattern", "distillation-method", method),
            **base,
            "name": f"Distillation method: {method}",
            "external_references": [{"source_name": "distillation-method-taxonomy", "external_id": method}],
        }
    return out


def _template_fingerprints(campaign: dict[str, Any], ring: Keyring) -> list[str]:
    """Keyed band keys of the templates the campaign's accounts share (``tk:<part>:<key>`` evidence)."""
    key = ring.key()
    out: list[str] = []
    for item in campaign.get("evidence", {}).get("shared_indicators", []):
        value = str(item.get("indicator", ""))
        kind, _, rest = value.partition(":")
        part, _, raw = rest.partition(":")
        if kind != "tk" or part not in PARTS:
            continue
        try:
            band = int(raw)
        except ValueError:
            continue
        out.extend(key.band_keys(part, [band]))
    return list(dict.fromkeys(out))[:MAX_TEMPLATE_KEYS]


def campaign_extension(campaign: dict[str, Any], ring: Keyring) -> dict[str, Any]:
    """The distillation extension of one campaign: ranges, vocabularies and keyed fingerprints."""
    capabilities = sorted(c for c in campaign.get("capabilities", {}) if c in ext.CAPABILITIES)
    tactics = [
        {"tactic": t["tactic"], "method": t["method"], "atlas": [a for a in t["atlas"] if a in ATLAS]}
        for t in campaign.get("tactics", [])
        if t.get("tactic") in ext.TACTICS and t.get("method") in ext.METHODS
    ]
    models = [
        {"model": m, "requests": ext.count_range(int(n))}
        for m, n in sorted(campaign.get("models", {}).items(), key=lambda kv: -kv[1])
        if int(n) >= MIN_MODEL_REQUESTS and _model_name_ok(m)
    ][:32]
    reasons = campaign.get("evidence", {}).get("reasons", {})
    link_kinds = sorted(k for k in campaign.get("evidence", {}).get("link_kinds", {}) if k in ext.LINK_KINDS)
    body: dict[str, Any] = {
        "extension_type": "property-extension",
        "schema_version": "1",
        "requests": ext.count_range(int(campaign["requests"])),
        "accounts": ext.count_range(int(campaign["n_accounts"])),
        "capabilities": capabilities,
        "tactics": tactics,
        "model_release_context": {"models": models, "release_chase": "release_chase" in reasons},
        "link_kinds": link_kinds,
        "confidence": confidence(campaign),
        "bases": {
            "requests": "observed",
            "accounts": "observed",
            "capabilities": "inferred",
            "tactics": "inferred",
            "model_release_context": "observed",
            "link_kinds": "observed",
            "confidence": "inferred",
        },
    }
    # STIX forbids empty lists: a statement with nothing to say is left out, with its basis.
    for name in ("capabilities", "tactics", "link_kinds"):
        if not body[name]:
            del body[name], body["bases"][name]
    for t in body.get("tactics", []):
        t["atlas"] = t["atlas"] or list(ATLAS)
    if not models:
        del body["model_release_context"]["models"]
    if isinstance(campaign.get("output_tokens"), int):
        body["output_tokens"] = ext.count_range(campaign["output_tokens"])
        body["bases"]["output_tokens"] = "observed"
    fingerprints = _template_fingerprints(campaign, ring)
    if fingerprints:
        body["template_fingerprints"] = fingerprints
        body["bases"]["template_fingerprints"] = "observed"
    agents = sorted({ring.key().keyed_hash("user_agent", ua) for ua in campaign.get("user_agents", [])})
    if agents:
        body["keyed_identifiers"] = agents[:MAX_TEMPLATE_KEYS]
        body["bases"]["keyed_identifiers"] = "observed"
    return body


def campaign_user_agents(campaigns: Sequence[dict[str, Any]], requests: Any) -> dict[str, list[str]]:
    """Per campaign, the client user-agents only its accounts use (two or more of them).

    A user-agent that any account outside the campaign also sends is common software, not an
    identifier of the campaign's tooling, and is never shared. ``requests`` is an Arrow table or
    batches with ``account_id`` and ``user_agent``.
    """
    owner = {a: c["campaign_id"] for c in campaigns for a in c.get("accounts", [])}
    users: dict[str, set[str]] = {}
    batches = requests.to_batches() if hasattr(requests, "to_batches") else requests
    for b in batches:
        for acct, ua in zip(
            b.column("account_id").to_pylist(), b.column("user_agent").to_pylist(), strict=True
        ):
            if ua:
                users.setdefault(ua, set()).add(acct)
    out: dict[str, list[str]] = {}
    for ua, accts in users.items():
        camps = {owner.get(a) for a in accts}
        if len(accts) >= 2 and len(camps) == 1 and None not in camps:
            out.setdefault(camps.pop(), []).append(ua)
    return {k: sorted(v) for k, v in out.items()}


def _model_name_ok(name: str) -> bool:
    import re

    return re.fullmatch(r"[a-z][a-z0-9.-]{0,63}", name) is not None


def confidence(campaign: dict[str, Any]) -> int:
    """The scan's mean account risk as a STIX confidence (0-100)."""
    return max(0, min(100, round(100 * float(campaign.get("confidence", 0.0)))))


def _range_text(r: dict[str, int | None]) -> str:
    return f"{r['min']} or more" if r["max"] is None else f"{r['min']} to {r['max']}"


def campaign_objects(
    campaign: dict[str, Any],
    ring: Keyring,
    producer_id: str,
    marking: str,
    patterns: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    """All objects describing one campaign (campaign, intrusion set, infrastructure, indicators...)."""
    local = campaign["campaign_id"]
    first, last = timestamp(campaign["first_seen"]), timestamp(campaign["last_seen"])
    base = _common(producer_id, marking, first, last)
    body = campaign_extension(campaign, ring)
    cid = stix_id("campaign", producer_id, local)
    short = cid.split("--")[1][:8]
    tactics = body.get("tactics", [])
    link_kinds = body.get("link_kinds", [])
    methods = sorted({t["method"] for t in tactics})
    rng = _range_text(body["accounts"])
    camp = {
        "type": "campaign",
        "id": cid,
        **base,
        "name": f"Distillation campaign {short}",
        "description": (
            f"Coordinated accounts ({rng}) harvesting model outputs through the API to train a copy; "
            f"methods: {', '.join(methods) or 'not determined'}; linked by: "
            f"{', '.join(link_kinds) or 'behaviour only'}."
        ),
        "objective": "Train a copy of the model from harvested outputs",
        "first_seen": first,
        "last_seen": last,
        "confidence": body["confidence"],
        "extensions": {ext.EXTENSION_ID: body},
    }
    iset = {
        "type": "intrusion-set",
        "id": stix_id("intrusion-set", producer_id, local),
        **base,
        "name": f"Operator of distillation campaign {short}",
        "description": "Operator of the campaign; identity not determined.",
        "first_seen": first,
        "last_seen": last,
        "goals": ["Train a copy of the model from harvested outputs"],
        "primary_motivation": "organizational-gain",
    }
    proxies = any(t["tactic"] == "proxy_rotation" for t in tactics) or "network" in link_kinds
    infra = {
        "type": "infrastructure",
        "id": stix_id("infrastructure", producer_id, local),
        **base,
        "name": f"Account and proxy pool of campaign {short}",
        "description": f"API accounts ({rng}) used by the campaign"
        + ("; requests rotate through proxy networks." if proxies else "."),
        "infrastructure_types": ["anonymization"] if proxies else ["unknown"],
        "first_seen": first,
        "last_seen": last,
    }
    objects: list[dict[str, Any]] = [camp, iset, infra]
    rels = [(cid, "attributed-to", iset["id"]), (cid, "uses", infra["id"]), (iset["id"], "uses", infra["id"])]
    used = {a for t in tactics for a in t["atlas"]} | set(ATLAS) | set(methods)
    rels += [(cid, "uses", patterns[k]["id"]) for k in sorted(used) if k in patterns]
    for value in body.get("keyed_identifiers", []):
        ind = {
            "type": "indicator",
            "id": stix_id("indicator", producer_id, local, value),
            **base,
            "name": f"Keyed client identifier of campaign {short}",
            "description": (
                "Keyed hash of a client user agent that only accounts of the campaign send; "
                "requests whose keyed hash is equal come from the same tooling."
            ),
            "indicator_types": ["malicious-activity"],
            "pattern": f"[x-distillguard-identifier:keyed_hash = '{value}']",
            "pattern_type": "stix",
            "pattern_version": "2.1",
            "valid_from": first,
            "confidence": body["confidence"],
        }
        objects.append(ind)
        rels.append((ind["id"], "indicates", cid))
    for value in body.get("template_fingerprints", []):
        part = value.split(":")[2]
        ind = {
            "type": "indicator",
            "id": stix_id("indicator", producer_id, local, value),
            **base,
            "name": f"Keyed template band key ({part} part) of campaign {short}",
            "description": (
                f"Keyed MinHash band key of a prompt template {part} part that accounts of the campaign "
                "share; requests whose keyed band key is equal use a near-duplicate template."
            ),
            "indicator_types": ["malicious-activity"],
            "pattern": f"[x-distillguard-template:band_key = '{value}']",
            "pattern_type": "stix",
            "pattern_version": "2.1",
            "valid_from": first,
            "confidence": body["confidence"],
        }
        sighting = {
            "type": "sighting",
            "id": stix_id("sighting", producer_id, local, value),
            **base,
            "sighting_of_ref": ind["id"],
            "where_sighted_refs": [producer_id],
            "first_seen": first,
            "last_seen": last,
            "summary": False,
        }
        objects += [ind, sighting]
        rels.append((ind["id"], "indicates", cid))
    for src, kind, dst in rels:
        objects.append(
            {
                "type": "relationship",
                "id": stix_id("relationship", src, kind, dst),
                **base,
                "relationship_type": kind,
                "source_ref": src,
                "target_ref": dst,
            }
        )
    objects.append(
        {
            "type": "note",
            "id": stix_id("note", producer_id, local),
            **base,
            "abstract": f"How campaign {short} was found",
            "content": (
                "Accounts were linked by shared prompt templates and infrastructure and scored on "
                "extraction intent; counts are ranges and template keys are keyed with the sharing "
                "group key. Answer with an opinion to corroborate or dispute."
            ),
            "object_refs": [cid],
        }
    )
    objects.append(
        {
            "type": "opinion",
            "id": stix_id("opinion", producer_id, local),
            **base,
            "opinion": _opinion(body["confidence"]),
            "explanation": f"Producer confidence {body['confidence']} of 100 from the detection scores.",
            "object_refs": [cid],
        }
    )
    return objects


def _opinion(conf: int) -> str:
    if conf >= 90:
        return "strongly-agree"
    if conf >= 60:
        return "agree"
    return "neutral"


def build_bundle(
    campaigns: Sequence[dict[str, Any]],
    ring: Keyring,
    producer: str,
    level: str = tlp.DEFAULT_LEVEL,
    published: dt.datetime | None = None,
) -> dict[str, Any]:
    """The STIX 2.1 bundle of a list of campaigns, wrapped in one ``report``."""
    marking = tlp.TLP2_IDS[tlp.normalise(level)]
    identity = producer_identity(producer, marking)
    pid = identity["id"]
    patterns = attack_patterns(pid, marking)
    objects: list[dict[str, Any]] = []
    for c in campaigns:
        objects.extend(campaign_objects(c, ring, pid, marking, patterns))
    used_patterns = {o["target_ref"] for o in objects if o["type"] == "relationship"}
    objects = [p for p in patterns.values() if p["id"] in used_patterns] + objects
    stamp = timestamp(published or dt.datetime.now(dt.UTC))
    ids = [o["id"] for o in objects]
    report = {
        "type": "report",
        "id": stix_id("report", pid, *sorted(c["campaign_id"] for c in campaigns)),
        **_common(pid, marking, stamp, stamp),
        "name": f"Distillation campaigns reported by {producer}",
        "description": "Distillation campaigns with keyed indicators for partners to match and answer.",
        "report_types": ["campaign", "indicator"],
        "published": stamp,
        "object_refs": ids or [pid],
    }
    header = [ext.project_identity(), ext.definition(), tlp.marking(level), identity]
    return {
        "type": "bundle",
        "id": stix_id("bundle", report["id"], stamp),
        "objects": [*header, report, *objects],
    }


def iter_objects(bundle: dict[str, Any]) -> Iterable[dict[str, Any]]:
    """The objects of a bundle."""
    return iter(bundle.get("objects", []))
