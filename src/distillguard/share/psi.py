"""Private set intersection (openmined-psi, ECDH-PSI) between two providers over HTTP.

Low-entropy or personal values (IP addresses and /24 prefixes, payment fingerprints, e-mail
domains) cannot be keyed-hashed for a group: any member holding the key could hash every possible
value and invert the result. Instead, one provider (the server, inside ``share serve``) answers
PSI requests over its own sets, and the other (``share match``) learns which of *its* values the
server also holds, and nothing else about the server's set except its size. The server learns the
size of the client's set and nothing about its values. Each answer uses the server's per-process
key; a request is capped at ``max_items`` values so a client cannot enumerate a small value space
(every IPv4 /24, say) in one call.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow.compute as pc

KINDS = ("ip", "ip24", "payment", "email_domain")
DEFAULT_FPR = 1e-9
DEFAULT_MAX_ITEMS = 1_000_000


class PsiError(ValueError):
    """A PSI request or set that cannot be served: names the set and the reason."""


def canonical(kind: str, value: str) -> str:
    """The form both sides hash: ``<kind>:<lower-cased, trimmed value>``."""
    return f"{kind}:{value.strip().lower()}"


def _ip24(ip: str) -> str | None:
    parts = ip.split(".")
    return ".".join(parts[:3]) if len(parts) == 4 else None


def extract(kind: str, requests: Path | None = None, accounts: Path | None = None) -> dict[str, set[str]]:
    """Values of one kind in our traffic, each with the accounts that used it."""
    from distillguard.io.readers import read_batches

    if kind not in KINDS:
        raise PsiError(f"unknown set kind {kind!r}; use one of {', '.join(KINDS)}")
    out: dict[str, set[str]] = defaultdict(set)
    if kind in ("ip", "ip24"):
        if requests is None:
            raise PsiError(f"set {kind} needs a requests file")
        for r in read_batches(requests, "requests"):
            ips = r.batch.column("ip").to_pylist()
            for acct, ip in zip(r.batch.column("account_id").to_pylist(), ips, strict=True):
                value = ip if kind == "ip" else (_ip24(ip) if ip else None)
                if value:
                    out[canonical(kind, value)].add(acct)
    else:
        if accounts is None:
            raise PsiError(f"set {kind} needs an accounts file")
        column = "payment_fingerprint" if kind == "payment" else "email_domain"
        for r in read_batches(accounts, "accounts"):
            vals = pc.cast(r.batch.column(column), "string").to_pylist()
            for acct, v in zip(r.batch.column("account_id").to_pylist(), vals, strict=True):
                if v:
                    out[canonical(kind, v)].add(acct)
    return dict(out)


def read_items(path: Path) -> list[str]:
    """A set file: one canonical item per line (``share items`` writes them)."""
    try:
        return [line.strip() for line in path.read_text().splitlines() if line.strip()]
    except FileNotFoundError as e:
        raise PsiError(f"{path}: no such PSI set file") from e


@dataclass
class PsiService:
    """The answering side: named sets and one server key for the life of the process."""

    sets: dict[str, list[str]]
    fpr: float = DEFAULT_FPR
    max_items: int = DEFAULT_MAX_ITEMS

    def __post_init__(self) -> None:
        import private_set_intersection.python as psi

        self._psi = psi
        self._server = psi.server.CreateWithNewKey(True)

    def answer(self, name: str, request: bytes) -> dict[str, str]:
        """Setup message and response for one client request (both base64)."""
        psi = self._psi
        if name not in self.sets:
            raise PsiError(f"no PSI set named {name!r}")
        req = psi.Request()
        try:
            req.ParseFromString(request)
        except Exception as e:  # protobuf raises DecodeError, not a ValueError subclass
            raise PsiError(f"set {name}: the body is not a PSI request ({e})") from e
        n = len(req.encrypted_elements)
        if n == 0 or n > self.max_items:
            raise PsiError(f"set {name}: a request holds 1 to {self.max_items} items, this one {n}")
        setup = self._server.CreateSetupMessage(self.fpr, n, self.sets[name], psi.DataStructure.GCS)
        response = self._server.ProcessRequest(req)
        return {
            "setup": base64.b64encode(setup.SerializeToString()).decode(),
            "response": base64.b64encode(response.SerializeToString()).decode(),
        }


def intersect(items: Iterable[str], ask: Callable[[bytes], dict[str, str]]) -> list[str]:
    """Our items that the other side also holds; ``ask(request_bytes) -> {"setup", "response"}``."""
    import private_set_intersection.python as psi

    mine = sorted(set(items))
    if not mine:
        return []
    client = psi.client.CreateWithNewKey(True)
    answer = ask(client.CreateRequest(mine).SerializeToString())
    setup, response = psi.ServerSetup(), psi.Response()
    try:
        setup.ParseFromString(base64.b64decode(answer["setup"]))
        response.ParseFromString(base64.b64decode(answer["response"]))
    except Exception as e:  # protobuf and base64 errors alike mean a broken answer
        raise PsiError(f"the partner's PSI answer is malformed ({e})") from e
    return [mine[i] for i in sorted(client.GetIntersection(setup, response))]


def match(api_root: str, user: str, password: str, name: str, items: Iterable[str]) -> list[str]:
    """PSI with a partner's ``share serve`` over HTTP: our items that its set ``name`` also holds."""
    import httpx

    def ask(request: bytes) -> dict[str, str]:
        r = httpx.post(
            f"{api_root.rstrip('/')}/psi/{name}/",
            content=request,
            auth=(user, password),
            headers={"Content-Type": "application/octet-stream", "Accept": "application/json"},
            timeout=300,
        )
        if r.status_code >= 400:
            try:
                detail = r.json().get("description", "")
            except ValueError:
                detail = r.text[:200]
            raise PsiError(f"POST {r.request.url}: HTTP {r.status_code}: {detail}")
        return r.json()

    return intersect(items, ask)
