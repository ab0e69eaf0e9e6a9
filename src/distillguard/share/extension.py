"""The distillation property extension: its ``extension-definition`` object and strict JSON schema.

Distillation-specific facts about a campaign or indicator travel in one property extension, so a
STIX consumer that does not know it still reads the standard objects. The schema admits counts only
as order-of-magnitude ranges, closed vocabularies for capabilities and tactics, keyed template
fingerprints and keyed identifiers (never raw ones), model-release context, a confidence, and for
each statement whether it was observed or inferred. ``additionalProperties`` is false at every level,
so a field that is not here (a prompt, an account id, an exact count) fails validation.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from distillguard.scoring.campaigns import INTENT_TAXONOMY, REASON_TACTICS

EXTENSION_ID = "extension-definition--586ec143-dea4-46b2-a97c-264b62ce9b09"
# distillguard's own identity: the author of the extension definition, not of shared intelligence.
PROJECT_IDENTITY_ID = "identity--c5ebd200-e753-4768-8306-c85d3ea296c0"
DEFINED = "2026-11-01T00:00:00.000Z"
VERSION = "1.0.0"

CAPABILITIES = tuple(sorted(INTENT_TAXONOMY))
TACTICS = tuple(sorted(set(INTENT_TAXONOMY) | set(REASON_TACTICS.values())))
METHODS = tuple(sorted({m for m, _ in INTENT_TAXONOMY.values()} | {"infrastructure", "behaviour"}))
LINK_KINDS = ("network", "payment", "signup", "sync", "template")
BASES = ("observed", "inferred")
# Range bounds: order-of-magnitude buckets, the only form in which a count may leave.
RANGE_LOWS = (0, 1, 10, 100, 1_000, 10_000, 100_000, 1_000_000)
STATEMENTS = (
    "requests",
    "accounts",
    "output_tokens",
    "capabilities",
    "tactics",
    "template_fingerprints",
    "keyed_identifiers",
    "model_release_context",
    "link_kinds",
    "confidence",
)
SCHEMA_FILE = f"{EXTENSION_ID}.json"


def count_range(n: int) -> dict[str, int | None]:
    """The order-of-magnitude range holding a count: 4235 -> {min: 1000, max: 9999}."""
    if n < 0:
        raise ValueError(f"a count cannot be negative: {n}")
    if n == 0:
        return {"min": 0, "max": 0}
    lo = max(x for x in RANGE_LOWS if x <= n)
    return {"min": lo, "max": None if lo == RANGE_LOWS[-1] else lo * 10 - 1}


def _range_schema() -> dict[str, Any]:
    """A count range: exactly one of the order-of-magnitude buckets ``count_range`` produces."""
    return {"enum": [count_range(lo) for lo in RANGE_LOWS]}


def extension_body_schema() -> dict[str, Any]:
    """JSON schema of the extension's own dictionary (the value under ``extensions[EXTENSION_ID]``)."""
    basis = {"enum": list(BASES)}
    rng = _range_schema()
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["extension_type", "schema_version", "bases"],
        "properties": {
            "extension_type": {"const": "property-extension"},
            "schema_version": {"const": "1"},
            "requests": rng,
            "accounts": rng,
            "output_tokens": rng,
            "capabilities": {
                "type": "array",
                "uniqueItems": True,
                "minItems": 1,
                "items": {"enum": list(CAPABILITIES)},
            },
            "tactics": {
                "type": "array",
                "minItems": 1,
                "maxItems": 32,
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["tactic", "method", "atlas"],
                    "properties": {
                        "tactic": {"enum": list(TACTICS)},
                        "method": {"enum": list(METHODS)},
                        "atlas": {
                            "type": "array",
                            "uniqueItems": True,
                            "minItems": 1,
                            "items": {"type": "string", "pattern": r"^AML\.T[0-9]{4}(\.[0-9]{3})?$"},
                        },
                    },
                },
            },
            "template_fingerprints": {
                "type": "array",
                "minItems": 1,
                "maxItems": 400,
                "uniqueItems": True,
                "items": {
                    "type": "string",
                    "pattern": r"^tb1:[a-z0-9][a-z0-9-]{0,31}:(system|head|tail|body):[0-9a-f]{16}$",
                },
            },
            "keyed_identifiers": {
                "type": "array",
                "minItems": 1,
                "maxItems": 400,
                "uniqueItems": True,
                "items": {
                    "type": "string",
                    "pattern": r"^hk1:[a-z0-9][a-z0-9-]{0,31}:[a-z][a-z0-9_]{0,31}:[0-9a-f]{64}$",
                },
            },
            "model_release_context": {
                "type": "object",
                "additionalProperties": False,
                "required": ["release_chase"],
                "properties": {
                    "release_chase": {"type": "boolean"},
                    "models": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 32,
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["model", "requests"],
                            "properties": {
                                "model": {"type": "string", "pattern": r"^[a-z][a-z0-9.-]{0,63}$"},
                                "requests": rng,
                            },
                        },
                    },
                },
            },
            "link_kinds": {
                "type": "array",
                "uniqueItems": True,
                "minItems": 1,
                "items": {"enum": list(LINK_KINDS)},
            },
            "confidence": {"type": "integer", "minimum": 0, "maximum": 100},
            "bases": {
                "type": "object",
                "propertyNames": {"enum": list(STATEMENTS)},
                "additionalProperties": basis,
            },
        },
    }


