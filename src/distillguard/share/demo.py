"""Two-provider demonstration: one simulated world split between providers A and B.

Every campaign of a simulated world runs on both providers. A holds most of each campaign's accounts
and B holds the rest (``b_share``), and benign accounts are split evenly, so the providers share a
campaign's templates and infrastructure, but each sees only part of it. Each provider scans its own
traffic. A exports its campaigns and pushes them to its TAXII server, and B pulls them and retro-hunts
its own traffic. B's campaign recall (the share of its attack accounts that a campaign or a hunt match
finds) is measured before and after, per true campaign, together with the benign accounts the hunt
matched.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from distillguard.share.export import build_bundle
from distillguard.share.keys import Keyring
from distillguard.share.retrohunt import collect, evidence, hunt, read_requests
from distillguard.share.serve import running
from distillguard.share.server import ServerConfig
from distillguard.share.store import Store
from distillguard.share.sync import Partner, State, pull, push, read_inbox

COLLECTION = "7c1f0d7e-2b1a-4f3e-9c5d-6e8f0a1b2c3d"


@dataclass
class DemoResult:
    """B's recall per true campaign before and after the retro-hunt, and the hunt's false matches."""

    rows: list[dict[str, Any]]
    before: float
    after: float
    benign_matched: int
    benign_total: int
    indicators: int


def _side(account: str, campaign: str | None, b_share: float) -> str:
    h = int.from_bytes(hashlib.blake2b(f"{campaign}/{account}".encode(), digest_size=8).digest(), "little")
    share = b_share if campaign else 0.5
    return "b" if h / 2**64 < share else "a"


def split_world(world: Path, out: Path, b_share: float) -> dict[str, dict[str, Any]]:
    """Write ``out/a`` and ``out/b`` traffic from one simulated world; returns each side's labels."""
    labels = [json.loads(line) for line in (world / "labels.jsonl").read_text().splitlines() if line.strip()]
    side = {r["account_id"]: _side(r["account_id"], r.get("campaign_id"), b_share) for r in labels}
    sides: dict[str, dict[str, Any]] = {"a": {}, "b": {}}
    for s in ("a", "b"):
        d = out / s
        d.mkdir(parents=True, exist_ok=True)
        keep = pa.array([a for a, v in side.items() if v == s])
        for name in ("requests", "accounts"):
            table = pq.read_table(world / f"{name}.parquet")
            pq.write_table(table.filter(pc.is_in(table.column("account_id"), keep)), d / f"{name}.parquet")
        sides[s] = {r["account_id"]: r for r in labels if side[r["account_id"]] == s}
    return sides


def scan(side_dir: Path, fpr: float) -> list[dict[str, Any]]:
    """Run the detection scan on one provider's traffic; returns its campaigns."""
    from distillguard.scan import ScanConfig, detect, read_accounts, stage, write_outputs

    with tempfile.TemporaryDirectory(prefix="distillguard-demo-") as work:
        stage([side_dir / "requests.parquet"], work)
        acc, _ = read_accounts(side_dir / "accounts.parquet")
        det = detect(work, acc, ScanConfig(fpr=fpr))
    write_outputs(det, side_dir / "scan")
    return det.campaigns


def run_demo(
    world: Path, out: Path, b_share: float = 0.3, fpr: float = 0.001, say: Callable[[str], None] = print
) -> DemoResult:
    """Split, scan both sides, share A's campaigns with B over TAXII, hunt, and measure B's recall."""
    sides = split_world(world, out, b_share)
    say("scanning provider A")
    a_campaigns = scan(out / "a", fpr)
    say("scanning provider B")
    b_campaigns = scan(out / "b", fpr)
    ring = Keyring.new("demo")
    bundle = build_bundle(a_campaigns, ring, "Provider A")
    (out / "a" / "bundle.json").write_text(json.dumps(bundle))
    pw = "demo-" + hashlib.sha256(str(out).encode()).hexdigest()[:16]
    config = ServerConfig.from_dict(
        {
            "collections": [{"id": COLLECTION, "title": "provider A distillation indicators"}],
            "principals": [
                {
                    "name": name,
                    "password_sha256": hashlib.sha256(pw.encode()).hexdigest(),
                    "clearance": "amber+strict",
                    "read": [COLLECTION],
                    "write": [COLLECTION],
                }
                for name in ("provider-a", "provider-b")
            ],
        }
    )
    store = Store(f"sqlite:///{out / 'a' / 'taxii.db'}")
    with running(store, config) as base:
        partner = lambda user: Partner("provider-a", f"{base}/share/", COLLECTION, user, pw)  # noqa: E731
        say(f"A pushes {len(bundle['objects'])} objects; B pulls")
        push(partner("provider-a"), State(out / "a" / "state.json"), out / "a" / "bundle.json")
        pull(partner("provider-b"), State(out / "b" / "state.json"), out / "b" / "inbox")
    store.close()
    indicators = collect(read_inbox(out / "b" / "inbox"))
    say(f"B hunts {len(indicators)} indicators in its traffic")
    matches = hunt(read_requests(out / "b" / "requests.parquet"), indicators, ring)
    found = evidence(matches, indicators, b_campaigns)
    (out / "b" / "evidence.json").write_text(json.dumps({"matches": found}, indent=1))
    return measure(sides["b"], b_campaigns, {a for f in found for a in f["accounts"]}, len(indicators))


def measure(
    labels: dict[str, dict[str, Any]], campaigns: list[dict[str, Any]], hunted: set[str], n_indicators: int
) -> DemoResult:
    """Recall of B's attack accounts per true campaign: by B's own campaigns, then with hunt matches."""
    found = {a for c in campaigns for a in c.get("accounts", [])}
    per: dict[str, list[str]] = defaultdict(list)
    for a, r in labels.items():
        if r["label"] == "attack":
            per[r["campaign_id"]].append(a)
    rows = []
    for cid, accts in sorted(per.items()):
        before = sum(a in found for a in accts)
        after = sum(a in found or a in hunted for a in accts)
        rows.append({"campaign": cid, "accounts": len(accts), "before": before, "after": after})
    total = sum(r["accounts"] for r in rows) or 1
    benign = [a for a, r in labels.items() if r["label"] != "attack"]
    return DemoResult(
        rows,
        sum(r["before"] for r in rows) / total,
        sum(r["after"] for r in rows) / total,
        sum(a in hunted for a in benign),
        len(benign),
        n_indicators,
    )
