"""TLP 2.0 markings as the OASIS common objects define them (ids, names, the TLP 2.0 extension).

STIX 2.1 predefines only TLP 1.0; TLP 2.0 levels are ``marking-definition`` objects published by the
OASIS CTI TC with fixed ids and a property extension that carries the level. A bundle must include
the ones it references. Levels are ordered so a server can refuse to hand an object to a partner
whose clearance is lower than the object's marking.
"""

from __future__ import annotations

from typing import Any

TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_CREATED = "2022-10-01T00:00:00.000Z"
# The identity that published the TLP 2.0 objects (the OASIS CTI TC's common-objects identity).
TLP2_IDS: dict[str, str] = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
LEVELS: tuple[str, ...] = ("clear", "green", "amber", "amber+strict", "red")
DEFAULT_LEVEL = "amber+strict"
LEVEL_OF_ID: dict[str, str] = {v: k for k, v in TLP2_IDS.items()}


def marking(level: str) -> dict[str, Any]:
    """The TLP 2.0 ``marking-definition`` object of a level, exactly as OASIS publishes it."""
    level = normalise(level)
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_IDS[level],
        "created": TLP2_CREATED,
        "name": f"TLP:{level.upper()}",
        "extensions": {TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": level}},
    }


def normalise(level: str) -> str:
    """``AMBER+STRICT``, ``tlp:amber+strict`` and ``amber+strict`` all name one level."""
    name = level.strip().lower().removeprefix("tlp:")
    if name not in TLP2_IDS:
        raise ValueError(f"unknown TLP level {level!r}; use one of {', '.join(LEVELS)}")
    return name


def rank(level: str) -> int:
    """Position of a level from least (clear) to most restricted (red)."""
    return LEVELS.index(normalise(level))


def object_level(obj: dict[str, Any]) -> str | None:
    """The most restrictive TLP 2.0 level an object is marked with (None when unmarked)."""
    levels = [LEVEL_OF_ID[r] for r in obj.get("object_marking_refs", ()) if r in LEVEL_OF_ID]
    return max(levels, key=LEVELS.index) if levels else None


# Definitions that say what other objects mean, not what anyone observed: clear when unmarked.
PUBLIC_TYPES = ("marking-definition", "extension-definition", "identity")


def effective_level(obj: dict[str, Any]) -> str:
    """The level an object is handled at: its marking, else clear for definitions, else red."""
    return object_level(obj) or ("clear" if obj.get("type") in PUBLIC_TYPES else "red")


def readable(obj: dict[str, Any], clearance: str) -> bool:
    """Whether a partner cleared to ``clearance`` may receive the object."""
    return rank(effective_level(obj)) <= rank(clearance)
