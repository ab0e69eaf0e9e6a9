"""Sharing-group keys: keyed hashes of identifiers and keyed template band keys.

Every provider in a sharing group holds the same secret keys (exchanged out of band); each key has
an id, and a keyring holds the active key plus retired ones, so indicators made before a rotation
still match. Two keyed forms are produced, both prefixed with their scheme and key id:

- ``hk1:<kid>:<namespace>:<hex>``: HMAC-SHA256 of a high-entropy identifier (a client's user-agent
  string, an exact template id) under a per-namespace subkey. Only group members can compute it;
  for low-entropy values (IP addresses, e-mail domains) group members could still enumerate every
  possible input, which is why those go through private set intersection instead (``share.psi``).
- ``tb1:<kid>:<part>:<hex>``: SipHash-2-4 of a template MinHash band key under a per-part subkey.
  Equal band keys stay equal (so a partner finds near-duplicate templates in its own traffic), but
  without the key nobody can test a guessed text against them (``docs/sharing.md``).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from distillguard.share.siphash import siphash24_words

KEY_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
NAMESPACE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
HASHED = re.compile(
    r"^hk1:(?P<kid>[a-z0-9][a-z0-9-]{0,31}):(?P<ns>[a-z][a-z0-9_]{0,31}):(?P<hex>[0-9a-f]{64})$"
)
BAND = re.compile(
    r"^tb1:(?P<kid>[a-z0-9][a-z0-9-]{0,31}):(?P<part>system|head|tail|body):(?P<hex>[0-9a-f]{16})$"
)


class KeyringError(ValueError):
    """A keyring file is missing, malformed or lacks the key asked for."""


@dataclass(frozen=True)
class GroupKey:
    """One sharing-group secret with its id."""

    key_id: str
    secret: bytes
    created: str

    def subkey(self, label: str, size: int = 32) -> bytes:
        """A key for one use, derived so that no two uses share key material."""
        return hmac.new(self.secret, f"distillguard/share/{label}".encode(), hashlib.sha256).digest()[:size]

    def keyed_hash(self, namespace: str, value: str) -> str:
        """``hk1`` keyed hash of one identifier in a namespace."""
        if not NAMESPACE.match(namespace):
            raise ValueError(f"namespace {namespace!r} must be lower-case letters, digits and _")
        digest = hmac.new(self.subkey(f"hmac/{namespace}"), value.encode(), hashlib.sha256).hexdigest()
        return f"hk1:{self.key_id}:{namespace}:{digest}"

    def band_words(self, part: str, band_keys: np.ndarray) -> np.ndarray:
        """Keyed band keys of one template part as uint64 (the ``tb1`` value without its prefix)."""
        return siphash24_words(self.subkey(f"band/{part}", 16), np.asarray(band_keys, dtype=np.int64))

    def band_keys(self, part: str, band_keys: np.ndarray) -> list[str]:
        """``tb1`` keyed form of unkeyed band keys (int64, as ``kernels.templates`` makes them)."""
        return [f"tb1:{self.key_id}:{part}:{int(w):016x}" for w in self.band_words(part, band_keys)]


@dataclass
class Keyring:
    """A sharing group's keys: the active one signs new indicators, all of them match old ones."""

    group: str
    active: str
    keys: dict[str, GroupKey] = field(default_factory=dict)

    def key(self, key_id: str | None = None) -> GroupKey:
        """The key with this id (the active key when None)."""
        kid = key_id or self.active
        if kid not in self.keys:
            raise KeyringError(f"keyring of group {self.group!r} has no key {kid!r}")
        return self.keys[kid]

    def rotate(self, key_id: str | None = None) -> GroupKey:
        """Add a fresh random key and make it the active one; older keys stay for matching."""
        kid = key_id or f"k{len(self.keys) + 1}"
        if not KEY_ID.match(kid) or kid in self.keys:
            raise KeyringError(f"key id {kid!r} is taken or not of the form [a-z0-9-]")
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.keys[kid] = GroupKey(kid, secrets.token_bytes(32), now)
        self.active = kid
        return self.keys[kid]

    def to_json(self) -> str:
        """The keyring file's text (holds secrets: keep it out of version control)."""
        return json.dumps(
            {
                "group": self.group,
                "active": self.active,
                "keys": {
                    k.key_id: {"secret": base64.b64encode(k.secret).decode(), "created": k.created}
                    for k in self.keys.values()
                },
            },
            indent=2,
        )

    def save(self, path: Path) -> None:
        """Write the keyring readable by its owner only."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.to_json())

    @classmethod
    def new(cls, group: str) -> Keyring:
        """A keyring with one fresh key."""
        ring = cls(group=group, active="")
        ring.rotate()
        return ring

    @classmethod
    def load(cls, path: Path) -> Keyring:
        """Read a keyring file, naming the file and field on any problem."""
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError as e:
            raise KeyringError(
                f"{path}: no such keyring (create one with `distillguard share keygen`)"
            ) from e
        except json.JSONDecodeError as e:
            raise KeyringError(f"{path}: line {e.lineno}: not JSON ({e.msg})") from e
        if not isinstance(data, dict):
            raise KeyringError(f"{path}: a keyring is a JSON object")
        for name in ("group", "active", "keys"):
            if name not in data:
                raise KeyringError(f"{path}: field {name!r} is missing")
        keys = {}
        for kid, entry in dict(data["keys"]).items():
            if not KEY_ID.match(kid):
                raise KeyringError(f"{path}: keys.{kid}: key ids are [a-z0-9-], at most 32 characters")
            try:
                secret = base64.b64decode(entry["secret"], validate=True)
            except (KeyError, TypeError, ValueError) as e:
                raise KeyringError(f"{path}: keys.{kid}.secret: missing or not base64") from e
            if len(secret) < 16:
                raise KeyringError(f"{path}: keys.{kid}.secret: at least 16 bytes are needed")
            keys[kid] = GroupKey(kid, secret, str(entry.get("created", "")))
        ring = cls(group=str(data["group"]), active=str(data["active"]), keys=keys)
        if ring.active not in keys:
            raise KeyringError(f"{path}: active: no key {ring.active!r} in keys")
        return ring