def validator_schema() -> dict[str, Any]:
    """Schema that stix2-validator applies to a whole object carrying the extension.

    stix2-validator checks an extension's schema against the entire object, so the strict body
    schema sits under ``properties.extensions.properties[EXTENSION_ID]``.
    """
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "distillguard distillation property extension",
        "type": "object",
        "required": ["extensions"],
        "properties": {
            "extensions": {
                "type": "object",
                "required": [EXTENSION_ID],
                "properties": {EXTENSION_ID: extension_body_schema()},
            }
        },
    }


def schema_dir() -> str:
    """Directory holding the shipped schema file, for stix2-validator's ``schema_dir`` option."""
    return str(resources.files("distillguard.share") / "schemas")


@cache
def shipped_schema() -> dict[str, Any]:
    """The schema file as shipped (tests check it equals ``validator_schema()``)."""
    return json.loads((resources.files("distillguard.share") / "schemas" / SCHEMA_FILE).read_text())


def definition() -> dict[str, Any]:
    """The ``extension-definition`` object that declares the extension."""
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": EXTENSION_ID,
        "created_by_ref": PROJECT_IDENTITY_ID,
        "created": DEFINED,
        "modified": DEFINED,
        "name": "distillguard distillation indicators",
        "description": (
            "Distillation campaign facts: counts as ranges, capabilities, tactics, keyed template "
            "fingerprints, model release context, confidence, and whether each is observed or inferred."
        ),
        "schema": f"distillguard/share/schemas/{SCHEMA_FILE}",
        "version": VERSION,
        "extension_types": ["property-extension"],
    }


def project_identity() -> dict[str, Any]:
    """distillguard's identity, the ``created_by_ref`` of the extension definition."""
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": PROJECT_IDENTITY_ID,
        "created": DEFINED,
        "modified": DEFINED,
        "name": "distillguard",
        "identity_class": "system",
    }


_registered = False


def register() -> None:
    """Register this extension and the TLP 2.0 one with ``stix2`` so ``allow_custom=False`` parses them."""
    global _registered
    if _registered:
        return
    from stix2.properties import DictionaryProperty, IntegerProperty, ListProperty, StringProperty
    from stix2.v21 import CustomExtension

    from distillguard.share.tlp import TLP2_EXTENSION_ID

    @CustomExtension(
        EXTENSION_ID,
        [
            ("schema_version", StringProperty(required=True)),
            ("requests", DictionaryProperty()),
            ("accounts", DictionaryProperty()),
            ("output_tokens", DictionaryProperty()),
            ("capabilities", ListProperty(StringProperty)),
            ("tactics", ListProperty(DictionaryProperty)),
            ("template_fingerprints", ListProperty(StringProperty)),
            ("keyed_identifiers", ListProperty(StringProperty)),
            ("model_release_context", DictionaryProperty()),
            ("link_kinds", ListProperty(StringProperty)),
            ("confidence", IntegerProperty(min=0, max=100)),
            ("bases", DictionaryProperty(required=True)),
        ],
    )
    class DistillationExtension:
        extension_type = "property-extension"

    @CustomExtension(TLP2_EXTENSION_ID, [("tlp_2_0", StringProperty(required=True))])
    class TLP2Extension:
        extension_type = "property-extension"

    _registered = True
