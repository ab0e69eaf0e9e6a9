"""Enforcement records: what was ordered against whom, why, until when, by which policy version.

Every action a policy orders becomes one record, which is also its audit entry. Records persist in
a SQL database through SQLAlchemy (SQLite file by default, PostgreSQL for a fleet), so a restart
forgets no block; the service keeps the live ones in memory, indexed by scope and subject, so the
per-request lookup never touches the database. An action that needs approval is recorded as
``pending`` and enforced only once a person approves it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import orjson
from sqlalchemy import (
    Boolean,
    Column,
    Float,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool

STATUSES = ("active", "pending", "revoked")
log = logging.getLogger("distillguard.respond")

metadata = MetaData()
enforcements_table = Table(
    "dg_enforcements",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("action", String(40), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("subject", String(256), nullable=False, index=True),
    Column("account_id", String(256)),
    Column("status", String(16), nullable=False),
    Column("needs_approval", Boolean, nullable=False),
    Column("policy", String(200), nullable=False),
    Column("rule", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("evidence", Text, nullable=False),
    Column("params", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False, index=True),
    Column("decided_by", String(200)),
    Column("decided_at", Float),
)


@dataclass(frozen=True)
class Enforcement:
    """One ordered action and its audit trail."""

    action: str
    scope: str  # key | account | cluster
    subject: str
    account_id: str
    policy: str  # name@version
    rule: str
    reason: str
    evidence: dict[str, Any]
    created_at: float
    expires_at: float
    needs_approval: bool = False
    status: str = "active"
    params: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    decided_by: str | None = None
    decided_at: float | None = None

    def live(self, now: float) -> bool:
        """Enforced now: active and not expired."""
        return self.status == "active" and self.expires_at > now

    def to_json(self) -> dict[str, Any]:
        """The audit record as JSON: times in RFC 3339."""
        out = asdict(self)
        for k in ("created_at", "expires_at", "decided_at"):
            if out[k] is not None:
                out[k] = dt.datetime.fromtimestamp(out[k], dt.UTC).isoformat().replace("+00:00", "Z")
        return out


def _row(e: Enforcement) -> dict[str, Any]:
    d = asdict(e)
    d["evidence"] = orjson.dumps(e.evidence, default=str).decode()
    d["params"] = orjson.dumps(e.params).decode()
    return d


def _from_row(r: Mapping[str, Any]) -> Enforcement:
    d = dict(r)
    d["evidence"] = orjson.loads(d["evidence"])
    d["params"] = orjson.loads(d["params"])
    return Enforcement(**d)


class EnforcementStore:
    """Persisted enforcement records with an in-memory index of the ones not yet expired."""

    def __init__(self, url: str = "sqlite:///distillguard-enforcement.db") -> None:
        self.url = url
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False}
            if url in ("sqlite://", "sqlite:///:memory:"):
                # An in-memory database lives in one connection: every thread must share it.
                kwargs["poolclass"] = StaticPool
        self.engine: Engine = create_engine(url, **kwargs)
        try:
            metadata.create_all(self.engine)
        except DBAPIError:
            # Another process (a sibling worker) created the table between our check and our CREATE.
            if not inspect(self.engine).has_table(enforcements_table.name):
                raise
        self._lock = threading.Lock()
        self._by_id: dict[str, Enforcement] = {}
        self._index: dict[tuple[str, str], list[Enforcement]] = {}
        self._stop = threading.Event()
        self._refresher: threading.Thread | None = None
        self.reload()

    def refresh_every(self, seconds: float) -> None:
        """Re-read the database every ``seconds`` in a background thread, so that records ordered,
        approved or revoked by other service instances (or workers) take effect here too."""
        if self._refresher is not None or seconds <= 0:
            return

        def loop() -> None:
            while not self._stop.wait(seconds):
                try:
                    self.reload()
                except Exception:  # a database hiccup must not kill the refresher; the next tick retries
                    log.exception("reloading enforcement records failed")

        self._refresher = threading.Thread(target=loop, name="enforcement-refresh", daemon=True)
        self._refresher.start()

    def __len__(self) -> int:
        return len(self._by_id)

    def reload(self, now: float | None = None) -> int:
        """Read every unexpired, unrevoked record from the database into memory; return how many."""
        now = time.time() if now is None else now
        t = enforcements_table
        with self.engine.connect() as con:
            rows = con.execute(select(t).where(t.c.expires_at > now, t.c.status != "revoked")).mappings()
            records = [_from_row(r) for r in rows]
        with self._lock:
            self._by_id = {e.id: e for e in records}
            self._rebuild()
        return len(records)

    def _rebuild(self) -> None:
        index: dict[tuple[str, str], list[Enforcement]] = {}
        for e in self._by_id.values():
            index.setdefault((e.scope, e.subject), []).append(e)
        self._index = index

    def for_subjects(self, subjects: Iterable[tuple[str, str]], now: float) -> list[Enforcement]:
        """Unexpired records (active or pending) on any of these (scope, subject) pairs."""
        out: list[Enforcement] = []
        index = self._index
        for s in subjects:
            for e in index.get(s, ()):
                if e.expires_at > now:
                    out.append(e)
        return out

    def add(self, e: Enforcement) -> Enforcement:
        """Persist a new record and index it."""
        self.persist([self.stage(e)])
        return e

    def stage(self, e: Enforcement) -> Enforcement:
        """Index a new record in memory, to be written by ``persist``."""
        with self._lock:
            self._by_id[e.id] = e
            self._index.setdefault((e.scope, e.subject), []).append(e)
        return e

    def persist(self, records: Sequence[Enforcement]) -> None:
        """Write staged records in one transaction; on failure, unindex them and raise."""
        try:
            with self.engine.begin() as con:
                con.execute(insert(enforcements_table), [_row(e) for e in records])
        except Exception:
            with self._lock:
                for e in records:
                    self._by_id.pop(e.id, None)
                self._rebuild()
            raise

    def decide(self, record_id: str, status: str, by: str, now: float | None = None) -> Enforcement:
        """Approve (``active``) or revoke (``revoked``) a record; raise KeyError for an unknown id."""
        if status not in ("active", "revoked"):
            raise ValueError(f"status must be active or revoked, got {status!r}")
        now = time.time() if now is None else now
        t = enforcements_table
        with self.engine.begin() as con:
            row = con.execute(select(t).where(t.c.id == record_id)).mappings().first()
            if row is None:
                raise KeyError(record_id)
            con.execute(
                update(t).where(t.c.id == record_id).values(status=status, decided_by=by, decided_at=now)
            )
        e = replace(_from_row(row), status=status, decided_by=by, decided_at=now)
        with self._lock:
            if status == "revoked":
                self._by_id.pop(record_id, None)
            else:
                self._by_id[record_id] = e
            self._rebuild()
        return e

    def all(self, limit: int = 10_000) -> list[Enforcement]:
        """Every record ever written (the audit log), newest first."""
        t = enforcements_table
        with self.engine.connect() as con:
            rows = con.execute(select(t).order_by(t.c.created_at.desc()).limit(limit)).mappings()
            return [_from_row(r) for r in rows]

    def close(self) -> None:
        """Stop refreshing and release database connections."""
        self._stop.set()
        if self._refresher is not None:
            self._refresher.join(timeout=5)
        self.engine.dispose()
