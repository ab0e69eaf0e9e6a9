"""Conversion of our bundles to a MISP event with misp-stix, and what that conversion loses.

MISP is where many sharing communities keep intelligence, so a bundle should arrive there usefully:
the TLP marking becomes a tag, attack patterns, intrusion sets and campaigns become galaxy
clusters, and indicators become ``stix2-pattern`` objects. misp-stix does not map every STIX type;
``convert`` reports, per STIX type, how many objects have no counterpart in the event, so the
loss is measured and tested rather than guessed.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class MispConversion:
    """A MISP event converted from a bundle and what did not survive the conversion."""

    event: dict[str, Any]
    dropped: dict[str, int]  # STIX type -> objects with no counterpart in the event
    kept: dict[str, int]
    warnings: int
    errors: list[str]


def _walk(node: Any, uuids: set[str], clusters: set[str], sightings: list[dict[str, Any]]) -> None:
    """Collect uuids, galaxy cluster values (event- or attribute-level) and sightings of an event."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "uuid" and isinstance(v, str):
                uuids.add(v)
            elif k == "GalaxyCluster" and isinstance(v, list):
                clusters.update(c.get("value") for c in v if isinstance(c, dict))
            elif k == "Sighting" and isinstance(v, list):
                sightings.extend(x for x in v if isinstance(x, dict))
            _walk(v, uuids, clusters, sightings)
    elif isinstance(node, list):
        for v in node:
            _walk(v, uuids, clusters, sightings)


def convert(bundle: dict[str, Any]) -> MispConversion:
    """Convert with misp-stix (one event) and count, per STIX type, the objects kept and dropped."""
    from misp_stix_converter import stix_2_to_misp

    with tempfile.TemporaryDirectory(prefix="distillguard-misp-") as work:
        src = Path(work) / "bundle.json"
        src.write_text(json.dumps(bundle))
        result = stix_2_to_misp(src, output_dir=work, single_event=True, debug=True)
        if not result.get("results"):
            raise ValueError(f"misp-stix could not convert the bundle: {result.get('errors')}")
        data = json.loads(Path(result["results"][0]).read_text())
    event = data.get("Event", data)
    present: set[str] = set()
    cluster_values: set[str] = set()
    sightings: list[dict[str, Any]] = []
    # Galaxy clusters get fresh uuids but keep the STIX object's name as their value; sightings
    # become MISP sightings on the indicator's attribute.
    _walk(event, present, cluster_values, sightings)
    sighting_budget = len(sightings)
    # The report and the marking and extension definitions are the event itself, its tags and its schema.
    structural = {"report", "marking-definition", "extension-definition", "bundle"}
    kept, dropped = Counter(), Counter()
    for obj in bundle["objects"]:
        kind = obj["type"]
        if kind in structural:
            continue
        uid = obj["id"].split("--", 1)[1]
        found = uid in present or obj.get("name") in cluster_values
        if kind == "sighting" and not found and sighting_budget:
            found, sighting_budget = True, sighting_budget - 1
        (kept if found else dropped)[kind] += 1
    warnings = sum(len(v) for v in dict(result.get("warnings", {})).values())
    errors = [e for v in dict(result.get("errors", {})).values() for e in v]
    text = json.dumps(event)
    extension_survives = any(
        isinstance(v, str) and v in text
        for o in bundle["objects"]
        for body in o.get("extensions", {}).values()
        for v in body.get("capabilities", [])
    )
    if not extension_survives:
        dropped["distillation-extension"] = sum(
            1 for o in bundle["objects"] if "extensions" in o and o["type"] == "campaign"
        )
    return MispConversion(event, dict(dropped), dict(kept), warnings, errors)
