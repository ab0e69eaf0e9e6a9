"""The last gate before anything leaves: an allowlist check of every property of every object.

Export builds objects only from fixed phrases, closed vocabularies, ranges and keyed values; this
module verifies that independently, so a bug (or a crafted campaign field) cannot smuggle a raw
prompt, a response, or a personal identifier out. A bundle passes only if:

- every object type and top-level property is on the allowlist for that type;
- every identifier, reference and timestamp has its exact STIX shape;
- free text (names, descriptions, notes) consists only of words from the vocabulary that export's
  phrases use, plus numbers and the ATLAS technique ids;
- the distillation extension satisfies its strict JSON schema;
- no string contains an e-mail address, an IP address, a provider-local account, request or key id,
  a card-like digit run, or any literal the caller marks as secret (account ids, prompt texts).

A failure raises ``RedactionError`` naming the object id and the property path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any

import jsonschema

from distillguard.share import extension as ext
from distillguard.share import tlp


class RedactionError(ValueError):
    """A bundle holds something that must not leave: names the object id, the path and why."""


COMMON = {"type", "spec_version", "id", "created", "modified", "created_by_ref", "object_marking_refs"}
ALLOWED: dict[str, set[str]] = {
    "bundle": {"type", "id", "objects"},
    "identity": COMMON | {"name", "identity_class", "sectors"},
    "extension-definition": COMMON | {"name", "description", "schema", "version", "extension_types"},
    "marking-definition": {"type", "spec_version", "id", "created", "name", "extensions"},
    "report": COMMON | {"name", "description", "report_types", "published", "object_refs"},
    "campaign": COMMON
    | {"name", "description", "objective", "first_seen", "last_seen", "confidence", "extensions"},
    "intrusion-set": COMMON
    | {"name", "description", "first_seen", "last_seen", "goals", "primary_motivation"},
    "infrastructure": COMMON | {"name", "description", "infrastructure_types", "first_seen", "last_seen"},
    "attack-pattern": COMMON | {"name", "external_references"},
    "indicator": COMMON
    | {
        "name",
        "description",
        "indicator_types",
        "pattern",
        "pattern_type",
        "pattern_version",
        "valid_from",
        "confidence",
        "extensions",
    },
    "sighting": COMMON
    | {"sighting_of_ref", "where_sighted_refs", "first_seen", "last_seen", "summary", "count"},
    "relationship": COMMON | {"relationship_type", "source_ref", "target_ref"},
    "note": COMMON | {"abstract", "content", "object_refs"},
    "opinion": COMMON | {"opinion", "explanation", "object_refs"},
}
FREE_TEXT = {"name", "description", "objective", "abstract", "content", "explanation", "goals"}
# Words export's phrases are made of, plus the closed vocabularies they interpolate.
_PHRASE_WORDS = """
a accounts account and answer api are as band behaviour by campaign campaigns coordinated copy
corroborate determined dispute distillation extraction for found from group harvested harvesting
how identity in indicators infrastructure intent is key keyed keys linked match method methods
minhash model not of on only operator or outputs part partners pool prompt proxy ranges reported
requests rotate scored share shared template templates the through to train use used were whose
with networks equal near duplicate confidence producer detection scores more extract ai inference
access chain thought exfiltration autograding rl generation synthetic data system head tail body
counts behind an that was opinion provider sharing each whether context facts capabilities tactics
client agent hash tooling come same send identifier user
"""
_VOCAB_EXTRA = {"tlp", "clear", "green", "amber", "strict", "red", "distillguard", "fingerprints", "release"}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
STIX_ID = re.compile(r"^[a-z][a-z0-9-]*--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
PATTERN = re.compile(
    r"^\[x-distillguard-template:band_key = 'tb1:[a-z0-9][a-z0-9-]{0,31}:(system|head|tail|body):[0-9a-f]{16}'\]$"
    r"|^\[x-distillguard-identifier:keyed_hash = 'hk1:[a-z0-9][a-z0-9-]{0,31}:[a-z][a-z0-9_]{0,31}:[0-9a-f]{64}'\]$"
)
# Values of the open-vocabulary STIX properties export sets (classes, types, relationship kinds).
TOKENS = frozenset(
    {
        "organization", "system", "technology", "anonymization", "unknown", "malicious-activity",
        "organizational-gain", "indicates", "attributed-to", "uses", "strongly-agree", "agree",
        "neutral", "disagree", "strongly-disagree", "campaign", "indicator", "stix", "property-extension",
    }
)  # fmt: skip
KEYED = re.compile(r"^(tb1|hk1):[a-z0-9-]+:[a-z_]+:[0-9a-f]{16,64}$")

# Personal identifiers and provider-local ids, each with the reason given when one is found.
DETECTORS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "an e-mail address"),
    (re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])"), "an IPv4 address"),
    (re.compile(r"(?i)(?<![0-9a-f:])(?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{0,4}(?![0-9a-f:])"), "an IPv6 address"),
    # Compressed IPv6 forms ("2001:db8::1", "100::", "::ffff:1"): any run around a double colon.
    (
        re.compile(r"(?i)(?<![0-9a-f:])[0-9a-f]{0,4}(?::[0-9a-f]{1,4})*::(?:[0-9a-f]{1,4}:)*[0-9a-f]{0,4}"),
        "an IPv6 address",
    ),
    (
        re.compile(r"\b(?:acct|req|key|usr|user|org)_[0-9A-Za-z]{6,}"),
        "a provider-local account/request/key id",
    ),
    (re.compile(r"(?<!\d)(?:\d[ -]?){13,19}(?!\d)"), "a card- or phone-like digit run"),
)


@cache
def vocabulary() -> frozenset[str]:
    """Every word free text may contain."""
    words = set(_PHRASE_WORDS.split()) | _VOCAB_EXTRA
    for group in (ext.CAPABILITIES, ext.TACTICS, ext.METHODS, ext.LINK_KINDS, ext.BASES):
        for item in group:
            words.update(re.findall(r"[a-z]+", item.lower()))
    return frozenset(words)


def _text_ok(value: str, extra_words: frozenset[str], short_ids: frozenset[str] = frozenset()) -> str | None:
    """None if free text uses only vocabulary words and numbers, else the first word that is not."""
    for word in re.findall(r"aml\.t\d{4}(?:\.\d{3})?|\b[0-9a-f]{8}\b|[^\W\d_]+|\S", value.lower()):
        # ATLAS ids, and short ids that are the start of an object id in the same bundle.
        if word.startswith("aml.t") or word in extra_words or word in short_ids:
            continue
        if word.isalpha() and word not in vocabulary() and word not in extra_words:
            return word
        if not word.isalpha() and not re.match(r"[0-9.,;:()+/'-]", word):
            return word
    return None


_TOKENS = re.compile(r"[\w.@:+/-]+")
_WORDS = re.compile(r"\w+")
SHINGLE_WORDS = 5


class Secrets:
    """Values that must never leave, matched in time linear in the text checked.

    A secret without spaces (an account or request id, an address) is found as a token of the text;
    a longer text (a prompt, a response) is found by any run of ``SHINGLE_WORDS`` consecutive words it
    shares with the checked text, or by its whole word sequence when shorter.
    """

    def __init__(self, values: Iterable[str] = ()) -> None:
        self.tokens: set[str] = set()
        self.shingles: set[tuple[str, ...]] = set()
        self.short: set[tuple[str, ...]] = set()
        for v in values:
            v = v.strip()
            if len(v) < 4:
                continue
            words = tuple(w.lower() for w in _WORDS.findall(v))
            if " " not in v:
                self.tokens.add(v)
            elif len(words) < SHINGLE_WORDS:
                self.short.add(words)
            else:
                self.shingles.update(_shingles(words))

    def __bool__(self) -> bool:
        return bool(self.tokens or self.shingles or self.short)

    def found_in(self, value: str) -> bool:
        """Whether the text holds any secret."""
        if any(t in self.tokens for t in _TOKENS.findall(value)):
            return True
        if not (self.shingles or self.short):
            return False
        words = tuple(w.lower() for w in _WORDS.findall(value))
        if any(sh in self.shingles for sh in _shingles(words)):
            return True
        return any(_contains(words, short) for short in self.short)


def _shingles(words: tuple[str, ...]) -> Iterable[tuple[str, ...]]:
    return (words[i : i + SHINGLE_WORDS] for i in range(len(words) - SHINGLE_WORDS + 1))


def _contains(words: tuple[str, ...], part: tuple[str, ...]) -> bool:
    n = len(part)
    return any(words[i : i + n] == part for i in range(len(words) - n + 1))


def _walk(node: Any, path: str) -> Iterable[tuple[str, str]]:
    """Every string leaf (and every dictionary key, as a leaf of its own) with its path."""
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield f"{path}.{k}(key)", str(k)
            yield from _walk(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, f"{path}[{i}]")


def check_object(
    obj: dict[str, Any],
    secrets: Secrets | Iterable[str] = (),
    producer_names: Iterable[str] = (),
    short_ids: frozenset[str] = frozenset(),
) -> None:
    """Raise ``RedactionError`` unless one STIX object may leave (see the module docstring).

    ``short_ids`` are the 8-character id prefixes that free text may cite (those of the bundle).
    """
    oid = str(obj.get("id", "<no id>"))
    kind = obj.get("type")
    if kind not in ALLOWED:
        raise RedactionError(f"{oid}: type {kind!r} is not shared")
    extra = sorted(set(obj) - ALLOWED[kind])
    if extra:
        raise RedactionError(f"{oid}: property {extra[0]!r} is not shared for {kind}")
    fixed = _fixed_objects()
    if kind in ("marking-definition", "extension-definition") or obj.get("id") == ext.PROJECT_IDENTITY_ID:
        if fixed.get(oid) != obj:
            raise RedactionError(f"{oid}: differs from the published {kind} object")
        return
    if not isinstance(secrets, Secrets):
        secrets = Secrets(secrets)
    names = set(producer_names)
    name_words = _name_words(tuple(sorted(names)))
    for path, value in _walk({k: v for k, v in obj.items() if k != "extensions"}, ""):
        prop = path.lstrip(".").split(".")[0].split("[")[0]
        # Ids, refs, timestamps and patterns are held to their exact shapes by _check_shape.
        structural = prop in ("id", "created_by_ref") or prop.endswith("_ref") or _is_structural(prop, value)
        if not structural:
            for rx, why in DETECTORS:
                if rx.search(value):
                    raise RedactionError(f"{oid}: {path.lstrip('.')}: looks like {why}")
        if secrets and secrets.found_in(value):
            raise RedactionError(f"{oid}: {path.lstrip('.')}: contains a value marked secret")
        _check_shape(oid, kind, prop, path.lstrip("."), value, name_words, names, short_ids)
    if "extensions" in obj:
        _check_extensions(oid, obj["extensions"], secrets)


@cache
def _name_words(names: tuple[str, ...]) -> frozenset[str]:
    """Words of the producer names, which free text may contain."""
    return frozenset(w for n in names for w in re.findall(r"[^\W\d_]+", n.lower()))


def _is_structural(prop: str, value: str) -> bool:
    """Ids, refs, timestamps and patterns have fixed shapes checked elsewhere."""
    return (
        prop.endswith("_refs")
        or prop in ("created", "modified", "first_seen", "last_seen", "valid_from", "published")
        or (prop == "pattern" and PATTERN.match(value) is not None)
    )


def _check_shape(
    oid: str,
    kind: str,
    prop: str,
    path: str,
    value: str,
    name_words: frozenset[str],
    names: set[str],
    short_ids: frozenset[str],
) -> None:
    if path.endswith("(key)"):
        if not re.fullmatch(r"[a-z_]+|\d+", value.rsplit(".", 1)[-1]):
            raise RedactionError(f"{oid}: {path}: unexpected key")
        return
    if prop == "type":
        if value != kind:
            raise RedactionError(f"{oid}: {path}: type changed")
    elif prop in ("id", "created_by_ref", "sighting_of_ref", "source_ref", "target_ref") or prop.endswith(
        "_refs"
    ):
        if not STIX_ID.match(value):
            raise RedactionError(f"{oid}: {path}: not a STIX id")
    elif prop in ("created", "modified", "first_seen", "last_seen", "valid_from", "published"):
        if not TIMESTAMP.match(value):
            raise RedactionError(f"{oid}: {path}: not a STIX timestamp")
    elif prop == "pattern":
        if not PATTERN.match(value):
            raise RedactionError(f"{oid}: {path}: only single keyed comparisons may be shared")
    elif prop == "external_references":
        if path.endswith("external_id") and not re.fullmatch(r"AML\.T\d{4}(\.\d{3})?|[a-z][a-z -]*", value):
            raise RedactionError(f"{oid}: {path}: not an ATLAS id or taxonomy method")
        if path.endswith("source_name") and value not in ("mitre-atlas", "distillation-method-taxonomy"):
            raise RedactionError(f"{oid}: {path}: unknown reference source")
        if path.endswith("external_id") and not value.startswith("AML.") and _text_ok(value, frozenset()):
            raise RedactionError(f"{oid}: {path}: {value[:40]!r} is not a taxonomy method")
        if not (path.endswith("external_id") or path.endswith("source_name")):
            raise RedactionError(f"{oid}: {path}: only source names and ids may be referenced")
    elif kind == "identity" and prop == "name":
        if value not in names:
            raise RedactionError(f"{oid}: {path}: identity name is not a configured producer")
    elif prop in FREE_TEXT:
        bad = _text_ok(value, name_words, short_ids)
        if bad is not None:
            raise RedactionError(f"{oid}: {path}: word {bad!r} is not in the sharing vocabulary")
    elif prop in ("spec_version", "pattern_version"):
        if value != "2.1":
            raise RedactionError(f"{oid}: {path}: must be 2.1")
    elif value not in TOKENS:
        raise RedactionError(f"{oid}: {path}: {value[:40]!r} is not a shared vocabulary token")


def _check_extensions(oid: str, extensions: Any, secrets: Secrets) -> None:
    if not isinstance(extensions, dict) or set(extensions) != {ext.EXTENSION_ID}:
        raise RedactionError(f"{oid}: extensions: only {ext.EXTENSION_ID} is shared")
    body = extensions[ext.EXTENSION_ID]
    errors = sorted(_body_validator().iter_errors(body), key=lambda e: list(e.path))
    if errors:
        where = ".".join(str(p) for p in errors[0].path) or "(top)"
        raise RedactionError(f"{oid}: extensions.{ext.EXTENSION_ID}.{where}: {errors[0].message}")
    for path, value in _walk(body, ""):
        if secrets and secrets.found_in(value):
            raise RedactionError(f"{oid}: extensions{path}: contains a value marked secret")
        if KEYED.match(value):
            continue  # keyed values are fixed-width hex, already pinned by the schema
        for rx, why in DETECTORS:
            if rx.search(value):
                raise RedactionError(f"{oid}: extensions{path}: looks like {why}")


@cache
def _body_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(ext.extension_body_schema())


@cache
def _fixed_objects() -> dict[str, dict[str, Any]]:
    out = {ext.EXTENSION_ID: ext.definition(), ext.PROJECT_IDENTITY_ID: ext.project_identity()}
    for level in tlp.LEVELS:
        m = tlp.marking(level)
        out[m["id"]] = m
    return out


def check_bundle(bundle: dict[str, Any], secrets: Iterable[str] = (), producers: Iterable[str] = ()) -> None:
    """Raise ``RedactionError`` unless every object of the bundle may leave."""
    if set(bundle) - ALLOWED["bundle"] or bundle.get("type") != "bundle":
        raise RedactionError(f"{bundle.get('id', '<bundle>')}: not a bare STIX bundle")
    secrets = Secrets(secrets)
    names = tuple(producers) or tuple(
        o["name"]
        for o in bundle.get("objects", [])
        if o.get("type") == "identity" and o.get("id") != ext.PROJECT_IDENTITY_ID
    )
    short_ids = frozenset(str(o.get("id", "")).partition("--")[2][:8] for o in bundle.get("objects", []))
    for obj in bundle.get("objects", []):
        check_object(obj, secrets, names, short_ids)
