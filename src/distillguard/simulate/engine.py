"""Run a scenario: draw every arrival, sort them in time, render and write requests in bounded memory.

Output directory layout (traffic-log-v1):

- ``requests.<fmt>``: every request in time order (``fmt`` is parquet, jsonl or jsonl.gz);
- ``accounts.<fmt>``: every account, in an order that reveals nothing (sorted by opaque id);
- ``labels.jsonl``: ground truth ``{account_id, label, campaign_id, persona, tactics}``;
- ``scenario.json``: the run's parameters and per-campaign ground truth (never read by detectors).

Arrival times for the whole run are only a few bytes per request, so they are drawn up front; the
costly part (prompts, responses) is rendered ``batch_size`` requests at a time and written
straight out, which keeps peak memory flat however long the run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from distillguard.io.schema import ACCOUNTS, LABELS_SCHEMA, REQUESTS
from distillguard.io.writers import FORMATS, TrafficWriter
from distillguard.simulate.corpora import load_corpora
from distillguard.simulate.population import Context
from distillguard.simulate.scenarios import get_scenario
from distillguard.simulate.tactics import Campaign
from distillguard.simulate.world import DAY, World

DEFAULT_START = "2026-03-01"


@dataclass
class SimulationResult:
    """What a run wrote, with counts per persona and per campaign."""

    out_dir: Path
    files: list[Path]
    requests: int
    accounts: int
    seconds: float
    personas: dict[str, dict[str, int]] = field(default_factory=dict)
    campaigns: dict[str, dict[str, Any]] = field(default_factory=dict)


def parse_start(text: str) -> float:
    """Parse a start date (YYYY-MM-DD, UTC midnight) or RFC 3339 time into epoch seconds."""
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--start: not a date or RFC 3339 time: {text!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()


def run_simulation(
    scenario: str,
    out_dir: str | Path,
    *,
    days: int = 3,
    scale: float = 1.0,
    seed: int = 0,
    fmt: str = "parquet",
    start: str = DEFAULT_START,
    batch_size: int = 20_000,
    on_progress: Callable[[int, int], None] | None = None,
) -> SimulationResult:
    """Simulate a scenario and write requests, accounts, labels and a manifest into ``out_dir``."""
    if days < 1:
        raise ValueError("--days must be at least 1")
    if not scale > 0:
        raise ValueError("--scale must be greater than 0")
    if fmt not in FORMATS:
        raise ValueError(f"--format must be one of {', '.join(FORMATS)}")
    recipe = get_scenario(scenario)
    began = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    world = World(start=parse_start(start), days=days, seed=seed)
    ctx = Context(world=world, corpora=load_corpora(), seed=seed)
    sources = recipe.build(ctx, scale)

    accounts = [a for s in sources for a in s.accounts]
    offsets = np.cumsum([0] + [len(s.accounts) for s in sources])
    files = [_write_accounts(out, fmt, accounts)]

    ts, src, idx = _arrivals(sources, world)
    total = len(ts)
    ts_us = (np.round(ts * 1000.0).astype(np.int64)) * 1000
    files.append(out / f"requests.{fmt}")
    secret = hashlib.blake2b(f"requests:{seed}".encode(), digest_size=16).digest()
    with TrafficWriter(files[-1], "requests") as writer:
        for lo in range(0, total, batch_size):
            hi = min(total, lo + batch_size)
            rows = []
            for k in range(lo, hi):
                source = sources[src[k]]
                row = source.render(float(ts[k]), int(idx[k]))
                row["request_id"] = (
                    "req_" + hashlib.blake2b(k.to_bytes(8, "little"), key=secret, digest_size=12).hexdigest()
                )
                row["ts"] = int(ts_us[k])
                row["account_id"] = source.accounts[idx[k]].account_id
                rows.append(row)
            writer.write_batch(pa.Table.from_pylist(rows, schema=REQUESTS))
            if on_progress:
                on_progress(hi, total)
    if on_progress and total == 0:
        on_progress(0, 0)

    per_account = (
        np.bincount(offsets[src] + idx, minlength=len(accounts)) if total else np.zeros(len(accounts), int)
    )
    result = SimulationResult(out, files, total, len(accounts), 0.0)
    persona_counts: dict[str, Counter[str]] = {}
    for acct, n in zip(accounts, per_account.tolist(), strict=True):
        c = persona_counts.setdefault(
            acct.persona if acct.label == "benign" else f"attack:{acct.persona}", Counter()
        )
        c["accounts"] += 1
        c["requests"] += n
    result.personas = {k: dict(v) for k, v in sorted(persona_counts.items())}
    for s in sources:
        if isinstance(s, Campaign):
            lo_off, hi_off = offsets[sources.index(s)], offsets[sources.index(s) + 1]
            result.campaigns[s.spec.campaign_id] = {
                "infrastructure": s.spec.infrastructure,
                "tactics": list(s.spec.tactics()),
                "accounts": len(s.accounts),
                "requests": int(per_account[lo_off:hi_off].sum()),
                "starts_at": _iso(s.t_start),
                "banned_at": _iso(s.ban_at) if s.spec.pool_failover else None,
                "paraphrase": s.spec.paraphrase,
            }
    manifest = {
        "format": "traffic-log-v1",
        "scenario": scenario,
        "days": days,
        "scale": scale,
        "seed": seed,
        "start": _iso(world.start),
        "end": _iso(world.end),
        "models": [
            {"name": m.name, "released_at": _iso(m.released_at), "reasoning": m.reasoning}
            for m in world.models
        ],
        "requests": total,
        "accounts": len(accounts),
        "personas": result.personas,
        "campaigns": result.campaigns,
        "note": "Ground truth for evaluation only; detectors must not read this file or labels.jsonl.",
    }
    files.append(out / "labels.jsonl")
    with TrafficWriter(files[-1], "labels") as writer:
        writer.write_batch(
            pa.Table.from_pylist(
                sorted((a.label_row() for a in accounts), key=lambda r: r["account_id"]), schema=LABELS_SCHEMA
            )
        )
    (out / "scenario.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    files.append(out / "scenario.json")
    result.files = files
    result.seconds = time.perf_counter() - began
    return result


def _write_accounts(out: Path, fmt: str, accounts: list[Any]) -> Path:
    path = out / f"accounts.{fmt}"
    rows = sorted((a.account_row() for a in accounts), key=lambda r: r["account_id"])
    with TrafficWriter(path, "accounts") as writer:
        writer.write_batch(pa.Table.from_pylist(rows, schema=ACCOUNTS))
    return path


def _arrivals(sources: list[Any], world: World) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every arrival of the run as (time, source, account) arrays sorted by time."""
    ts_l, src_l, idx_l = [], [], []
    for day in range(world.days):
        t0, t1 = world.start + day * DAY, world.start + (day + 1) * DAY
        for s_no, source in enumerate(sources):
            ts, idx = source.events(t0, t1)
            if len(ts):
                ts_l.append(np.asarray(ts, dtype=np.float64))
                idx_l.append(np.asarray(idx, dtype=np.int32))
                src_l.append(np.full(len(ts), s_no, dtype=np.int32))
    if not ts_l:
        return np.empty(0), np.empty(0, dtype=np.int32), np.empty(0, dtype=np.int32)
    ts, src, idx = np.concatenate(ts_l), np.concatenate(src_l), np.concatenate(idx_l)
    keep = (ts >= world.start) & (ts < world.end)
    ts, src, idx = ts[keep], src[keep], idx[keep]
    order = np.lexsort((idx, src, ts))
    return ts[order], src[order], idx[order]


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
