"""misp-stix converts our bundles to a MISP event; the list of what it drops is pinned here."""

from __future__ import annotations

from distillguard.share.export import build_bundle
from distillguard.share.keys import Keyring
from distillguard.share.misp import convert
from share_fixtures import campaign


def test_misp_event_tags_galaxies_and_pattern_objects():
    bundle = build_bundle(
        [campaign(), campaign(campaign_id="cmp_000000000002")], Keyring.new("forum"), "Provider A"
    )
    count = lambda kind: sum(o["type"] == kind for o in bundle["objects"])  # noqa: E731
    c = convert(bundle)
    tags = {t["name"] for t in c.event["Tag"]}
    assert {"tlp:amber+strict", 'misp-galaxy:producer="Provider A"'} <= tags
    galaxies = {g["type"]: [x["value"] for x in g["GalaxyCluster"]] for g in c.event["Galaxy"]}
    assert {"Extract AI Model", "AI Model Inference API Access"} <= set(galaxies["stix-2.1-attack-pattern"])
    assert len(galaxies["stix-2.1-intrusion-set"]) == 2
    patterns = [o for o in c.event["Object"] if o["name"] == "stix2-pattern"]
    assert len(patterns) == count("indicator")
    assert all(
        any(str(a["value"]).startswith("[x-distillguard-template:band_key = 'tb1:") for a in o["Attribute"])
        for o in patterns
    )
    assert c.kept == {
        "identity": 1,
        "attack-pattern": count("attack-pattern"),
        "intrusion-set": 2,
        "indicator": count("indicator"),
        "campaign": 2,  # as galaxy clusters on each indicator's pattern attribute
        "sighting": count("sighting"),  # as MISP sightings on those attributes
    }
    # What misp-stix drops from our bundles (kept in sync with docs/sharing.md):
    assert c.dropped == {
        "identity": 1,  # distillguard's own identity (the extension's author)
        "infrastructure": 2,  # not a type misp-stix imports (reported as an error)
        "relationship": count("relationship"),  # no objects of their own
        "note": 2,
        "opinion": 2,
        "distillation-extension": 2,  # ranges, capabilities, tactics, bases: not carried over
    }
    assert set(c.errors) == {
        "Unable to load STIX object type: infrastructure",
        "Unknown STIX object type: infrastructure",
    }
