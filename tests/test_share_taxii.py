"""The TAXII 2.1 server against taxii2-client (software this team did not write), on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import hashlib
import json
import socket
import uuid

import httpx
import pytest
import requests
from taxii2client.exceptions import AccessError
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from distillguard.share.export import build_bundle
from distillguard.share.keys import Keyring
from distillguard.share.serve import running
from distillguard.share.server import MEDIA, ServerConfig
from distillguard.share.store import Store
from share_fixtures import campaign

COL = "365fed99-08fa-4fcd-a1b3-fb247eb41d01"
OTHER = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
AMBER_STRICT = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"


def _sha(pw: str) -> str:
    return hashlib.sha256(pw.encode()).hexdigest()


CONFIG = {
    "collections": [
        {"id": COL, "title": "distillation indicators"},
        {"id": OTHER, "title": "write only drop box"},
    ],
    "principals": [
        {
            "name": "alpha",
            "password_sha256": _sha("alpha-pw"),
            "clearance": "amber+strict",
            "read": [COL],
            "write": [COL, OTHER],
        },
        {"name": "reader", "password_sha256": _sha("reader-pw"), "clearance": "amber+strict", "read": [COL]},
        {"name": "green", "password_sha256": _sha("green-pw"), "clearance": "green", "read": [COL]},
    ],
    "max_bytes": 2_000_000,
}


def _pg_url() -> str | None:
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
    except OSError:
        return None
    return "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory):
    if request.param == "sqlite":
        store = Store(f"sqlite:///{tmp_path_factory.mktemp('taxii')}/taxii.db")
        schema = None
    else:
        url = _pg_url()
        if url is None:
            pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
        import sqlalchemy as sa

        schema = f"dg_share_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(url)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        store = Store(f"{url}?options=-csearch_path%3D{schema}")
    with running(store, ServerConfig.from_dict(CONFIG)) as base:
        yield base, store
    store.close()
    if schema:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _collection(base: str, user: str = "alpha", cid: str = COL) -> Collection:
    return Collection(f"{base}/share/collections/{cid}/", user=user, password=f"{user}-pw")


def _indicator(i: int, modified: str = "2026-03-01T00:00:00.000Z", marking: str = AMBER_STRICT) -> dict:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=i + (1 << 100), version=4)}",
        "created": "2026-03-01T00:00:00.000Z",
        "modified": modified,
        "name": f"band key {i}",
        "pattern": f"[x-distillguard-template:band_key = 'tb1:k1:head:{i:016x}']",
        "pattern_type": "stix",
        "valid_from": "2026-03-01T00:00:00.000Z",
        "object_marking_refs": [marking],
    }


@pytest.fixture(scope="module")
def loaded(server):
    """1,050 indicators added in three envelopes (so paging crosses add batches)."""
    base, _ = server
    col = _collection(base)
    objs = [_indicator(i) for i in range(1050)]
    for lo in range(0, 1050, 400):
        status = col.add_objects({"objects": objs[lo : lo + 400]}, wait_for_completion=True)
        assert status.status == "complete" and status.failure_count == 0
    return base, objs


def test_discovery_api_root_and_collections(server):
    base, _ = server
    s = Server(f"{base}/taxii2/", user="reader", password="reader-pw")
    assert s.title and len(s.api_roots) == 1 and s.default.url == f"{base}/share/"
    root = ApiRoot(f"{base}/share/", user="reader", password="reader-pw")
    assert MEDIA in root.versions and root.max_content_length == 2_000_000
    cols = {c.id: c for c in root.collections}
    assert set(cols) == {COL} and cols[COL].can_read and not cols[COL].can_write
    alpha = {c.id: c for c in ApiRoot(f"{base}/share/", user="alpha", password="alpha-pw").collections}
    assert alpha[OTHER].can_write and not alpha[OTHER].can_read


@pytest.mark.parametrize("per_request", [1, 7, 100])
def test_paging_returns_each_object_exactly_once(loaded, per_request):
    base, objs = loaded
    col = _collection(base, "reader")
    seen: list[str] = []
    for envelope in as_pages(col.get_objects, per_request=per_request, type="indicator"):
        if envelope.get("more"):
            assert envelope.get("next"), "more without next"
        seen += [o["id"] for o in envelope.get("objects", [])]
    want = [o["id"] for o in objs]
    assert sorted(seen) == sorted(want) and len(seen) == len(set(seen))


def test_manifest_pages_and_added_after_resume(loaded):
    base, objs = loaded
    col = _collection(base, "reader")
    first = col.get_manifest(limit=500, type="indicator")
    assert first["more"] and len(first["objects"]) == 500
    last_added = max(o["date_added"] for o in first["objects"])
    # Resuming with added_after never repeats what the first page held.
    rest = [
        o["id"]
        for env in as_pages(col.get_manifest, per_request=100, added_after=last_added, type="indicator")
        for o in env.get("objects", [])
    ]
    got = {o["id"] for o in first["objects"]} | set(rest)
    assert not {o["id"] for o in first["objects"]} & set(rest)
    assert got == {o["id"] for o in objs}


def test_filters_id_type_version_spec_version(loaded):
    base, objs = loaded
    col = _collection(base)
    target = copy.deepcopy(objs[3])
    newer = dict(target, modified="2026-03-05T00:00:00.000Z", name="band key 3, revised")
    col.add_objects({"objects": [newer]}, wait_for_completion=True)
    r = col.get_objects(id=target["id"])
    assert [o["modified"] for o in r["objects"]] == ["2026-03-05T00:00:00.000Z"]
    r = col.get_objects(id=target["id"], version="first")
    assert [o["name"] for o in r["objects"]] == ["band key 3"]
    r = col.get_objects(id=target["id"], version="all")
    assert len(r["objects"]) == 2
    r = col.get_objects(id=target["id"], version="2026-03-01T00:00:00Z")
    assert [o["name"] for o in r["objects"]] == ["band key 3"]
    assert col.get_objects(type="campaign").get("objects") is None
    assert len(col.get_objects(spec_version="2.1", type="indicator", limit=5)["objects"]) == 5
    assert col.get_objects(spec_version="2.0", type="indicator").get("objects") is None
    versions = col.object_versions(target["id"])
    assert versions["versions"] == ["2026-03-01T00:00:00.000000Z", "2026-03-05T00:00:00.000000Z"]
    one = col.get_object(target["id"])
    assert one["objects"][0]["name"] == "band key 3, revised"


def test_adding_the_same_version_twice_is_a_no_op(loaded, server):
    base, objs = loaded
    col = _collection(base)
    before = sum(
        len(e.get("objects", [])) for e in as_pages(col.get_manifest, per_request=1000, version="all")
    )
    status = col.add_objects({"objects": objs[:50]}, wait_for_completion=True)
    assert status.success_count == 50
    after = sum(
        len(e.get("objects", [])) for e in as_pages(col.get_manifest, per_request=1000, version="all")
    )
    assert after == before


def test_read_only_principal_is_refused_on_write(server):
    base, _ = server
    # taxii2-client reads can_write from our collection resource and refuses before sending...
    with pytest.raises(AccessError):
        _collection(base, "reader").add_objects({"objects": [_indicator(99999)]})
    # ...and a client that sends anyway gets 403 from the server.
    r = httpx.post(
        f"{base}/share/collections/{COL}/objects/",
        auth=("reader", "reader-pw"),
        headers={"Content-Type": MEDIA, "Accept": MEDIA},
        content=json.dumps({"objects": [_indicator(99999)]}),
    )
    assert r.status_code == 403
    body = r.json()
    assert body["http_status"] == "403" and "reader" in body["description"]


def test_tlp_is_enforced_on_read(server):
    base, _ = server
    col = _collection(base)
    green = _indicator(70000, marking=GREEN)
    red = _indicator(70001, marking=AMBER_STRICT)
    col.add_objects({"objects": [green, red]}, wait_for_completion=True)
    seen = {
        o["id"] for o in _collection(base, "green").get_objects(id=f"{green['id']},{red['id']}")["objects"]
    }
    assert seen == {green["id"]}
    with pytest.raises(requests.HTTPError) as e:
        _collection(base, "green").get_object(red["id"])
    assert e.value.response.status_code == 404


def test_extension_definition_software_and_bundle_round_trip(server):
    base, _ = server
    col = _collection(base)
    bundle = build_bundle([campaign()], Keyring.new("forum"), "Provider A")
    software = {
        "type": "software",
        "spec_version": "2.1",
        "id": "software--4b1c1c2b-6f8e-5f5e-9b7c-2b1e8d8f7a10",
        "name": "harvester",
        "version": "2.1",
        "object_marking_refs": [AMBER_STRICT],
    }
    status = col.add_objects({"objects": [*bundle["objects"], software]}, wait_for_completion=True)
    assert status.failure_count == 0
    ext_def = next(o for o in bundle["objects"] if o["type"] == "extension-definition")
    assert col.get_object(ext_def["id"])["objects"] == [ext_def]
    assert col.get_object(software["id"])["objects"] == [software]
    camp = next(o for o in bundle["objects"] if o["type"] == "campaign")
    assert col.get_object(camp["id"])["objects"] == [camp]


@pytest.mark.parametrize(
    "method, path, headers, content, status",
    [
        ("GET", "/taxii2/", {"Accept": MEDIA}, None, 401),
        ("GET", "/share/collections/", {"Accept": "text/html"}, None, 406),
        ("POST", f"/share/collections/{COL}/objects/", {"Content-Type": "application/json"}, b"{}", 415),
        ("POST", f"/share/collections/{COL}/objects/", {"Content-Type": MEDIA}, b'{"objects": 3}', 422),
        ("POST", f"/share/collections/{COL}/objects/", {"Content-Type": MEDIA}, b"x" * 2_000_001, 413),
        ("GET", f"/share/collections/{uuid.uuid4()}/objects/", {"Accept": MEDIA}, None, 404),
        ("GET", f"/share/collections/{COL}/objects/?added_after=yesterday", {"Accept": MEDIA}, None, 400),
    ],
)
def test_errors_are_taxii_messages_with_the_right_code(server, method, path, headers, content, status):
    base, _ = server
    auth = None if status == 401 else ("alpha", "alpha-pw")
    r = httpx.request(method, base + path, headers=headers, content=content, auth=auth, timeout=30)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/taxii+json")
    body = r.json()
    assert body["http_status"] == str(status) and body["title"]
    if status == 401:
        assert r.headers["www-authenticate"].startswith("Basic")


def test_wrong_password_is_401_and_status_is_private(server):
    base, _ = server
    r = httpx.get(f"{base}/taxii2/", auth=("alpha", "nope"))
    assert r.status_code == 401
    col = _collection(base)
    status = col.add_objects({"objects": [_indicator(80000)]}, wait_for_completion=True)
    r = httpx.get(
        f"{base}/share/status/{status.id}/", auth=("reader", "reader-pw"), headers={"Accept": MEDIA}
    )
    assert r.status_code == 404
    r = httpx.get(f"{base}/share/status/{status.id}/", auth=("alpha", "alpha-pw"), headers={"Accept": MEDIA})
    assert r.json()["success_count"] == 1
    # taxii2-client polls the status resource itself.
    polled = col.add_objects({"objects": [_indicator(80001)]}, wait_for_completion=False)
    polled.refresh()
    assert polled.status == "complete" and polled.success_count == 1 and polled.total_count == 1


def test_config_errors_name_the_field(tmp_path):
    from distillguard.share.server import ConfigError

    bad = copy.deepcopy(CONFIG)
    bad["principals"][1]["write"] = ["nope"]
    with pytest.raises(ConfigError, match=r"principals\[1\]\.write: unknown collection nope"):
        ServerConfig.from_dict(bad)
    p = tmp_path / "server.json"
    p.write_text(json.dumps({"collections": []}))
    with pytest.raises(ConfigError, match="server.json: collections"):
        ServerConfig.load(p)
