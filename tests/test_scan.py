"""The scan command's contract: stable outputs, and clear results on bad or partial input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from distillguard.cli import app
from distillguard.simulate.engine import run_simulation

runner = CliRunner()
ACCOUNT_COLUMNS = ["account_id", "risk", "flagged", "cluster_id", "campaign_id", "reasons"]
CAMPAIGN_KEYS = {
    "campaign_id",
    "accounts",
    "n_accounts",
    "first_seen",
    "last_seen",
    "requests",
    "output_tokens",
    "models",
    "capabilities",
    "tactics",
    "confidence",
    "evidence",
}


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    run_simulation("mixed", out, days=2, scale=0.08, seed=11)
    return out


def _scan(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["scan", *args, "--quiet"])
    return result.exit_code, result.output


def _read_accounts(out: Path) -> list[dict[str, str]]:
    with open(out / "accounts.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_scan_writes_the_documented_outputs(sim: Path, tmp_path: Path) -> None:
    code, output = _scan(
        str(sim / "requests.parquet"), "--accounts", str(sim / "accounts.parquet"), "--out", str(tmp_path)
    )
    assert code == 0, output
    rows = _read_accounts(tmp_path)
    with open(tmp_path / "accounts.csv") as f:
        assert f.readline().strip().split(",") == ACCOUNT_COLUMNS
    labels = {json.loads(x)["account_id"] for x in (sim / "labels.jsonl").read_text().splitlines()}
    assert {r["account_id"] for r in rows} <= labels
    for r in rows:
        assert 0.0 <= float(r["risk"]) <= 1.0
        assert r["flagged"] in ("0", "1")
        if r["flagged"] == "1":
            assert r["reasons"], r
    campaigns = json.loads((tmp_path / "campaigns.json").read_text())["campaigns"]
    for c in campaigns:
        assert set(c) >= CAMPAIGN_KEYS
        assert c["n_accounts"] == len(c["accounts"])
        assert {
            "sample_requests",
            "shared_indicators",
            "template_examples",
            "hourly_requests",
            "reasons",
            "link_kinds",
        } <= set(c["evidence"])
        for ex in c["evidence"]["template_examples"]:
            assert ex["requests"] >= 1
            text = ex["system"] + ex["user"]
            # Examples are normalised: no raw digits survive, and nothing runs past the cap.
            assert not any(ch.isdigit() for ch in text), text
            assert len(ex["system"]) <= 240 and len(ex["user"]) <= 240
        for t in c["tactics"]:
            assert t["atlas"] and t["method"]
    flagged_in_campaigns = {a for c in campaigns for a in c["accounts"]}
    assert flagged_in_campaigns == {r["account_id"] for r in rows if r["flagged"] == "1"}


def test_scan_a_directory_finds_requests_and_accounts(sim: Path, tmp_path: Path) -> None:
    code, output = _scan(str(sim), "--out", str(tmp_path))
    assert code == 0, output
    assert (tmp_path / "accounts.csv").exists()


def test_scan_without_accounts_file_still_links_by_traffic(sim: Path, tmp_path: Path) -> None:
    code, output = _scan(str(sim / "requests.parquet"), "--out", str(tmp_path))
    assert code == 0, output
    assert len(_read_accounts(tmp_path)) > 10


def _request(i: int, account: str, **extra: object) -> dict:
    base = {
        "request_id": f"r{i}",
        "ts": f"2026-03-01T{i % 24:02d}:00:00.000Z",
        "account_id": account,
        "model": "frontier-2",
        "messages": [{"role": "user", "content": f"What is {i} plus {i}?"}],
    }
    base.update(extra)
    return base


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return path


def test_single_account_with_only_required_fields(tmp_path: Path) -> None:
    req = _write(tmp_path / "requests.jsonl", [_request(i, "acct-1") for i in range(30)])
    code, output = _scan(str(req), "--out", str(tmp_path / "out"))
    assert code == 0, output
    rows = _read_accounts(tmp_path / "out")
    assert [r["account_id"] for r in rows] == ["acct-1"]


def test_empty_window_gives_an_empty_result(tmp_path: Path) -> None:
    req = tmp_path / "requests.jsonl"
    req.write_text("not json\n")
    code, output = _scan(str(req), "--out", str(tmp_path / "out"))
    assert code == 0, output
    assert "no valid requests" in output
    assert _read_accounts(tmp_path / "out") == []
    assert json.loads((tmp_path / "out" / "campaigns.json").read_text()) == {"campaigns": []}


def test_unknown_accounts_and_bad_records_are_reported_not_fatal(tmp_path: Path) -> None:
    rows = [_request(i, f"acct-{i % 3}") for i in range(12)]
    req = tmp_path / "requests.jsonl"
    req.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows) + b'{"request_id": "bad"}\n')
    acc = _write(
        tmp_path / "accounts.jsonl", [{"account_id": "someone-else", "created_at": "2026-01-01T00:00:00Z"}]
    )
    code, output = _scan(str(req), "--accounts", str(acc), "--out", str(tmp_path / "out"))
    assert code == 0, output
    assert "requests.jsonl:13" in output
    assert {r["account_id"] for r in _read_accounts(tmp_path / "out")} == {"acct-0", "acct-1", "acct-2"}


def test_bad_arguments_are_clear(tmp_path: Path) -> None:
    code, output = _scan(str(tmp_path / "missing.jsonl"), "--out", str(tmp_path))
    assert code == 2 and "no such file" in output
    code, output = _scan(str(tmp_path), "--out", str(tmp_path), "--fpr", "2")
    assert code == 2 and "--fpr" in output
    code, output = _scan(str(tmp_path), "--out", str(tmp_path / "o"))
    assert code == 2 and "no request logs" in output
