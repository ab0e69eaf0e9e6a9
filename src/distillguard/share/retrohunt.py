"""Retro-hunt: match partners' keyed template indicators against our own traffic.

Each pulled indicator with a ``tb1`` band-key pattern names the group key it was made with. Our
requests' template band keys (``kernels.templates``) are keyed with that key and part, and a request
whose keyed key equals an indicator's uses a near-duplicate of the partner's template. Matches become
evidence: per partner campaign, the local accounts and the local campaigns they belong to, and the
accounts no local campaign holds (what the partner's intelligence adds). For each matched indicator
a STIX ``sighting`` by us goes back to the producer, with no counts beyond ranges and no local ids.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from distillguard.kernels.templates import template_keys
from distillguard.share import extension as ext
from distillguard.share import tlp
from distillguard.share.export import producer_identity, stix_id, timestamp
from distillguard.share.keys import Keyring

PATTERN = re.compile(
    r"^\[x-distillguard-template:band_key = 'tb1:(?P<kid>[a-z0-9-]+):(?P<part>system|head|tail|body):(?P<hex>[0-9a-f]{16})'\]$"
)
IDENTIFIER = re.compile(
    r"^\[x-distillguard-identifier:keyed_hash = '(?P<value>hk1:(?P<kid>[a-z0-9-]+):user_agent:[0-9a-f]{64})'\]$"
)


@dataclass
class Indicators:
    """Pulled template indicators by (key id, part): keyed value -> indicator objects."""

    by_key: dict[tuple[str, str], dict[int, list[dict[str, Any]]]] = field(default_factory=dict)
    # Keyed user-agent hashes by key id: value -> indicator objects.
    agents: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    campaign_of: dict[str, str] = field(default_factory=dict)  # indicator id -> campaign id
    producer_of: dict[str, str] = field(default_factory=dict)  # indicator id -> partner name

    def __len__(self) -> int:
        return sum(len(v) for v in self.by_key.values()) + sum(len(v) for v in self.agents.values())


def collect(objects: Iterable[tuple[str, dict[str, Any]]]) -> Indicators:
    """Template indicators and the campaigns they indicate, from pulled (partner, object) pairs."""
    out = Indicators()
    for partner, o in objects:
        if o.get("type") == "indicator":
            pattern = str(o.get("pattern", ""))
            m = PATTERN.match(pattern)
            if m:
                slot = out.by_key.setdefault((m["kid"], m["part"]), {})
                slot.setdefault(int(m["hex"], 16), []).append(o)
                out.producer_of[o["id"]] = partner
            m = IDENTIFIER.match(pattern)
            if m:
                out.agents.setdefault(m["kid"], {}).setdefault(m["value"], []).append(o)
                out.producer_of[o["id"]] = partner
        elif o.get("type") == "relationship" and o.get("relationship_type") == "indicates":
            out.campaign_of[o["source_ref"]] = o["target_ref"]
    return out


@dataclass
class Match:
    """Our requests that match one partner indicator."""

    indicator: dict[str, Any]
    partner: str
    accounts: set[str] = field(default_factory=set)
    first: Any = None
    last: Any = None


def hunt(
    batches: Iterable[pa.RecordBatch | pa.Table], indicators: Indicators, ring: Keyring
) -> dict[str, Match]:
    """Matches per indicator id over request batches (columns request_id, account_id, ts, messages)."""
    matches: dict[str, Match] = {}
    usable = {(kid, part): v for (kid, part), v in indicators.by_key.items() if kid in ring.keys}
    agents = {kid: v for kid, v in indicators.agents.items() if kid in ring.keys}
    if not usable and not agents:
        return matches

    def record(ind: dict[str, Any], account: str, t: Any) -> None:
        m = matches.setdefault(ind["id"], Match(ind, indicators.producer_of.get(ind["id"], "")))
        m.accounts.add(account)
        m.first = t if m.first is None or t < m.first else m.first
        m.last = t if m.last is None or t > m.last else m.last

    for batch in batches:
        if agents and "user_agent" in batch.schema.names:
            uas = batch.column("user_agent").to_pylist()
            acc, times = batch.column("account_id").to_pylist(), batch.column("ts").to_pylist()
            # Each distinct user agent is hashed once per key, however many requests send it.
            for kid, table in agents.items():
                key = ring.key(kid)
                hashed = {ua: key.keyed_hash("user_agent", ua) for ua in set(uas) if ua}
                for row, ua in enumerate(uas):
                    for ind in table.get(hashed.get(ua, ""), ()):
                        record(ind, acc[row], times[row])
        if not usable:
            continue
        keys = template_keys(batch)
        if keys.num_rows == 0:
            continue
        # The keys table names requests by id; map back to rows for account and time.
        row_of = {rid: i for i, rid in enumerate(batch.column("request_id").to_pylist())}
        parts_np = np.asarray(keys.column("part").to_pylist(), dtype=object)
        raw = keys.column("key").to_numpy()
        rids = keys.column("request_id").to_pylist()
        accounts = batch.column("account_id").to_pylist()
        ts = batch.column("ts").to_pylist()
        for (kid, part), table in usable.items():
            sel = np.flatnonzero(parts_np == part)
            if not len(sel):
                continue
            keyed = ring.key(kid).band_words(part, raw[sel])
            wanted = np.fromiter(table.keys(), dtype=np.uint64, count=len(table))
            hit = np.flatnonzero(np.isin(keyed, wanted))
            for j in hit.tolist():
                row = row_of[rids[sel[j]]]
                for ind in table[int(keyed[j])]:
                    record(ind, accounts[row], ts[row])
    return matches


def psi_evidence(match_file: dict[str, Any], local_campaigns: list[dict[str, Any]]) -> dict[str, Any]:
    """Evidence from a ``share match`` result: our accounts holding values the partner also holds."""
    account_campaign = {a: c["campaign_id"] for c in local_campaigns for a in c.get("accounts", [])}
    accounts = sorted({a for m in match_file.get("matched", []) for a in m.get("accounts", [])})
    return {
        "partner": match_file.get("partner", ""),
        "partner_campaign": None,
        "psi_kind": match_file.get("kind", ""),
        "values_matched": len(match_file.get("matched", [])),
        "accounts": accounts,
        "local_campaigns": sorted({account_campaign[a] for a in accounts if a in account_campaign}),
        "accounts_not_in_local_campaigns": [a for a in accounts if a not in account_campaign],
    }


def evidence(
    matches: dict[str, Match], indicators: Indicators, local_campaigns: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per partner campaign: matched local accounts, the local campaigns they fall in, and new ones."""
    account_campaign = {a: c["campaign_id"] for c in local_campaigns for a in c.get("accounts", [])}
    per_campaign: dict[str, dict[str, Any]] = defaultdict(lambda: {"indicators": set(), "accounts": set()})
    for iid, m in matches.items():
        cid = indicators.campaign_of.get(iid, iid)
        entry = per_campaign[cid]
        entry["partner"] = m.partner
        entry["indicators"].add(iid)
        entry["accounts"] |= m.accounts
    out = []
    for cid, e in sorted(per_campaign.items()):
        local = sorted({account_campaign[a] for a in e["accounts"] if a in account_campaign})
        out.append(
            {
                "partner": e["partner"],
                "partner_campaign": cid,
                "indicators_matched": len(e["indicators"]),
                "accounts": sorted(e["accounts"]),
                "local_campaigns": local,
                "accounts_not_in_local_campaigns": sorted(
                    a for a in e["accounts"] if a not in account_campaign
                ),
            }
        )
    return out


