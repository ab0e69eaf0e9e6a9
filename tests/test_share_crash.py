"""`share serve` killed mid-push: everything acknowledged survives, and no envelope is half-stored."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx

from distillguard.share.serve import free_port
from distillguard.share.server import MEDIA

COL = "2e4a6c8e-0a1b-4c3d-9e5f-7a8b9c0d1e2f"


def _start(tmp: Path, port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "distillguard.cli", "share", "serve", "-c", str(tmp / "server.json")]
    cmd += ["--db", f"sqlite:///{tmp}/taxii.db", "--port", str(port)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/taxii2/", auth=("p", "pw"), timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"share serve did not start: {proc.stderr.read().decode()[-2000:]}")


def _envelope(k: int, size: int = 200) -> list[dict]:
    return [
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{uuid.UUID(int=(k << 32) + i + (3 << 100), version=4)}",
            "created": "2026-03-01T00:00:00.000Z",
            "modified": "2026-03-01T00:00:00.000Z",
            "pattern": f"[x-distillguard-template:band_key = 'tb1:k1:head:{(k << 32) + i:016x}']",
            "pattern_type": "stix",
            "valid_from": "2026-03-01T00:00:00.000Z",
            "object_marking_refs": ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"],
        }
        for i in range(size)
    ]


def test_kill_during_push_loses_nothing_acknowledged(tmp_path):
    (tmp_path / "server.json").write_text(
        json.dumps(
            {
                "collections": [{"id": COL, "title": "c"}],
                "principals": [
                    {
                        "name": "p",
                        "password_sha256": hashlib.sha256(b"pw").hexdigest(),
                        "clearance": "amber",
                        "read": [COL],
                        "write": [COL],
                    }
                ],
            }
        )
    )
    port = free_port()
    proc = _start(tmp_path, port)
    url = f"http://127.0.0.1:{port}/share/collections/{COL}/objects/"
    acked: list[int] = []
    stop = threading.Event()

    def pusher() -> None:
        with httpx.Client(auth=("p", "pw"), timeout=10) as http:
            k = 0
            while not stop.is_set():
                try:
                    r = http.post(
                        url, content=json.dumps({"objects": _envelope(k)}), headers={"Content-Type": MEDIA}
                    )
                except httpx.HTTPError:
                    return
                if r.status_code == 202 and r.json()["success_count"] == 200:
                    acked.append(k)
                k += 1

    thread = threading.Thread(target=pusher)
    thread.start()
    deadline = time.monotonic() + 60
    while len(acked) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    stop.set()
    thread.join(timeout=30)
    assert len(acked) >= 5

    proc = _start(tmp_path, port)
    try:
        ids: list[str] = []
        with httpx.Client(auth=("p", "pw"), timeout=30, headers={"Accept": MEDIA}) as http:
            nxt = None
            while True:
                body = http.get(url, params={"limit": 1000, **({"next": nxt} if nxt else {})}).json()
                ids += [o["id"] for o in body.get("objects", [])]
                if not body.get("more"):
                    break
                nxt = body["next"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode is not None
    stored = set(ids)
    for k in acked:
        assert {o["id"] for o in _envelope(k)} <= stored, f"acknowledged envelope {k} lost"
    # Transactional: every envelope is wholly stored or wholly absent.
    per = {}
    for i in ids:
        per.setdefault(uuid.UUID(i.split("--")[1]).int >> 32 & 0xFFFFFFFF, 0)
        per[uuid.UUID(i.split("--")[1]).int >> 32 & 0xFFFFFFFF] += 1
    assert set(per.values()) == {200}
