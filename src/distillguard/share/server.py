"""A TAXII 2.1 server (FastAPI) over the SQL store, with per-partner access and TLP enforced on read.

Endpoints (TAXII 2.1 section numbers): discovery (4.1), API root (4.2), status (4.3), collections
(5.1, 5.2), manifest (5.3), objects get/add (5.4, 5.5), one object (5.6) and its versions (5.8).
Partners authenticate with HTTP Basic; each has a TLP clearance and read and write lists of
collection ids. Objects marked above a partner's clearance are invisible to it, as if absent.

Errors are TAXII error messages (``title``, ``description``, ``http_status``) with the status code
the specification gives: 401 without valid credentials, 403 without permission, 404 for an unknown
or invisible collection, object or status, 406 when the client does not accept TAXII 2.1, 413 for a
body over the size limit, 415 for a body that is not TAXII 2.1 JSON, 422 for an envelope that is
not one. The config file names its own problems by field.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from distillguard.share import tlp
from distillguard.share.psi import PsiError, PsiService, read_items
from distillguard.share.store import Filters, Page, Store, from_micros, to_micros

MEDIA = "application/taxii+json;version=2.1"
API_ROOT = "share"
DEFAULT_PAGE = 100
MAX_PAGE = 1000
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


class ConfigError(ValueError):
    """The server config file is missing or wrong: names the file and field."""


class TaxiiError(Exception):
    """An error answered with a TAXII error message."""

    def __init__(self, status: int, title: str, description: str = "") -> None:
        super().__init__(title)
        self.status, self.title, self.description = status, title, description


@dataclass(frozen=True)
class Principal:
    """A partner that may call the server."""

    name: str
    password_sha256: str
    clearance: str
    read: frozenset[str]
    write: frozenset[str]
    psi: frozenset[str] = frozenset()

    def check(self, password: str) -> bool:
        """Constant-time password check."""
        digest = hashlib.sha256(password.encode()).hexdigest()
        return hmac.compare_digest(digest, self.password_sha256)


@dataclass
class ServerConfig:
    """Collections, partners and limits of a server."""

    title: str = "distillguard TAXII"
    collections: list[dict[str, str]] = field(default_factory=list)
    principals: dict[str, Principal] = field(default_factory=dict)
    max_bytes: int = DEFAULT_MAX_BYTES
    psi_sets: dict[str, Path] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> ServerConfig:
        """Read a JSON server config (see docs/sharing.md for the format)."""
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError as e:
            raise ConfigError(f"{path}: no such file") from e
        except json.JSONDecodeError as e:
            raise ConfigError(f"{path}: line {e.lineno}: not JSON ({e.msg})") from e
        cfg = cls.from_dict(data, str(path))
        # PSI set files are named relative to the config file.
        cfg.psi_sets = {k: (path.parent / v) for k, v in cfg.psi_sets.items()}
        return cfg

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "config") -> ServerConfig:
        """Build from parsed JSON, naming the field of any problem."""
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: a JSON object is expected")
        cols = data.get("collections")
        if not isinstance(cols, list) or not cols:
            raise ConfigError(f"{where}: collections: a non-empty list is required")
        ids = set()
        for i, c in enumerate(cols):
            if (
                not isinstance(c, dict)
                or not isinstance(c.get("id"), str)
                or not isinstance(c.get("title"), str)
            ):
                raise ConfigError(f"{where}: collections[{i}]: id and title are required")
            ids.add(c["id"])
        principals = {}
        for i, p in enumerate(data.get("principals", [])):
            for key in ("name", "password_sha256"):
                if not isinstance(p.get(key), str):
                    raise ConfigError(f"{where}: principals[{i}].{key}: required string")
            try:
                clearance = tlp.normalise(p.get("clearance", "clear"))
            except ValueError as e:
                raise ConfigError(f"{where}: principals[{i}].clearance: {e}") from e
            for key in ("read", "write"):
                unknown = set(p.get(key, [])) - ids
                if unknown:
                    raise ConfigError(
                        f"{where}: principals[{i}].{key}: unknown collection {sorted(unknown)[0]}"
                    )
            unknown_sets = set(p.get("psi", [])) - set(data.get("psi_sets", {}))
            if unknown_sets:
                raise ConfigError(f"{where}: principals[{i}].psi: unknown PSI set {sorted(unknown_sets)[0]}")
            principals[p["name"]] = Principal(
                p["name"],
                p["password_sha256"],
                clearance,
                frozenset(p.get("read", [])),
                frozenset(p.get("write", [])),
                frozenset(p.get("psi", [])),
            )
        return cls(
            title=str(data.get("title", "distillguard TAXII")),
            collections=cols,
            principals=principals,
            max_bytes=int(data.get("max_bytes", DEFAULT_MAX_BYTES)),
            psi_sets={str(k): Path(v) for k, v in dict(data.get("psi_sets", {})).items()},
        )


def _error(status: int, title: str, description: str = "") -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="taxii"'} if status == 401 else None
    body = {"title": title, "description": description, "http_status": str(status)}
    return JSONResponse(body, status_code=status, media_type=MEDIA, headers=headers)


def _taxii(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status_code=status, media_type=MEDIA, headers=headers)


def _accepts_taxii(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    if not accept:
        return True
    for item in accept.split(","):
        media = item.split(";q=")[0].strip().replace(" ", "").lower()
        if media in ("*/*", "application/*", "application/taxii+json", "application/taxii+json;version=2.1"):
            return True
    return False


def _filters(request: Request) -> Filters:
    q = request.query_params

    def split(name: str) -> tuple[str, ...]:
        raw = q.get(f"match[{name}]")
        return tuple(x.strip() for x in raw.split(",") if x.strip()) if raw else ()

    added = q.get("added_after")
    try:
        after = to_micros(added) if added else None
        versions = split("version") or ("last",)
        for v in versions:
            if v not in ("all", "first", "last"):
                to_micros(v)
    except ValueError as e:
        raise TaxiiError(400, "Bad filter", str(e)) from e
    return Filters(split("id"), split("type"), versions, split("spec_version"), after)


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit")
    try:
        n = int(raw) if raw else DEFAULT_PAGE
    except ValueError as e:
        raise TaxiiError(400, "Bad limit", f"limit must be an integer, got {raw!r}") from e
    return DEFAULT_PAGE if n <= 0 else min(n, MAX_PAGE)


def _cursor(request: Request) -> int:
    raw = request.query_params.get("next")
    if not raw:
        return 0
    if not raw.isdigit():
        raise TaxiiError(400, "Bad next", "next must be a value a previous page returned")
    return int(raw)


def create_app(store: Store, config: ServerConfig, psi: PsiService | None = None) -> FastAPI:
    """The FastAPI application serving one API root (``/share/``) over ``store``.

    PSI sets named in the config are answered at ``/share/psi/<set>/`` for partners allowed them.
    """
    if psi is None and config.psi_sets:
        psi = PsiService({k: read_items(v) for k, v in config.psi_sets.items()})
    app = FastAPI(title=config.title, docs_url=None, redoc_url=None, openapi_url=None)
    for c in config.collections:
        store.ensure_collection(c["id"], c["title"], c.get("description", ""))
    known = {c["id"]: c for c in config.collections}

    @app.exception_handler(TaxiiError)
    async def _taxii_error(_: Request, e: TaxiiError) -> JSONResponse:
        return _error(e.status, e.title, e.description)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, e: StarletteHTTPException) -> JSONResponse:
        return _error(e.status_code, str(e.detail))

    @app.middleware("http")
    async def _guard(request: Request, call_next: Any) -> Response:
        # PSI answers are JSON, not TAXII; everything else must accept TAXII 2.1.
        if "/psi/" not in request.url.path and not _accepts_taxii(request):
            return _error(406, "Not acceptable", f"send Accept: {MEDIA}")
        size = request.headers.get("content-length")
        if size and size.isdigit() and int(size) > config.max_bytes:
            return _error(413, "Request too large", f"the limit is {config.max_bytes} bytes")
        return await call_next(request)

    def principal(request: Request) -> Principal:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                user, password = "", ""
            p = config.principals.get(user)
            if p is not None and p.check(password):
                return p
        raise TaxiiError(401, "Authentication required", "send HTTP Basic credentials of a partner")

    def readable(p: Principal, cid: str) -> dict[str, str]:
        if cid not in known or (cid not in p.read and cid not in p.write):
            raise TaxiiError(404, "Unknown collection", f"no collection {cid} visible to {p.name}")
        if cid not in p.read:
            raise TaxiiError(403, "Read not permitted", f"{p.name} may not read collection {cid}")
        return known[cid]

    def info(p: Principal, c: dict[str, str]) -> dict[str, Any]:
        return {
            "id": c["id"],
            "title": c["title"],
            "description": c.get("description", ""),
            "can_read": c["id"] in p.read,
            "can_write": c["id"] in p.write,
            "media_types": [MEDIA],
        }

    def page_headers(rows: list[dict[str, Any]]) -> dict[str, str]:
        if not rows:
            return {}
        added = [r["date_added"] for r in rows]
        return {
            "X-TAXII-Date-Added-First": from_micros(min(added)),
            "X-TAXII-Date-Added-Last": from_micros(max(added)),
        }

    @app.get("/taxii2/")
    def discovery(request: Request) -> Response:
        principal(request)
        base = str(request.base_url).rstrip("/")
        return _taxii(
            {"title": config.title, "default": f"{base}/{API_ROOT}/", "api_roots": [f"{base}/{API_ROOT}/"]}
        )

    @app.get(f"/{API_ROOT}/")
    def api_root(request: Request) -> Response:
        principal(request)
        return _taxii({"title": config.title, "versions": [MEDIA], "max_content_length": config.max_bytes})

    @app.get(f"/{API_ROOT}/status/{{status_id}}/")
    def status(request: Request, status_id: str) -> Response:
        p = principal(request)
        found = store.status(status_id)
        if found is None or found[0] != p.name:
            raise TaxiiError(404, "Unknown status", f"no status {status_id} for {p.name}")
        return _taxii(found[1])

    @app.get(f"/{API_ROOT}/collections/")
    def list_collections(request: Request) -> Response:
        p = principal(request)
        visible = [info(p, c) for c in config.collections if c["id"] in p.read | p.write]
        return _taxii({"collections": visible} if visible else {})

    @app.get(f"/{API_ROOT}/collections/{{cid}}/")
    def get_collection(request: Request, cid: str) -> Response:
        p = principal(request)
        if cid not in known or cid not in p.read | p.write:
            raise TaxiiError(404, "Unknown collection", f"no collection {cid} visible to {p.name}")
        return _taxii(info(p, known[cid]))

    def objects_page(request: Request, cid: str, filters: Filters) -> Page:
        p = principal(request)
        readable(p, cid)
        return store.query(cid, filters, tlp.rank(p.clearance), _limit(request), _cursor(request))

    @app.get(f"/{API_ROOT}/collections/{{cid}}/objects/")
    def get_objects(request: Request, cid: str) -> Response:
        page = objects_page(request, cid, _filters(request))
        body: dict[str, Any] = {"more": page.more}
        if page.more:
            body["next"] = page.next
        if page.rows:
            body["objects"] = [json.loads(r["body"]) for r in page.rows]
        return _taxii(body, headers=page_headers(page.rows))

    @app.get(f"/{API_ROOT}/collections/{{cid}}/manifest/")
    def get_manifest(request: Request, cid: str) -> Response:
        page = objects_page(request, cid, _filters(request))
        body: dict[str, Any] = {"more": page.more}
        if page.more:
            body["next"] = page.next
        if page.rows:
            body["objects"] = [
                {
                    "id": r["stix_id"],
                    "date_added": from_micros(r["date_added"]),
                    "version": r["version"],
                    "media_type": MEDIA,
                }
                for r in page.rows
            ]
        return _taxii(body, headers=page_headers(page.rows))

    @app.get(f"/{API_ROOT}/collections/{{cid}}/objects/{{object_id}}/")
    def get_object(request: Request, cid: str, object_id: str) -> Response:
        f = _filters(request)
        f = Filters((object_id,), f.types, f.versions, f.spec_versions, f.added_after)
        page = objects_page(request, cid, f)
        if not page.rows and not _cursor(request):
            raise TaxiiError(404, "Unknown object", f"no object {object_id} in collection {cid}")
        body: dict[str, Any] = {"more": page.more, "objects": [json.loads(r["body"]) for r in page.rows]}
        if page.more:
            body["next"] = page.next
        return _taxii(body, headers=page_headers(page.rows))

    @app.get(f"/{API_ROOT}/collections/{{cid}}/objects/{{object_id}}/versions/")
    def get_versions(request: Request, cid: str, object_id: str) -> Response:
        f = _filters(request)
        f = Filters((object_id,), (), ("all",), f.spec_versions, f.added_after)
        page = objects_page(request, cid, f)
        if not page.rows and not _cursor(request):
            raise TaxiiError(404, "Unknown object", f"no object {object_id} in collection {cid}")
        body: dict[str, Any] = {"more": page.more, "versions": sorted(r["version"] for r in page.rows)}
        if page.more:
            body["next"] = page.next
        return _taxii(body, headers=page_headers(page.rows))

    @app.post(f"/{API_ROOT}/psi/{{name}}/")
    async def psi_answer(request: Request, name: str) -> Response:
        p = principal(request)
        if psi is None or name not in psi.sets:
            raise TaxiiError(404, "Unknown PSI set", f"no PSI set {name}")
        if name not in p.psi:
            raise TaxiiError(403, "PSI not permitted", f"{p.name} may not match against set {name}")
        raw = await request.body()
        if len(raw) > config.max_bytes:
            raise TaxiiError(413, "Request too large", f"the limit is {config.max_bytes} bytes")
        try:
            body = await run_in_threadpool(psi.answer, name, raw)
        except PsiError as e:
            raise TaxiiError(422, "Bad PSI request", str(e)) from e
        return JSONResponse(body)

    @app.post(f"/{API_ROOT}/collections/{{cid}}/objects/")
    async def add_objects(request: Request, cid: str) -> Response:
        p = principal(request)
        if cid not in known or cid not in p.read | p.write:
            raise TaxiiError(404, "Unknown collection", f"no collection {cid} visible to {p.name}")
        if cid not in p.write:
            raise TaxiiError(403, "Write not permitted", f"{p.name} may not add to collection {cid}")
        ctype = request.headers.get("content-type", "").replace(" ", "").lower()
        if not ctype.startswith("application/taxii+json"):
            raise TaxiiError(415, "Unsupported media type", f"send Content-Type: {MEDIA}")
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > config.max_bytes:
                raise TaxiiError(413, "Request too large", f"the limit is {config.max_bytes} bytes")
        try:
            envelope = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise TaxiiError(422, "Not JSON", str(e)) from e
        items = envelope.get("objects") if isinstance(envelope, dict) else None
        if not isinstance(items, list) or not all(isinstance(o, dict) for o in items):
            raise TaxiiError(422, "Not an envelope", "expected an object with an 'objects' list of objects")
        return _taxii(await run_in_threadpool(store.add, cid, items, p.name), status=202)

    return app
