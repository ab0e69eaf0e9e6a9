"""Private set intersection with openmined-psi, directly and over HTTP through `share serve`."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from distillguard.cli import app
from distillguard.io.schema import ACCOUNTS
from distillguard.share.psi import PsiError, PsiService, canonical, extract, intersect, match
from distillguard.share.serve import running
from distillguard.share.server import ServerConfig
from distillguard.share.store import Store

COL = "5d0f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"


@settings(max_examples=15, deadline=None)
@given(
    st.sets(st.text(min_size=1, max_size=12), max_size=40),
    st.sets(st.text(min_size=1, max_size=12), min_size=1, max_size=40),
)
def test_intersection_is_exact(server_items, client_items):
    svc = PsiService({"s": sorted(server_items)})
    got = intersect(client_items, lambda req: svc.answer("s", req))
    assert set(got) == server_items & client_items


def test_service_refuses_oversized_and_garbage_requests():
    svc = PsiService({"s": ["a"]}, max_items=3)
    with pytest.raises(PsiError, match="1 to 3 items, this one 4"):
        intersect(["a", "b", "c", "d"], lambda req: svc.answer("s", req))
    with pytest.raises(PsiError, match="not a PSI request"):
        svc.answer("s", b"\xff\x00garbage")
    with pytest.raises(PsiError, match="no PSI set"):
        svc.answer("nope", b"")


def _accounts(path, rows):
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    table = pa.table(
        {
            "account_id": [r[0] for r in rows],
            "created_at": [t0] * len(rows),
            "tier": ["free"] * len(rows),
            "country": ["US"] * len(rows),
            "email_domain": [r[1] for r in rows],
            "payment_fingerprint": [r[2] for r in rows],
            "verified": [False] * len(rows),
            "extra": [None] * len(rows),
        },
        schema=ACCOUNTS,
    )
    pq.write_table(table, path)


def test_match_over_http_and_cli(tmp_path, monkeypatch):
    # Provider A answers over its payment set; B asks with its own accounts.
    a_accounts = tmp_path / "a.accounts.parquet"
    _accounts(a_accounts, [("acct_a1", "mailbox.example", "pf_111"), ("acct_a2", "corp.example", "pf_222")])
    b_accounts = tmp_path / "b.accounts.parquet"
    _accounts(
        b_accounts,
        [
            ("acct_b1", "MAILBOX.example", "pf_222"),
            ("acct_b2", "other.example", "pf_333"),
            ("acct_b3", "x.example", "pf_222"),
        ],
    )
    runner = CliRunner()
    r = runner.invoke(
        app,
        [
            "share",
            "items",
            "--kind",
            "payment",
            "--accounts",
            str(a_accounts),
            "-o",
            str(tmp_path / "payment.txt"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert extract("email_domain", accounts=b_accounts)[canonical("email_domain", "mailbox.example")] == {
        "acct_b1"
    }
    (tmp_path / "domains.txt").write_text(
        "".join(f"{v}\n" for v in extract("email_domain", accounts=a_accounts))
    )
    sha = hashlib.sha256(b"pb").hexdigest()
    config = tmp_path / "server.json"
    config.write_text(
        json.dumps(
            {
                "collections": [{"id": COL, "title": "c"}],
                "psi_sets": {"payment": "payment.txt", "email_domain": "domains.txt"},
                "principals": [
                    {
                        "name": "b",
                        "password_sha256": sha,
                        "clearance": "amber",
                        "read": [COL],
                        "psi": ["payment"],
                    }
                ],
            }
        )
    )
    store = Store(f"sqlite:///{tmp_path}/a.db")
    with running(store, ServerConfig.load(config)) as base:
        ours = extract("payment", accounts=b_accounts)
        assert match(f"{base}/share/", "b", "pb", "payment", ours) == [canonical("payment", "pf_222")]
        with pytest.raises(PsiError, match="HTTP 403"):
            match(f"{base}/share/", "b", "pb", "email_domain", extract("email_domain", accounts=b_accounts))
        with pytest.raises(PsiError, match="HTTP 401"):
            match(f"{base}/share/", "b", "wrong", "payment", ours)
        partners = tmp_path / "partners.json"
        partners.write_text(
            json.dumps(
                {
                    "partners": [
                        {
                            "name": "provider-a",
                            "api_root": f"{base}/share/",
                            "collection": COL,
                            "user": "b",
                            "password_env": "DG_PSI_B",
                        }
                    ]
                }
            )
        )
        monkeypatch.setenv("DG_PSI_B", "pb")
        out = tmp_path / "match.json"
        r = runner.invoke(
            app,
            [
                "share",
                "match",
                "--partner",
                "provider-a",
                "--partners",
                str(partners),
                "--kind",
                "payment",
                "--accounts",
                str(b_accounts),
                "-o",
                str(out),
            ],
        )
        assert r.exit_code == 0, r.output
        got = json.loads(out.read_text())
        assert got["matched"] == [{"value": "payment:pf_222", "accounts": ["acct_b1", "acct_b3"]}]
    store.close()
