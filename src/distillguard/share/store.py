"""TAXII storage with SQLAlchemy: SQLite by default, PostgreSQL by URL; schema owned by Alembic.

An object version is the row (collection, STIX id, version), where the version is ``modified``
(else ``created``). Adding a version that is already stored is a no-op, so pushing the same bundle
twice stores it once. Each envelope is written in one transaction and its status is written in the
same one: a status the client has seen means every success it lists is on disk.

``seq`` (the row's autoincrement key) orders objects by arrival and is the pagination cursor;
``date_added`` is kept in microseconds, distinct for every stored version and increasing with
``seq``, so ``added_after`` with the last page's ``X-TAXII-Date-Added-Last`` resumes without gaps
or repeats.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from distillguard.share import tlp

metadata = sa.MetaData()
collections = sa.Table(
    "collections",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
)
objects = sa.Table(
    "objects",
    metadata,
    sa.Column(
        "seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    sa.Column("collection_id", sa.String(36), sa.ForeignKey("collections.id"), nullable=False),
    sa.Column("stix_id", sa.String(200), nullable=False),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("spec_version", sa.String(10), nullable=False),
    sa.Column("version", sa.String(40), nullable=False),
    sa.Column("date_added", sa.BigInteger, nullable=False),
    sa.Column("tlp_rank", sa.SmallInteger, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.UniqueConstraint("collection_id", "stix_id", "version", name="uq_object_version"),
)
statuses = sa.Table(
    "statuses",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("principal", sa.String(100), nullable=False),
    sa.Column("request_timestamp", sa.BigInteger, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
)


def to_micros(value: str) -> int:
    """Microseconds since the epoch of a STIX/TAXII timestamp (raises ValueError naming it)."""
    try:
        t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, AttributeError) as e:
        raise ValueError(f"not a timestamp: {value!r}") from e
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return int(round(t.timestamp() * 1_000_000))


def from_micros(us: int) -> str:
    """A TAXII timestamp (microsecond precision, ``Z``)."""
    t = dt.datetime.fromtimestamp(us // 1_000_000, dt.UTC).replace(microsecond=us % 1_000_000)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def version_of(obj: dict[str, Any]) -> str:
    """The TAXII version of an object: ``modified``, else ``created``, else a fixed epoch."""
    return str(obj.get("modified") or obj.get("created") or "1970-01-01T00:00:00.000Z")


@dataclass(frozen=True)
class Page:
    """One page of stored rows, and whether more follow."""

    rows: list[dict[str, Any]]
    more: bool
    next: str | None


@dataclass(frozen=True)
class Filters:
    """TAXII ``match[...]`` and ``added_after`` filters of a request."""

    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[str, ...] = ("last",)
    spec_versions: tuple[str, ...] = ()
    added_after: int | None = None


class Store:
    """Collections and object versions in one SQL database."""

    def __init__(self, url: str = "sqlite:///taxii.db") -> None:
        self.url = url
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        self.engine: Engine = sa.create_engine(url, future=True, pool_pre_ping=True, **kwargs)
        if url.startswith("sqlite"):

            @sa.event.listens_for(self.engine, "connect")
            def _pragmas(conn: Any, _: Any) -> None:
                # WAL + full sync: an acknowledged commit survives a crash of the process or the machine.
                cur = conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=FULL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.close()

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(resources.files("distillguard.share") / "migrations"))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def close(self) -> None:
        """Release pooled connections."""
        self.engine.dispose()

    def ensure_collection(self, cid: str, title: str, description: str = "") -> None:
        """Create a collection if it does not exist."""
        with self.engine.begin() as conn:
            if conn.execute(sa.select(collections.c.id).where(collections.c.id == cid)).first() is None:
                conn.execute(collections.insert().values(id=cid, title=title, description=description))

    def collections(self) -> list[dict[str, Any]]:
        """All collections."""
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.select(collections).order_by(collections.c.id))]

    def add(self, cid: str, items: Sequence[dict[str, Any]], principal: str) -> dict[str, Any]:
        """Store an envelope's objects in one transaction; return the TAXII status resource."""
        now = _now_us()
        successes, failures = [], []
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # One writer at a time per collection keeps date_added monotonic with seq.
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:c))"), {"c": cid})
            last = conn.execute(
                sa.select(sa.func.max(objects.c.date_added)).where(objects.c.collection_id == cid)
            ).scalar()
            added = max(now, (last or 0) + 1)
            valid: list[tuple[str, str, dict[str, Any]]] = []
            for obj in items:
                sid = obj.get("id")
                try:
                    if not isinstance(sid, str) or "--" not in sid or not isinstance(obj.get("type"), str):
                        raise ValueError("an object needs a type and an id")
                    # One spelling per instant, so that max/min and equality work across producers.
                    valid.append((sid, from_micros(to_micros(version_of(obj))), obj))
                except ValueError as e:
                    failures.append({"id": str(sid), "message": str(e)})
            stored: set[tuple[str, str]] = set()
            ids = sorted({sid for sid, _, _ in valid})
            for lo in range(0, len(ids), 500):
                rows = conn.execute(
                    sa.select(objects.c.stix_id, objects.c.version).where(
                        objects.c.collection_id == cid, objects.c.stix_id.in_(ids[lo : lo + 500])
                    )
                )
                stored.update((r.stix_id, r.version) for r in rows)
            new_rows = []
            for sid, ver, obj in valid:
                if (sid, ver) not in stored:
                    stored.add((sid, ver))
                    new_rows.append(
                        {
                            "collection_id": cid,
                            "stix_id": sid,
                            "type": obj["type"],
                            "spec_version": str(obj.get("spec_version", "2.1")),
                            "version": ver,
                            # Every version gets its own instant, so added_after resumes between any two.
                            "date_added": added + len(new_rows),
                            "tlp_rank": tlp.rank(tlp.effective_level(obj)),
                            "body": json.dumps(obj, separators=(",", ":")),
                        }
                    )
                successes.append({"id": sid, "version": ver, "message": "stored"})
            if new_rows:
                conn.execute(objects.insert(), new_rows)
            status = {
                "id": str(uuid.uuid4()),
                "status": "complete",
                "request_timestamp": from_micros(now),
                "total_count": len(items),
                "success_count": len(successes),
                "failure_count": len(failures),
                "pending_count": 0,
                "successes": successes,
                "failures": failures,
            }
            for key in ("successes", "failures"):
                if not status[key]:
                    del status[key]
            conn.execute(
                statuses.insert().values(
                    id=status["id"], principal=principal, request_timestamp=now, body=json.dumps(status)
                )
            )
        return status

    def status(self, sid: str) -> tuple[str, dict[str, Any]] | None:
        """A stored status and the principal that made it."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(statuses).where(statuses.c.id == sid)).first()
        return None if row is None else (row.principal, json.loads(row.body))

    def query(self, cid: str, filters: Filters, max_rank: int, limit: int, after_seq: int = 0) -> Page:
        """Object versions in arrival order after the ``after_seq`` cursor, at most ``limit``."""
        q = sa.select(objects).where(
            objects.c.collection_id == cid, objects.c.tlp_rank <= max_rank, objects.c.seq > after_seq
        )
        if filters.ids:
            q = q.where(objects.c.stix_id.in_(filters.ids))
        if filters.types:
            q = q.where(objects.c.type.in_(filters.types))
        if filters.spec_versions:
            q = q.where(objects.c.spec_version.in_(filters.spec_versions))
        if filters.added_after is not None:
            q = q.where(objects.c.date_added > filters.added_after)
        q = q.where(_version_clause(cid, filters.versions))
        q = q.order_by(objects.c.seq).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(q)]
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, more, str(rows[-1]["seq"]) if more and rows else None)


def _version_clause(cid: str, versions: Iterable[str]) -> sa.ColumnElement[bool]:
    versions = tuple(versions)
    if "all" in versions:
        return sa.true()
    other = sa.alias(objects)
    clauses = []
    for v in versions:
        if v in ("last", "first"):
            agg = sa.func.max if v == "last" else sa.func.min
            best = (
                sa.select(agg(other.c.version))
                .where(other.c.collection_id == cid, other.c.stix_id == objects.c.stix_id)
                .scalar_subquery()
            )
            clauses.append(objects.c.version == best)
        else:
            clauses.append(objects.c.version == from_micros(to_micros(v)))
    return sa.or_(*clauses) if clauses else sa.true()


_last_now = 0


def _now_us() -> int:
    global _last_now
    now = int(dt.datetime.now(dt.UTC).timestamp() * 1_000_000)
    _last_now = max(now, _last_now + 1)
    return _last_now
