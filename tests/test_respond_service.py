"""The decision service over real HTTP: same kernels as the batch scanner, 400s that name the field,
fail-open deadline, metrics and health, persisted enforcement (SQLite and PostgreSQL), approvals,
Envoy ext_authz, and Redis state going away under load."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest
import sqlalchemy
import yaml

from distillguard.io.records import records_to_batch
from distillguard.kernels.intent import intent_scores
from distillguard.kernels.templates import template_keys
from distillguard.respond.decision import DecideRequest, DecisionEngine
from distillguard.respond.enforcement import EnforcementStore
from distillguard.respond.policy import parse_policy
from distillguard.respond.service import ServiceConfig, build_engine, create_app
from distillguard.respond.state import MemoryState, WindowCounts
from respond_support import Server, free_port

PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"

POLICY = {
    "name": "svc",
    "version": "3",
    "rules": [
        {
            "id": "campaign",
            "when": {"in_campaign": True},
            "then": [{"action": "block_account", "expiry": "1d"}],
        },
        {
            "id": "cluster",
            "when": {"in_cluster": True},
            "then": [{"action": "block_cluster", "expiry": "7d", "approval": True}, "flag_review"],
        },
        {
            "id": "coerce",
            "when": {"intent": ["reasoning_coercion", "cot_elicitation"]},
            "then": ["withhold_reasoning"],
        },
    ],
}


def _scan_dir(tmp: Path, rows: list[str]) -> Path:
    d = tmp / f"scan-{uuid.uuid4().hex[:6]}"
    d.mkdir()
    (d / "accounts.csv").write_text(
        "account_id,risk,flagged,cluster_id,campaign_id,reasons\n" + "\n".join(rows) + "\n"
    )
    return d


def _config(tmp: Path, db: str | None = None, **kw: object) -> ServiceConfig:
    scan = _scan_dir(tmp, ["acct_camp,0.9999,1,k7,cmp_1,linked_cluster", "acct_member,0.5,0,k7,,"])
    return ServiceConfig(
        parse_policy(POLICY),
        db_url=db or f"sqlite:///{tmp / 'enf.db'}",
        timeout_s=0.5,
        scan_dirs=[scan],
        **kw,
    )  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def sample_messages(small_mixed: Path) -> list[list[dict[str, str]]]:
    table = pq.read_table(small_mixed / "requests.parquet", columns=["messages"])
    # A spread of real simulated requests: every 97th, which mixes personas and attack tactics.
    return [m for i, m in enumerate(table.column("messages").to_pylist()) if i % 97 == 0][:60]


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[Server, ServiceConfig]]:
    cfg = _config(tmp_path)
    with Server(create_app(cfg)) as server:
        yield server, cfg


def test_online_signals_equal_the_batch_kernels(
    service: tuple[Server, ServiceConfig], sample_messages: list[list[dict[str, str]]]
) -> None:
    server, _ = service
    rows = [
        {
            "request_id": f"r{i}",
            "ts": "2026-03-01T00:00:00Z",
            "account_id": f"a{i}",
            "model": "m",
            "messages": m,
        }
        for i, m in enumerate(sample_messages)
    ]
    batch = records_to_batch(rows, "requests")
    scores = intent_scores(batch).to_pylist()
    keys: dict[str, dict[str, list[int]]] = {}
    for k in template_keys(batch).to_pylist():
        keys.setdefault(k["request_id"], {}).setdefault(k["part"], []).append(k["key"])
    intents = set()
    with httpx.Client(base_url=server.url) as c:
        for row, score in zip(rows, scores, strict=True):
            body = c.post(
                "/v1/decide?explain=1", json={"account_id": row["account_id"], "messages": row["messages"]}
            ).json()
            sig = body["signals"]
            assert sig["intent"] == score["intent"]
            assert sig["p_extract"] == score["p_extract"]
            online = {part: ks for part, ks in sig["template_keys"].items() if ks}
            assert online == keys.get(row["request_id"], {})
            intents.add(sig["intent"])
    assert len(intents) >= 2  # the sample exercised more than one class


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", ""),
        (b"[1, 2]", ""),
        (b'{"messages": [{"role": "user", "content": "hi"}]}', "account_id"),
        (b'{"account_id": "a"}', "messages"),
        (b'{"account_id": "a", "messages": []}', "messages"),
        (b'{"account_id": "a", "messages": [{"role": "robot", "content": "hi"}]}', "messages[0].role"),
        (b'{"account_id": "a", "messages": [{"role": "user", "content": 5}]}', "messages[0].content"),
        (b'{"account_id": "a", "messages": [{"role": "user", "content": "x"}], "ip": 7}', "ip"),
        (b'{"account_id": "a", "messages": [{"role": "user", "content": "x"}], "ts": "noon"}', "ts"),
    ],
)
def test_malformed_requests_get_400_naming_the_field(
    service: tuple[Server, ServiceConfig], body: bytes, field: str
) -> None:
    server, _ = service
    r = httpx.post(f"{server.url}/v1/decide", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["field"] == field and err["reason"]
    assert "distillguard_bad_requests_total 1.0" in httpx.get(f"{server.url}/metrics").text


def test_decisions_enforce_persist_across_restart_and_wait_for_approval(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    msg = [{"role": "user", "content": "What is the capital of France?"}]
    with Server(create_app(cfg)) as server, httpx.Client(base_url=server.url) as c:
        d = c.post("/v1/decide", json={"account_id": "acct_camp", "messages": msg}).json()
        assert d["decision"] == "deny" and d["status"] == 403 and "block_account:campaign" in d["reasons"]
        assert d["headers"]["X-DistillGuard-Action"] == "block_account"
        # The cluster block needs approval: ordered as pending, not enforced on the other member.
        member = c.post("/v1/decide", json={"account_id": "acct_member", "messages": msg}).json()
        assert member["decision"] == "allow"
        pending = [a for a in member["actions"] if a["action"] == "block_cluster"]
        assert pending and pending[0]["status"] == "pending" and pending[0]["subject"] == "k7"
        clean = c.post("/v1/decide", json={"account_id": "acct_clean", "messages": msg}).json()
        assert clean == {**clean, "decision": "allow", "status": 200, "actions": []}
        audit = c.get("/v1/enforcements").json()["enforcements"]
        rec = next(e for e in audit if e["action"] == "block_account")
        assert (
            rec["policy"] == "svc@3"
            and rec["reason"] == "campaign"
            and rec["evidence"] == {"in_campaign": True}
        )
        assert rec["expires_at"] > rec["created_at"]
    # Restart with no watchlist at all: the block is remembered from the database.
    cfg2 = ServiceConfig(parse_policy(POLICY), db_url=cfg.db_url, timeout_s=0.5)
    with Server(create_app(cfg2)) as server, httpx.Client(base_url=server.url) as c:
        d = c.post("/v1/decide", json={"account_id": "acct_camp", "messages": msg}).json()
        assert d["decision"] == "deny"
        r = c.post(f"/v1/enforcements/{pending[0]['id']}/approve", json={"by": "analyst@example"})
        assert (
            r.status_code == 200
            and r.json()["status"] == "active"
            and r.json()["decided_by"] == "analyst@example"
        )
        # acct_member is not in cfg2's watchlist, so the cluster is unknown here; approval is on the record.
        assert c.post("/v1/enforcements/nope/approve").status_code == 404
    with (
        Server(create_app(_config(tmp_path, db=cfg.db_url))) as server,
        httpx.Client(base_url=server.url) as c,
    ):
        member = c.post("/v1/decide", json={"account_id": "acct_member", "messages": msg}).json()
        assert member["decision"] == "deny" and member["headers"]["X-DistillGuard-Action"] == "block_cluster"
        rec_id = next(
            e["id"]
            for e in c.get("/v1/enforcements").json()["enforcements"]
            if e["action"] == "block_account"
        )
        assert c.post(f"/v1/enforcements/{rec_id}/revoke").json()["status"] == "revoked"
        # Revoked: the campaign rule would order it again at once, as a new record (an audit trail, not a loop).
        again = c.post("/v1/decide", json={"account_id": "acct_camp", "messages": msg}).json()
        assert again["decision"] == "deny" and [
            a["id"] for a in again["actions"] if a["action"] == "block_account"
        ] != [rec_id]


def _pg_up() -> bool:
    try:
        with sqlalchemy.create_engine(PG_URL, connect_args={"connect_timeout": 2}).connect() as con:
            con.execute(sqlalchemy.text("SELECT 1"))
        return True
    except Exception:
        return False


@pytest.mark.skipif(
    not _pg_up(), reason="no PostgreSQL server on 127.0.0.1:5432 (database test, user postgres)"
)
def test_enforcement_state_in_postgresql_survives_restart(tmp_path: Path) -> None:
    account = f"acct_pg_{uuid.uuid4().hex[:8]}"
    cfg = _config(tmp_path, db=PG_URL)
    cfg.scan_dirs = [_scan_dir(tmp_path, [f"{account},0.9999,1,kpg,cmp_pg,linked_cluster"])]
    msg = [{"role": "user", "content": "hello"}]
    try:
        engine = build_engine(cfg)
        assert engine.decide(DecideRequest(account, msg)).decision == "deny"
        engine.store.close()
        fresh = EnforcementStore(PG_URL)
        live = fresh.for_subjects([("account", account)], time.time())
        assert sorted(e.action for e in live) == ["block_account", "flag_review"]
        assert {e.policy for e in live} == {"svc@3"}
        fresh.close()
    finally:
        with sqlalchemy.create_engine(PG_URL).begin() as con:
            con.execute(sqlalchemy.text("DELETE FROM dg_enforcements WHERE account_id = :a"), {"a": account})


class SlowState(MemoryState):
    """In-process state behind a slow network: every call takes 300 ms."""

    async def arecord_many(self, hits: Sequence[tuple[str, float, bool]]) -> list[WindowCounts]:
        await asyncio.sleep(0.3)
        return self.record_many(hits)


def test_slow_decisions_fail_open_after_the_deadline(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    cfg.timeout_s = 0.05
    engine = build_engine(cfg)
    engine.state = SlowState()
    with Server(create_app(cfg, engine)) as server:
        t = time.perf_counter()
        r = httpx.post(
            f"{server.url}/v1/decide",
            json={"account_id": "acct_camp", "messages": [{"role": "user", "content": "x"}]},
        )
        elapsed = time.perf_counter() - t
        body = r.json()
        assert r.status_code == 200 and body["decision"] == "allow" and body["fail_open"] is True
        assert body["reasons"] == ["fail_open:timeout"] and elapsed < 0.25
        metrics = httpx.get(f"{server.url}/metrics").text
        assert 'distillguard_fail_open_total{cause="timeout"} 1.0' in metrics


def test_health_readiness_and_metrics(service: tuple[Server, ServiceConfig]) -> None:
    server, _ = service
    with httpx.Client(base_url=server.url) as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        ready = c.get("/readyz").json()
        assert ready["status"] == "ok" and ready["database"] == "ok" and ready["state"] == "memory"
        for _ in range(3):
            c.post(
                "/v1/decide", json={"account_id": "acct_x", "messages": [{"role": "user", "content": "hi"}]}
            )
        text = c.get("/metrics").text
    assert 'distillguard_decisions_total{decision="allow"} 3.0' in text
    assert (
        "distillguard_decision_seconds_bucket" in text
        and 'distillguard_state_backend{backend="memory"} 1.0' in text
    )


def test_envoy_ext_authz_contract(service: tuple[Server, ServiceConfig]) -> None:
    server, _ = service
    body = {"model": "m", "messages": [{"role": "user", "content": "Tell me a joke"}]}
    with httpx.Client(base_url=server.url) as c:
        ok = c.post(
            "/v1/ext_authz/v1/chat/completions", json=body, headers={"x-distillguard-account": "acct_fine"}
        )
        assert ok.status_code == 200 and ok.headers["x-distillguard-decision"] == "allow"
        denied = c.post(
            "/v1/ext_authz/v1/chat/completions", json=body, headers={"x-distillguard-account": "acct_camp"}
        )
        assert denied.status_code == 403 and denied.headers["x-distillguard-action"] == "block_account"
        # A bearer key alone identifies the caller (hashed); no body is fine for GETs.
        anon = c.get("/v1/ext_authz/v1/models", headers={"authorization": "Bearer sk-test"})
        assert anon.status_code == 200
        assert c.get("/v1/ext_authz/v1/models").status_code == 403


def test_redis_state_loss_under_http_load_fails_over_and_keeps_answering(tmp_path: Path) -> None:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.3)
        cfg = _config(tmp_path, state_url=f"redis://127.0.0.1:{port}/0")
        with Server(create_app(cfg)) as server, httpx.Client(base_url=server.url) as c:
            assert c.get("/readyz").json()["redis"] == "ok"
            msg = {"account_id": "acct_load", "messages": [{"role": "user", "content": "hi"}]}

            def one(_: int) -> dict:
                r = httpx.post(f"{server.url}/v1/decide", json=msg)
                assert r.status_code == 200
                return r.json()

            with ThreadPoolExecutor(4) as pool:
                before = list(pool.map(one, range(40)))
                proc.kill()
                proc.wait()
                after = list(pool.map(one, range(40)))
            assert all(not d["fail_open"] for d in before + after)
            assert max(d["window"]["requests"] for d in before) == 40
            # In-process state took over and counts from there.
            assert sorted(d["window"]["requests"] for d in after)[-1] == 40
            ready = c.get("/readyz").json()
            assert ready["state"] == "memory" and ready["redis"].startswith("error")
            metrics = c.get("/metrics").text
            assert "distillguard_state_failovers_total 1.0" in metrics
            assert 'distillguard_state_backend{backend="memory"} 1.0' in metrics
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_engine_is_shared_with_direct_callers(tmp_path: Path) -> None:
    engine: DecisionEngine = build_engine(_config(tmp_path))
    d = engine.decide(DecideRequest("acct_camp", [{"role": "user", "content": "hi"}]), now=1_800_000_000.0)
    assert d.decision == "deny" and d.new_enforcements[0].created_at == 1_800_000_000.0
    engine.store.close()


def test_records_ordered_by_another_instance_take_effect_after_refresh(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'shared.db'}"
    ordering = build_engine(_config(tmp_path, db=db))
    other = build_engine(ServiceConfig(parse_policy(POLICY), db_url=db, refresh_s=0.2))
    try:
        msg = [{"role": "user", "content": "hi"}]
        assert other.decide(DecideRequest("acct_camp", msg)).decision == "allow"  # unknown to this instance
        assert ordering.decide(DecideRequest("acct_camp", msg)).decision == "deny"
        deadline = time.monotonic() + 5
        while other.decide(DecideRequest("acct_camp", msg)).decision != "deny":
            assert time.monotonic() < deadline, "the other instance never saw the block"
            time.sleep(0.1)
    finally:
        ordering.store.close()
        other.store.close()


def test_serve_cli_with_two_workers_shares_redis_state_and_stops_cleanly(tmp_path: Path) -> None:
    if not _redis_up():
        pytest.skip("no Redis server on 127.0.0.1:6379")
    import signal
    import sys

    policy = tmp_path / "p.yaml"
    policy.write_text(yaml.safe_dump(POLICY))
    scan = _scan_dir(tmp_path, ["acct_camp,0.9999,1,k7,cmp_1,linked_cluster"])
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "distillguard.cli",
        "serve",
        "--policy",
        str(policy),
        "--scan",
        str(scan),
        "--state",
        "redis://127.0.0.1:6379/0",
        "--db",
        f"sqlite:///{tmp_path / 'enf.db'}",
        "--port",
        str(port),
        "--workers",
        "2",
        "--timeout-ms",
        "5000",  # this test is about shared state, not the deadline, on a busy machine
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).json()["redis"] == "ok":
                    break
            except (httpx.HTTPError, KeyError, ValueError):
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.5)
        account = f"acct_{uuid.uuid4().hex[:8]}"
        windows = []
        with httpx.Client(base_url=url) as c:  # new connections spread over both workers
            for _ in range(20):
                d = c.post(
                    "/v1/decide",
                    json={"account_id": account, "messages": [{"role": "user", "content": "hi"}]},
                    headers={"connection": "close"},
                ).json()
                windows.append(d["window"]["requests"])
            assert (
                c.post(
                    "/v1/decide",
                    json={"account_id": "acct_camp", "messages": [{"role": "user", "content": "x"}]},
                ).json()["decision"]
                == "deny"
            )
        # One window in Redis, whichever worker answered: the counts run 1..20 without a gap.
        assert windows == list(range(1, 21))
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=60)[0].decode(errors="replace")
    assert proc.returncode == 0, output
    assert "Traceback" not in output


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def _fresh_engine(tmp: Path) -> DecisionEngine:
    tmp.mkdir(parents=True, exist_ok=True)
    cfg = _config(tmp)
    cfg.db_url = "sqlite://"
    return build_engine(cfg)


def test_a_batch_decides_each_request_as_it_would_be_decided_alone(
    tmp_path: Path, sample_messages: list[list[dict[str, str]]]
) -> None:
    # Repeated accounts inside one batch, a blocked campaign account and a cluster member among them.
    accounts = ["acct_camp", "acct_member", "a1", "a2", "a1", "a1", "a3", "a2"]
    reqs = [
        DecideRequest(accounts[i % len(accounts)], m, request_id=f"r{i}", ts=1_700_000_000.0 + i)
        for i, m in enumerate(sample_messages[:40])
    ]
    alone = _fresh_engine(tmp_path / "one")
    together = _fresh_engine(tmp_path / "many")
    try:
        one = [alone.decide(r) for r in reqs]
        many = together.decide_many(reqs[:7]) + together.decide_many(reqs[7:])
        for a, b in zip(one, many, strict=True):
            assert (a.decision, a.status, a.reasons, a.reasoning, a.headers) == (
                b.decision,
                b.status,
                b.reasons,
                b.reasoning,
                b.headers,
            )
            assert a.window == b.window and a.signals == b.signals
            assert [e.action for e in a.new_enforcements] == [e.action for e in b.new_enforcements]
        assert {d.decision for d in many} >= {"deny", "allow"}
    finally:
        alone.close()
        together.close()


def test_a_failing_request_fails_open_alone_not_its_batch(
    tmp_path: Path, sample_messages: list[list[dict[str, str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _fresh_engine(tmp_path)
    real = engine.kernels.many

    def brittle(requests: Sequence[Sequence[dict[str, str]]]) -> list[object]:
        if any("POISON" in str(m) for m in requests):
            raise RuntimeError("kernel failure")
        return real(requests)

    monkeypatch.setattr(engine.kernels, "many", brittle)
    poison = [{"role": "user", "content": "POISON"}]
    reqs = [DecideRequest("acct_camp", sample_messages[0]), DecideRequest("a9", poison)]
    reqs += [DecideRequest("a8", m) for m in sample_messages[1:4]]
    try:
        out = engine.decide_many(reqs)
        assert out[0].decision == "deny" and not out[0].fail_open
        assert out[1].fail_open and out[1].reasons == ["fail_open:error"]
        assert [d.window.requests for d in out[2:]] == [1, 2, 3]  # type: ignore[union-attr]
        assert 'distillguard_fail_open_total{cause="error"} 1.0' in engine.metrics.render().decode()
    finally:
        engine.close()


def test_concurrent_requests_share_batches_and_get_their_own_answers(
    tmp_path: Path, sample_messages: list[list[dict[str, str]]]
) -> None:
    app = create_app(_config(tmp_path))
    with Server(app) as server:

        async def burst() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as c:
                return await asyncio.gather(
                    *(
                        c.post("/v1/decide?explain=1", json={"account_id": f"b{i}", "messages": m})
                        for i, m in enumerate(sample_messages)
                    )
                )

        answers = asyncio.run(burst())
    assert all(r.status_code == 200 for r in answers)
    assert app.batcher.decided == len(sample_messages)
    assert app.batcher.batches < len(sample_messages)  # requests that waited together were batched
    # Each answer carries its own request's signals, whichever batch decided it.
    one = _fresh_engine(tmp_path / "ref")
    try:
        for r, m in zip(answers, sample_messages, strict=True):
            sig = one.kernels(m)
            body = r.json()["signals"]
            assert body["intent"] == sig.intent and body["p_extract"] == sig.p_extract
            assert body["template_keys"] == sig.keys
    finally:
        one.close()


def test_oversized_bodies_get_413(tmp_path: Path) -> None:
    cfg = _config(tmp_path, max_body_bytes=2000)
    with Server(create_app(cfg)) as server:
        big = {"account_id": "a", "messages": [{"role": "user", "content": "x" * 5000}]}
        r = httpx.post(f"{server.url}/v1/decide", json=big)
        assert r.status_code == 413 and "2000 bytes" in r.json()["error"]["reason"]
        ok = httpx.post(
            f"{server.url}/v1/decide", json={**big, "messages": [{"role": "user", "content": "x"}]}
        )
        assert ok.status_code == 200


def test_orders_the_database_refuses_are_not_enforced_from_memory(tmp_path: Path) -> None:
    engine = _fresh_engine(tmp_path)
    # The database goes away: writing the block that acct_camp's request orders fails.
    engine.store.engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'missing' / 'enf.db'}")
    msg = [{"role": "user", "content": "hello"}]
    try:
        blocked, ordinary = engine.decide_many([DecideRequest("acct_camp", msg), DecideRequest("a1", msg)])
        assert blocked.fail_open and blocked.reasons == ["fail_open:error"]
        assert ordinary.decision == "allow" and not ordinary.fail_open
        # Nothing unwritten stays in force: a restart could not have known of it either.
        assert engine.store.for_subjects([("account", "acct_camp")], time.time()) == []
    finally:
        engine.close()