def sightings_bundle(matches: dict[str, Match], producer: str) -> dict[str, Any]:
    """A bundle of our ``sighting`` of each matched indicator, marked as the indicator was."""
    marked = {iid: m for iid, m in matches.items() if m.indicator.get("object_marking_refs")}
    levels = {tlp.object_level(m.indicator) or "red" for m in marked.values()}
    strictest = max(levels, key=tlp.rank) if levels else tlp.DEFAULT_LEVEL
    me = producer_identity(producer, tlp.TLP2_IDS[strictest])
    objects: list[dict[str, Any]] = []
    for iid, m in sorted(marked.items()):
        first, last = timestamp(m.first), timestamp(m.last)
        objects.append(
            {
                "type": "sighting",
                "spec_version": "2.1",
                "id": stix_id("sighting", me["id"], iid),
                "created_by_ref": me["id"],
                "created": first,
                "modified": last,
                "object_marking_refs": m.indicator["object_marking_refs"][:1],
                "sighting_of_ref": iid,
                "where_sighted_refs": [me["id"]],
                "first_seen": first,
                "last_seen": last,
                "summary": False,
            }
        )
    header = [ext.project_identity(), *(tlp.marking(level) for level in sorted(levels | {strictest}))]
    return {
        "type": "bundle",
        "id": stix_id("bundle", producer, *sorted(marked)),
        "objects": [*header, me, *objects],
    }


def read_requests(path: Path, batch_size: int = 65_536) -> Iterable[pa.RecordBatch]:
    """Request batches of a traffic file, with only the columns the hunt reads."""
    from distillguard.io.readers import read_batches

    for result in read_batches(path, "requests", batch_size=batch_size):
        if result.batch.num_rows:
            yield result.batch.select(["request_id", "account_id", "ts", "messages", "user_agent"])


def annotate(local_campaigns: list[dict[str, Any]], found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Our campaigns with partner matches added under ``evidence.partner_matches``.

    Each match says which partner campaign (or PSI set) corroborates the campaign and how many of
    its accounts matched. The campaigns are copies; campaigns.json from the scan is left as it was.
    """
    out = []
    for c in local_campaigns:
        mine = set(c.get("accounts", []))
        matches = [
            {
                "partner": f["partner"],
                "partner_campaign": f.get("partner_campaign"),
                "kind": f.get("psi_kind") or "indicators",
                "accounts_matched": len(mine & set(f["accounts"])),
            }
            for f in found
            if c["campaign_id"] in f["local_campaigns"]
        ]
        copy = {**c, "evidence": {**c.get("evidence", {}), "partner_matches": matches}}
        out.append(copy)
    return out
