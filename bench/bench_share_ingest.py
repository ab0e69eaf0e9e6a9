"""Benchmark TAXII ingest: objects per second added through the server, and paged reads back.

A server runs in-process (uvicorn thread) over SQLite by default or the database given with --db.
Indicators are pushed in envelopes over HTTP, as a partner's ``share push`` sends them; then the
same envelopes again (idempotent no-ops), then everything is read back in pages of 1,000.

    python bench/bench_share_ingest.py                          # 50,000 objects, SQLite
    python bench/bench_share_ingest.py --db postgresql+psycopg2://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
import uuid

import httpx

from distillguard.share.serve import running
from distillguard.share.server import MEDIA, ServerConfig
from distillguard.share.store import Store

COL = "6a3d1f4e-9b2c-4d5e-8f7a-1b2c3d4e5f60"


def indicator(i: int) -> dict:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=i + (7 << 100), version=4)}",
        "created": "2026-03-01T00:00:00.000Z",
        "modified": "2026-03-01T00:00:00.000Z",
        "name": f"band key {i}",
        "pattern": f"[x-distillguard-template:band_key = 'tb1:k1:head:{i:016x}']",
        "pattern_type": "stix",
        "valid_from": "2026-03-01T00:00:00.000Z",
        "object_marking_refs": ["marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=50_000)
    parser.add_argument("--envelope", type=int, default=500)
    parser.add_argument("--db", default=None, help="SQLAlchemy URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url, schema = args.db, None
        if url and url.startswith("postgresql"):
            import sqlalchemy as sa

            # A schema of its own, dropped at the end, so the database is left as it was.
            schema = f"dg_bench_{uuid.uuid4().hex[:8]}"
            with sa.create_engine(args.db).begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            url = f"{url}?options=-csearch_path%3D{schema}"
        store = Store(url or f"sqlite:///{tmp}/taxii.db")
        pw = "bench"
        config = ServerConfig.from_dict(
            {
                "collections": [{"id": COL, "title": "bench"}],
                "principals": [
                    {
                        "name": "p",
                        "password_sha256": hashlib.sha256(pw.encode()).hexdigest(),
                        "clearance": "red",
                        "read": [COL],
                        "write": [COL],
                    }
                ],
                "max_bytes": 50_000_000,
            }
        )
        objs = [indicator(i) for i in range(args.objects)]
        bodies = [
            json.dumps({"objects": objs[i : i + args.envelope]}) for i in range(0, len(objs), args.envelope)
        ]
        with running(store, config) as base, httpx.Client(auth=("p", pw), timeout=120) as http:
            post = f"{base}/share/collections/{COL}/objects/"
            headers = {"Content-Type": MEDIA, "Accept": MEDIA}
            for label in ("ingest", "re-push (no-op)"):
                t = time.perf_counter()
                for body in bodies:
                    r = http.post(post, content=body, headers=headers)
                    r.raise_for_status()
                dt = time.perf_counter() - t
                print(f"{label}: {args.objects:,} objects in {dt:.2f} s = {args.objects / dt:,.0f} objects/s")
            t = time.perf_counter()
            n, nxt = 0, None
            while True:
                params = {"limit": 1000, **({"next": nxt} if nxt else {})}
                body = http.get(post, params=params, headers={"Accept": MEDIA}).json()
                n += len(body.get("objects", []))
                if not body.get("more"):
                    break
                nxt = body["next"]
            dt = time.perf_counter() - t
            print(
                f"paged read: {n:,} objects in {dt:.2f} s = {n / dt:,.0f} objects/s ({store.engine.dialect.name})"
            )
        store.close()
        if schema:
            with sa.create_engine(args.db).begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
