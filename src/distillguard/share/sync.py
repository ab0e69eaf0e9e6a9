"""Pull from and push to partners' TAXII 2.1 servers, incrementally and resumably.

A partners file lists each partner's API root, collection and credentials (the password comes from
an environment variable, never from the file). A state file remembers, per partner, the
``X-TAXII-Date-Added-Last`` of the last page pulled and which chunks of which bundles were pushed.
The state is rewritten atomically after every page or chunk, once what it acknowledges is on disk
(pulled objects) or acknowledged by the server (pushed ones), so an interrupted run resumes where it
stopped; a repeat is harmless because the server stores an id and version once.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

MEDIA = "application/taxii+json;version=2.1"
DEFAULT_PAGE = 500
DEFAULT_CHUNK = 500


class PartnerError(ValueError):
    """A partners file, state file or partner server problem, naming the file, field or URL."""


@dataclass(frozen=True)
class Partner:
    """One partner's TAXII collection and how to log in to it."""

    name: str
    api_root: str
    collection: str
    user: str
    password: str

    @property
    def objects_url(self) -> str:
        """The collection's objects endpoint."""
        return f"{self.api_root.rstrip('/')}/collections/{self.collection}/objects/"


def load_partners(path: Path, env: dict[str, str] | None = None) -> dict[str, Partner]:
    """Read a partners file; passwords come from the variable each entry names in ``password_env``."""
    env = dict(os.environ) if env is None else env
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as e:
        raise PartnerError(f"{path}: no such partners file") from e
    except json.JSONDecodeError as e:
        raise PartnerError(f"{path}: line {e.lineno}: not JSON ({e.msg})") from e
    items = data.get("partners") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise PartnerError(f"{path}: expected an object with a 'partners' list")
    out = {}
    for i, p in enumerate(items):
        for key in ("name", "api_root", "collection", "user", "password_env"):
            if not isinstance(p.get(key), str) or not p[key]:
                raise PartnerError(f"{path}: partners[{i}].{key}: required string")
        if p["password_env"] not in env:
            raise PartnerError(f"{path}: partners[{i}].password_env: variable {p['password_env']} is not set")
        out[p["name"]] = Partner(p["name"], p["api_root"], p["collection"], p["user"], env[p["password_env"]])
    return out


class State:
    """Per-partner sync progress, saved atomically after every step."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
        except json.JSONDecodeError as e:
            raise PartnerError(f"{path}: line {e.lineno}: state file is not JSON ({e.msg})") from e

    def get(self, partner: str, key: str, default: Any = None) -> Any:
        """A partner's saved value."""
        return self.data.get(partner, {}).get(key, default)

    def set(self, partner: str, key: str, value: Any) -> None:
        """Save a partner's value (write to a temporary file, fsync, rename)."""
        self.data.setdefault(partner, {})[key] = value
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        with open(tmp, "w") as f:
            json.dump(self.data, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


def _client(p: Partner) -> httpx.Client:
    return httpx.Client(auth=(p.user, p.password), headers={"Accept": MEDIA}, timeout=60)


def _check(r: httpx.Response) -> None:
    if r.status_code >= 400:
        try:
            detail = r.json().get("description") or r.json().get("title")
        except ValueError:
            detail = r.text[:200]
        raise PartnerError(f"{r.request.method} {r.request.url}: HTTP {r.status_code}: {detail}")


def pull(
    partner: Partner,
    state: State,
    inbox: Path,
    page_size: int = DEFAULT_PAGE,
    on_page: Callable[[int], None] | None = None,
    max_pages: int | None = None,
) -> int:
    """Fetch objects added since the last pull into ``inbox/<partner>.jsonl``; returns how many."""
    inbox.mkdir(parents=True, exist_ok=True)
    out = inbox / f"{partner.name}.jsonl"
    total = pages = 0
    with _client(partner) as http, open(out, "a") as f:
        while max_pages is None or pages < max_pages:
            params: dict[str, Any] = {"limit": page_size}
            after = state.get(partner.name, "added_after")
            if after:
                params["added_after"] = after
            r = http.get(partner.objects_url, params=params)
            _check(r)
            body = r.json()
            objs = body.get("objects", [])
            for o in objs:
                f.write(json.dumps(o, separators=(",", ":")) + "\n")
            f.flush()
            os.fsync(f.fileno())
            last = r.headers.get("X-TAXII-Date-Added-Last")
            if objs and not last:
                raise PartnerError(
                    f"{partner.objects_url}: page without X-TAXII-Date-Added-Last; cannot resume"
                )
            if last:
                state.set(partner.name, "added_after", last)
            total += len(objs)
            pages += 1
            if on_page:
                on_page(len(objs))
            if not body.get("more") or not objs:
                break
    return total


def read_inbox(inbox: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every pulled object with the partner it came from (newest version of an id wins later)."""
    for path in sorted(inbox.glob("*.jsonl")):
        with open(path) as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    yield path.stem, json.loads(line)
                except json.JSONDecodeError as e:
                    raise PartnerError(f"{path}: line {n}: not JSON ({e.msg})") from e


def push(
    partner: Partner,
    state: State,
    bundle_path: Path,
    chunk: int = DEFAULT_CHUNK,
    on_chunk: Callable[[int], None] | None = None,
) -> int:
    """Add a bundle's objects to the partner's collection in chunks, skipping chunks already acknowledged."""
    raw = bundle_path.read_bytes()
    try:
        bundle = json.loads(raw)
    except json.JSONDecodeError as e:
        raise PartnerError(f"{bundle_path}: line {e.lineno}: not JSON ({e.msg})") from e
    objs = bundle.get("objects") if isinstance(bundle, dict) else None
    if not isinstance(objs, list):
        raise PartnerError(f"{bundle_path}: not a STIX bundle (no 'objects' list)")
    key = hashlib.sha256(raw).hexdigest()[:16]
    done = state.get(partner.name, "pushed", {}).get(key, 0)
    sent = 0
    with _client(partner) as http:
        for i in range(done, (len(objs) + chunk - 1) // chunk):
            part = objs[i * chunk : (i + 1) * chunk]
            r = http.post(
                partner.objects_url,
                content=json.dumps({"objects": part}),
                headers={"Content-Type": MEDIA},
            )
            _check(r)
            status = r.json()
            if status.get("failure_count"):
                first = status.get("failures", [{}])[0]
                raise PartnerError(f"{partner.name} refused {first.get('id')}: {first.get('message')}")
            pushed = dict(state.get(partner.name, "pushed", {}))
            pushed[key] = i + 1
            state.set(partner.name, "pushed", pushed)
            sent += len(part)
            if on_chunk:
                on_chunk(len(part))
    return sent
