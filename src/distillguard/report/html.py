"""One self-contained HTML page per scan: campaigns, their evidence, timelines, the graph, signals.

The page is opened offline by a reviewer and attached to a case, so everything is inline (CSS and
SVG; no scripts, fonts or network) and a Content-Security-Policy forbids loading or running
anything else. Every string that comes from the logs (account ids, indicators, prompts, model
names) is attacker-controlled and goes through ``_e`` before it reaches the page.

The output is a function of the detection alone: no clock is read, iteration is sorted, sampling
hashes account ids and the graph layout runs on a seeded generator.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import html
import math
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import igraph as ig
import numpy as np
import pandas as pd

from distillguard.features.accounts import ACCOUNT_FEATURES, Feature
from distillguard.scoring.risk import DISTRIBUTION_FEATURE, REASONS

if TYPE_CHECKING:
    from distillguard.scan import Detection

REPORT_FILE = "report.html"

# Graph budget: a few hundred nodes is what a reader can look at and keeps the page well under
# a megabyte whatever the scan size.
MAX_ACCOUNT_NODES = 400
MAX_INDICATOR_NODES = 200
MAX_GRAPH_EDGES = 6000
CONTEXT_CLUSTERS = 5
CONTEXT_ACCOUNTS = 80
GRAPH_WIDTH = 1100
GRAPH_SEED = 0

# Campaigns are sorted largest first; past these the page points to campaigns.json instead.
MAX_CAMPAIGN_SECTIONS = 200
MAX_CAMPAIGN_ROWS = 500
MAX_TIMELINE_POINTS = 1000
MAX_LISTED_ACCOUNTS = 60
TOP_FLAGGED = 100
HIST_BINS = 24
# Volume-like features span orders of magnitude between a chat user and a harvester.
LOG_FEATURES = frozenset({"requests_per_day", "output_tokens_per_day", "max_per_minute"})

FLAGGED_COLOUR = "#c0392b"
BENIGN_COLOUR = "#4c78a8"
# Edge kind -> (indicator marker shape, colour).
KIND_STYLE: dict[str, tuple[str, str]] = {
    "payment": ("square", "#e67e22"),
    "network": ("diamond", "#27ae60"),
    "signup": ("triangle", "#8e44ad"),
    "template": ("triangle-down", "#16a085"),
    "sync": ("ring", "#d4a017"),
}
OTHER_KIND = ("square", "#7f8c8d")

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#222;background:#fafafa}
main{max-width:1180px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:16px;margin:18px 0 6px}h4{font-size:13px;margin:10px 0 4px;color:#555}
nav a{margin-right:14px}a{color:#1f5f9f}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0}
dl.facts dt{color:#555}dl.facts dd{margin:0;font-weight:600}
table{border-collapse:collapse;margin:4px 0 8px;font-size:13px;background:#fff}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f0f0f0}td.n{text-align:right;font-variant-numeric:tabular-nums}
code,.id{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;overflow-wrap:anywhere}
.nw{white-space:nowrap}
.muted{color:#777}.note{color:#555;font-size:13px}
.cols{display:flex;flex-wrap:wrap;gap:6px 24px}
section.campaign{background:#fff;border:1px solid #e3e3e3;border-radius:4px;padding:4px 14px 10px;margin:14px 0}
.tl{margin:6px 0 2px}.tl-title{font-size:13px}
.hists{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:14px}
figure{margin:0;background:#fff;border:1px solid #e3e3e3;border-radius:4px;padding:6px 8px}
figcaption{font-size:12px;color:#444}figcaption b{font-size:13px;color:#222}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
.ax{stroke:#999;stroke-width:1}.grid{stroke:#eee;stroke-width:1}.lbl{font-size:10px;fill:#555}
.area{fill:#c0392b;fill-opacity:.25}.line{fill:none;stroke:#c0392b;stroke-width:1.2}
.hf{fill:#c0392b;fill-opacity:.85}.hb{fill:#4c78a8;fill-opacity:.75}
.key{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px;vertical-align:middle}
.graph{background:#fff;border:1px solid #e3e3e3;border-radius:4px}
.af{fill:#c0392b;stroke:#fff;stroke-width:.6}.ab{fill:#4c78a8;stroke:#fff;stroke-width:.6}
.clab{font-size:10px;fill:#333}
"""


def write_report(det: Detection, out_dir: str | Path, fpr: float | None = None) -> Path:
    """Write ``out_dir/report.html`` for a detection and return its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / REPORT_FILE
    path.write_text(render_report(det, fpr=fpr), encoding="utf-8")
    return path


def render_report(det: Detection, fpr: float | None = None) -> str:
    """The report page for a detection, as one HTML string."""
    if fpr is None:
        fpr = getattr(det, "fpr", None)
    accounts = _accounts(det.accounts)
    campaigns = list(det.campaigns or [])
    anchors = _anchors(campaigns[:MAX_CAMPAIGN_SECTIONS])
    camp_of = {a: c.get("campaign_id", "") for c in campaigns for a in c.get("accounts", [])}
    edges = _edges(det.edges)
    body = [
        _header(det, accounts, campaigns, edges, fpr),
        _campaign_table(campaigns, anchors),
        _timelines(det.window, campaigns, anchors),
        _graph_section(accounts, edges, camp_of),
        _campaign_sections(campaigns, anchors),
        _signals(det.features, accounts),
        _flagged_table(accounts, camp_of),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>distillguard scan report</title>\n"
        f"<style>{CSS}</style></head>\n<body><main>\n" + "\n".join(body) + "\n</main></body></html>\n"
    )


# --------------------------------------------------------------------------- formatting helpers


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _ts(value: Any) -> dt.datetime | None:
    """A naive UTC datetime from whatever the engine returned (datetime, Timestamp, ISO string)."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, dt.datetime) or isinstance(value, pd.Timestamp):
        try:
            value = pd.Timestamp(value).to_pydatetime()
        except (TypeError, ValueError):
            return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _window(window: Any) -> tuple[dt.datetime | None, dt.datetime | None]:
    w = list(window or ())[:2] + [None, None]
    return _ts(w[0]), _ts(w[1])


def _fmt_ts(value: Any) -> str:
    t = _ts(value)
    return t.strftime("%Y-%m-%d %H:%M") if t else "–"


def _int(value: Any) -> str:
    if isinstance(value, int | np.integer):  # token totals can pass 2**53; keep them exact
        return f"{int(value):,}"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "–"
    return f"{int(v):,}" if math.isfinite(v) else "–"


def _dec(value: Any, places: int) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "–"
    return f"{v:.{places}f}" if math.isfinite(v) else "–"


def _short(x: float) -> str:
    ax = abs(x)
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if ax >= div:
            return f"{x / div:.3g}{suffix}"
    if ax >= 100 or float(x).is_integer():
        return f"{x:.0f}"
    return f"{x:.3g}"


def _nice_ceil(x: float) -> float:
    if x <= 0 or not math.isfinite(x):
        return 1.0
    exp = 10 ** math.floor(math.log10(x))
    for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if x <= m * exp * (1 + 1e-9):
            return m * exp
    return 10 * exp


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    """An HTML table; cells must already be escaped."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    if not body:
        return '<p class="muted">none</p>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _anchors(campaigns: Sequence[dict[str, Any]]) -> list[str]:
    # Ids are hashes today, but the anchor must stay a safe, unique fragment whatever they become.
    return [
        f"c{i}-" + re.sub(r"[^A-Za-z0-9_-]", "_", str(c.get("campaign_id", "")))[:40]
        for i, c in enumerate(campaigns)
    ]


# --------------------------------------------------------------------------- inputs


def _accounts(df: pd.DataFrame | None) -> pd.DataFrame:
    cols = {"account_id": "", "risk": 0.0, "flagged": 0, "cluster_id": "", "cluster_size": 1, "reasons": ""}
    if df is None or len(df) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    out = df.copy()
    for c, default in cols.items():
        if c not in out.columns:
            out[c] = default
    out["account_id"] = out["account_id"].astype(str)
    out["risk"] = pd.to_numeric(out["risk"], errors="coerce").fillna(0.0).clip(0.0, 1.0)
    out["flagged"] = pd.to_numeric(out["flagged"], errors="coerce").fillna(0).astype(int)
    out["cluster_id"] = out["cluster_id"].fillna("").astype(str)
    out["cluster_size"] = pd.to_numeric(out["cluster_size"], errors="coerce").fillna(1).astype(int)
    out["reasons"] = out["reasons"].fillna("").astype(str)
    return out.drop_duplicates("account_id").reset_index(drop=True)


def _edges(table: Any) -> pd.DataFrame:
    cols = ["account_id", "indicator", "kind", "n_holders"]
    if (
        table is None
        or getattr(table, "num_rows", 0) == 0
        or any(c not in table.column_names for c in cols[:3])
    ):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    df = table.select([c for c in cols if c in table.column_names]).to_pandas()
    if "n_holders" not in df.columns:
        df["n_holders"] = df.groupby("indicator")["account_id"].transform("nunique")
    for c in ("account_id", "indicator", "kind"):
        df[c] = df[c].astype(str)
    return df.drop_duplicates(["account_id", "indicator"]).reset_index(drop=True)


# --------------------------------------------------------------------------- header and tables


def _header(
    det: Detection,
    accounts: pd.DataFrame,
    campaigns: list[dict[str, Any]],
    edges: pd.DataFrame,
    fpr: float | None,
) -> str:
    first, last = _window(det.window)
    if first and last:
        hours = (last - first).total_seconds() / 3600
        window = f"{_fmt_ts(first)} → {_fmt_ts(last)} UTC ({hours:,.1f} h)"
    else:
        window = "no requests"
    n = len(accounts)
    flagged = int(accounts["flagged"].sum()) if n else 0
    share = f" ({flagged / n:.2%})" if n else ""
    try:
        thr = float(det.account_threshold)
    except (TypeError, ValueError):
        thr = math.nan
    thr_s = f"{thr:.3f}" if math.isfinite(thr) else "none (no null distribution)"
    facts = [
        ("Window", window),
        ("Accounts scanned", f"{n:,}"),
        ("Flagged accounts", f"{flagged:,}{share}"),
        ("Target false-positive rate", f"{fpr:g}" if fpr is not None else "not recorded"),
        ("Account score threshold", f'{thr_s} <span class="muted">(the null\'s 1 − FPR quantile)</span>'),
        ("Campaigns", f"{len(campaigns):,}"),
        ("Linkage edges", f"{len(edges):,} to {edges['indicator'].nunique():,} indicators"),
    ]
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    nav = (
        '<nav><a href="#campaigns">Campaigns</a><a href="#timelines">Timelines</a>'
        '<a href="#graph">Account graph</a><a href="#evidence">Evidence</a>'
        '<a href="#signals">Signals</a><a href="#flagged">Flagged accounts</a></nav>'
    )
    return f'<header><h1>distillguard scan report</h1>{nav}<dl class="facts">{dl}</dl></header>'


def _atlas(ids: Iterable[Any]) -> str:
    return ", ".join(f'<code class="nw">{_e(a)}</code>' for a in ids)


def _tactics_cell(tactics: Sequence[dict[str, Any]]) -> str:
    out = []
    for t in tactics:
        atlas = _atlas(t.get("atlas", []))
        out.append(f'<b>{_e(t.get("tactic"))}</b> <span class="muted">{_e(t.get("method"))}; {atlas}</span>')
    return "<br>".join(out) or '<span class="muted">–</span>'


def _campaign_table(campaigns: list[dict[str, Any]], anchors: list[str]) -> str:
    head = '<section id="campaigns"><h2>Campaigns</h2>'
    if not campaigns:
        return head + "<p>No campaigns: no account was flagged at this false-positive rate.</p></section>"
    rows = [
        (
            f'<a class="id nw" href="#{anchors[i]}">{_e(c.get("campaign_id"))}</a>'
            if i < len(anchors)
            else f'<span class="id nw">{_e(c.get("campaign_id"))}</span>',
            _int(c.get("n_accounts", len(c.get("accounts", [])))),
            _int(c.get("requests")),
            _int(c.get("output_tokens")),
            _fmt_ts(c.get("first_seen")),
            _fmt_ts(c.get("last_seen")),
            _tactics_cell(c.get("tactics", [])),
            _dec(c.get("confidence"), 4),
        )
        for i, c in enumerate(campaigns[:MAX_CAMPAIGN_ROWS])
    ]
    table = _table(
        (
            "Campaign",
            "Accounts",
            "Requests",
            "Output tokens",
            "First seen (UTC)",
            "Last seen (UTC)",
            "Tactics (method; ATLAS)",
            "Confidence",
        ),
        rows,
        numeric=(1, 2, 3, 7),
    )
    note = '<p class="note">Confidence is the mean risk of the campaign\'s flagged accounts.'
    if len(campaigns) > MAX_CAMPAIGN_ROWS:
        note += f" The first {MAX_CAMPAIGN_ROWS:,} of {len(campaigns):,} campaigns; campaigns.json has all."
    if len(campaigns) > len(anchors):
        note += f" The first {len(anchors):,} link to their evidence below."
    note += "</p>"
    return head + table + note + "</section>"


def _counts_table(title: str, counts: dict[str, Any] | None, label: str, unit: str) -> str:
    items = sorted((counts or {}).items(), key=lambda kv: (-float(kv[1] or 0), str(kv[0])))
    rows = [(f"<code>{_e(k)}</code>", _int(v)) for k, v in items]
    return f"<div><h4>{title}</h4>{_table((label, unit), rows, numeric=(1,))}</div>"


def _campaign_sections(campaigns: list[dict[str, Any]], anchors: list[str]) -> str:
    parts = ['<section id="evidence"><h2>Campaign evidence</h2>']
    if not campaigns:
        parts.append("<p>No campaigns.</p>")
    for c, anchor in zip(campaigns, anchors, strict=False):
        ev = c.get("evidence", {}) or {}
        accts = [str(a) for a in c.get("accounts", [])]
        meta = (
            f"{_int(c.get('n_accounts', len(accts)))} accounts · {_int(c.get('requests'))} requests · "
            f"{_int(c.get('output_tokens'))} output tokens · {_fmt_ts(c.get('first_seen'))} → "
            f"{_fmt_ts(c.get('last_seen'))} UTC · confidence {_dec(c.get('confidence'), 4)}"
        )
        tactics = _table(
            ("Tactic", "Method", "ATLAS", "Support"),
            [
                (
                    _e(t.get("tactic")),
                    _e(t.get("method")),
                    _atlas(t.get("atlas", [])),
                    f"{_int(t['requests'])} requests"
                    if "requests" in t
                    else f"{_int(t.get('accounts'))} accounts",
                )
                for t in c.get("tactics", [])
            ],
        )
        shared = _table(
            ("Kind", "Indicator", "Accounts"),
            [
                (_e(s.get("kind")), f"<code>{_e(s.get('indicator'))}</code>", _int(s.get("accounts")))
                for s in ev.get("shared_indicators", [])
            ],
            numeric=(2,),
        )
        samples = ev.get("sample_requests", [])
        has_prompt = any("prompt_head" in s for s in samples)
        sample_rows = []
        for s in samples:
            p = s.get("p_extract")
            row = [
                f"<code>{_e(s.get('request_id'))}</code>",
                _e(s.get("intent")),
                f"{float(p):.3f}" if isinstance(p, int | float) and math.isfinite(p) else "–",
            ]
            if has_prompt:
                row.append(_e(s.get("prompt_head", "")))
            sample_rows.append(row)
        sample_head = ["Request id", "Intent", "p_extract"] + (["Prompt (head)"] if has_prompt else [])
        templates = _table(
            ("Template", "Requests", "System prompt (normalised)", "User turn (normalised)"),
            [
                (
                    f"<code>{_e(t.get('template_id'))}</code>",
                    _int(t.get("requests")),
                    _e(t.get("system") or "–"),
                    _e(t.get("user") or "–"),
                )
                for t in ev.get("template_examples", [])
            ],
            numeric=(1,),
        )
        listed = ", ".join(f'<span class="id">{_e(a)}</span>' for a in accts[:MAX_LISTED_ACCOUNTS])
        more = (
            f' <span class="muted">… and {len(accts) - MAX_LISTED_ACCOUNTS:,} more</span>'
            if len(accts) > MAX_LISTED_ACCOUNTS
            else ""
        )
        parts.append(
            f'<section class="campaign" id="{anchor}"><h3>Campaign <span class="id">'
            f"{_e(c.get('campaign_id'))}</span></h3><p>{meta}</p>"
            f"<h4>Tactics</h4>{tactics}"
            '<div class="cols">'
            + _counts_table("Reasons", ev.get("reasons"), "Reason code", "Accounts")
            + _counts_table("Link kinds", ev.get("link_kinds"), "Kind", "Edges")
            + _counts_table("Models used", c.get("models"), "Model", "Requests")
            + _counts_table("Extraction intents", c.get("capabilities"), "Intent", "Requests")
            + "</div>"
            f"<h4>Shared indicators</h4>{shared}"
            f"<h4>Most used templates</h4>{templates}"
            f"<h4>Sample requests (highest p_extract)</h4>"
            f"{_table(sample_head, sample_rows, numeric=(2,))}"
            f"<h4>Accounts</h4><p>{listed or '–'}{more}</p>"
            '<p><a href="#campaigns">↑ campaigns</a></p></section>'
        )
    if len(campaigns) > len(anchors):
        parts.append(
            f'<p class="note">The first {len(anchors):,} of {len(campaigns):,} campaigns; campaigns.json has all.</p>'
        )
    parts.append("</section>")
    return "".join(parts)


def _flagged_table(accounts: pd.DataFrame, camp_of: dict[str, str]) -> str:
    head = f'<section id="flagged"><h2>Flagged accounts (top {TOP_FLAGGED} by risk)</h2>'
    flagged = accounts[accounts["flagged"] == 1]
    if flagged.empty:
        return head + "<p>No flagged accounts.</p></section>"
    top = flagged.sort_values(["risk", "account_id"], ascending=[False, True]).head(TOP_FLAGGED)
    rows = [
        (
            f'<span class="id">{_e(r.account_id)}</span>',
            f"{r.risk:.6f}",
            f'<span class="id">{_e(r.cluster_id)}</span>' if r.cluster_size >= 2 else "–",
            f'<span class="id">{_e(camp_of.get(r.account_id, ""))}</span>',
            _e(r.reasons.replace(";", ", ")),
        )
        for r in top.itertuples()
    ]
    note = "" if len(flagged) <= TOP_FLAGGED else f'<p class="note">{len(flagged):,} flagged in all.</p>'
    return (
        head + _table(("Account", "Risk", "Cluster", "Campaign", "Reasons"), rows, (1,)) + note + "</section>"
    )


# --------------------------------------------------------------------------- timelines


def _timelines(window: Any, campaigns: list[dict[str, Any]], anchors: list[str]) -> str:
    head = '<section id="timelines"><h2>Campaign timelines</h2>'
    if not campaigns:
        return head + "<p>No campaigns.</p></section>"
    series = []
    for c in campaigns[: len(anchors)]:
        pts = []
        for h in (c.get("evidence", {}) or {}).get("hourly_requests", []):
            t = _ts(h.get("hour"))
            if t is not None:
                pts.append((t.replace(minute=0, second=0, microsecond=0), float(h.get("requests", 0) or 0)))
        series.append(pts)
    start, end = _window(window)
    every = [t for pts in series for t, _ in pts]
    # The scan window is the shared axis; campaign data alone stands in when no window was recorded.
    start = min([start] if start else every or [None])
    end = max([end] if end else every or [None])
    if start is None or end is None:
        return head + "<p>No hourly activity recorded.</p></section>"
    start = start.replace(minute=0, second=0, microsecond=0)
    end = end.replace(minute=0, second=0, microsecond=0)
    n_hours = int((end - start).total_seconds() // 3600) + 1
    step = max(1, math.ceil(n_hours / MAX_TIMELINE_POINTS))
    n_bins = math.ceil(n_hours / step)
    unit = "hour" if step == 1 else f"{step} h"
    parts = [
        head,
        f'<p class="note">Requests per {unit}, on one time axis: the scan window '
        f"{_fmt_ts(start)} → {_fmt_ts(end)} UTC. Each chart has its own vertical scale.</p>",
    ]
    for c, anchor, pts in zip(campaigns, anchors, series, strict=False):
        counts = np.zeros(n_bins)
        for t, n in pts:
            i = int((t - start).total_seconds() // 3600) // step
            if 0 <= i < n_bins:
                counts[i] += n
        title = (
            f'<div class="tl-title"><a class="id" href="#{anchor}">{_e(c.get("campaign_id"))}</a> '
            f'<span class="muted">{_int(c.get("n_accounts"))} accounts, {_int(c.get("requests"))} requests'
            "</span></div>"
        )
        parts.append(f'<div class="tl">{title}{_timeline_svg(counts, start, step, unit)}</div>')
    if len(campaigns) > len(anchors):
        parts.append(f'<p class="note">The first {len(anchors):,} of {len(campaigns):,} campaigns.</p>')
    parts.append("</section>")
    return "".join(parts)


def _timeline_svg(counts: np.ndarray, start: dt.datetime, step: int, unit: str) -> str:
    width, height, left, right, top, bottom = 1100, 120, 62, 12, 8, 26
    pw, ph = width - left - right, height - top - bottom
    n = len(counts)
    ymax = _nice_ceil(float(counts.max()) if n else 0.0)

    def x(i: float) -> float:
        return left + (pw * i / max(n - 1, 1) if n > 1 else pw / 2)

    def y(v: float) -> float:
        return top + ph * (1 - v / ymax)

    base = top + ph
    line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(counts))
    area = f"M{x(0):.1f},{base:.1f} L{line} L{x(n - 1):.1f},{base:.1f} Z"
    out = [
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="requests per {unit}">',
        f'<line class="grid" x1="{left}" y1="{top}" x2="{left + pw}" y2="{top}"/>',
        f'<line class="grid" x1="{left}" y1="{top + ph / 2:.1f}" x2="{left + pw}" y2="{top + ph / 2:.1f}"/>',
    ]
    out += _time_ticks(start, (n - 1) * step + 1, lambda h: x(h / step), base)
    out += [
        f'<path class="area" d="{area}"/>',
        f'<polyline class="line" points="{line}"/>',
        f'<line class="ax" x1="{left}" y1="{base}" x2="{left + pw}" y2="{base}"/>',
        f'<line class="ax" x1="{left}" y1="{top}" x2="{left}" y2="{base}"/>',
        f'<text class="lbl" x="{left - 4}" y="{top + 8}" text-anchor="end">{_short(ymax)}</text>',
        f'<text class="lbl" x="{left - 4}" y="{top + ph / 2 + 3:.1f}" text-anchor="end">'
        f"{_short(ymax / 2)}</text>",
        f'<text class="lbl" x="{left - 4}" y="{base}" text-anchor="end">0</text>',
        f'<text class="lbl" transform="translate(12,{top + ph / 2:.0f}) rotate(-90)" text-anchor="middle">'
        f"req / {unit}</text>",
        "</svg>",
    ]
    return "".join(out)


def _time_ticks(start: dt.datetime, n_hours: int, xpos: Any, base: float) -> list[str]:
    """Tick marks and labels on round hours or days, at most about ten of them."""
    step = next(
        (s for s in (1, 2, 3, 6, 12, 24, 48, 96, 168, 336, 720, 1440, 2160) if n_hours / s <= 10), 4320
    )
    epoch_h = int(start.replace(tzinfo=dt.UTC).timestamp() // 3600)
    first = -(-epoch_h // step) * step - epoch_h
    fmt = "%m-%d %H:%M" if step < 24 else "%Y-%m-%d"
    out = []
    for h in range(first, n_hours, step):
        xx = xpos(h)
        label = (start + dt.timedelta(hours=h)).strftime(fmt)
        out.append(
            f'<line class="ax" x1="{xx:.1f}" y1="{base}" x2="{xx:.1f}" y2="{base + 4}"/>'
            f'<text class="lbl" x="{xx:.1f}" y="{base + 15}" text-anchor="middle">{label}</text>'
        )
    return out


# --------------------------------------------------------------------------- account graph


@dataclass
class _Node:
    key: str
    is_account: bool
    kind: str  # edge kind for indicators; "flagged" / "benign" for accounts
    size: float
    title: str
    campaign: str = ""
    cluster: str = ""


def _hash_key(s: str) -> str:
    return hashlib.blake2b(s.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def _allocate(sizes: Sequence[int], budget: int) -> list[int]:
    """Fair shares of a node budget: small groups whole, large ones capped at one common quota."""
    if sum(sizes) <= budget:
        return list(sizes)
    q = 0
    while sum(min(s, q + 1) for s in sizes) <= budget:
        q += 1
    take = [min(s, q) for s in sizes]
    left = budget - sum(take)
    for i, s in enumerate(sizes):  # leftovers go to the groups listed first (most important)
        if left <= 0:
            break
        if s > take[i]:
            take[i] += 1
            left -= 1
    return take


def _cover_order(candidates: list[Any], holders_of: dict[str, frozenset[str]]) -> tuple[list[Any], int]:
    """Candidates reordered so the first ones connect every account they can, and how many that takes.

    Taking the most-shared indicators alone leaves part of a cluster as loose dots (many sync waves
    or templates shared by the same 30 accounts, none by the other 30): a greedy set cover first,
    then the rest in their given order (most shared first), which also breaks ties.
    """
    covered: set[str] = set()
    chosen: list[int] = []
    # Lazy greedy: a gain only shrinks as more accounts are covered, so a stale gain on top of the
    # heap is an upper bound and only the top needs recomputing.
    heap = [(-len(holders_of[c.indicator]), i) for i, c in enumerate(candidates)]
    heapq.heapify(heap)
    while heap:
        _, i = heapq.heappop(heap)
        gain = len(holders_of[candidates[i].indicator] - covered)
        if gain == 0:
            continue  # connects nobody new; it comes back in the given order below
        if heap and -gain > heap[0][0]:
            heapq.heappush(heap, (-gain, i))
            continue
        covered |= holders_of[candidates[i].indicator]
        chosen.append(i)
    taken = set(chosen)
    order = chosen + [i for i in range(len(candidates)) if i not in taken]
    return [candidates[i] for i in order], len(chosen)


def _graph_selection(
    accounts: pd.DataFrame, edges: pd.DataFrame, camp_of: dict[str, str]
) -> tuple[list[_Node], list[tuple[int, int, str]], str]:
    """Nodes, edges and a sentence on what was sampled, for flagged clusters plus some context."""
    linked = accounts[accounts["cluster_size"] >= 2]
    per = (
        linked.groupby("cluster_id").agg(n=("account_id", "size"), n_flagged=("flagged", "sum")).reset_index()
    )
    flagged_c = per[per["n_flagged"] > 0].sort_values(
        ["n_flagged", "n", "cluster_id"], ascending=[False, False, True]
    )
    context_c = per[per["n_flagged"] == 0].sort_values(["n", "cluster_id"], ascending=[False, True])
    context_c = context_c.head(CONTEXT_CLUSTERS)
    singles = accounts[(accounts["flagged"] == 1) & (accounts["cluster_size"] < 2)]

    groups: list[pd.DataFrame] = [linked[linked["cluster_id"] == cid] for cid in flagged_c["cluster_id"]]
    if len(singles):
        groups.append(singles)
    context = [linked[linked["cluster_id"] == cid] for cid in context_c["cluster_id"]]
    ctx_budget = min(CONTEXT_ACCOUNTS, sum(len(g) for g in context))
    main_take = _allocate([len(g) for g in groups], MAX_ACCOUNT_NODES - ctx_budget)
    ctx_take = _allocate([len(g) for g in context], MAX_ACCOUNT_NODES - sum(main_take))
    chosen: list[pd.DataFrame] = []
    for gi, (g, k) in enumerate(zip(groups + context, main_take + ctx_take, strict=True)):
        if k:
            order = g.assign(_h=g["account_id"].map(_hash_key), _g=gi).sort_values(
                ["flagged", "_h"], ascending=[False, True]
            )
            chosen.append(order.head(k))
    n_candidates = sum(len(g) for g in groups + context)
    if not chosen:
        return [], [], ""
    drawn = pd.concat(chosen, ignore_index=True)
    nodes: list[_Node] = []
    index: dict[str, int] = {}
    for r in drawn.itertuples():
        camp = camp_of.get(r.account_id, "")
        title = f"{r.account_id}\nrisk {r.risk:.6f}" + (
            f"\ncluster {r.cluster_id}" if r.cluster_size >= 2 else ""
        )
        title += (f"\ncampaign {camp}" if camp else "") + (f"\n{r.reasons}" if r.reasons else "")
        index[r.account_id] = len(nodes)
        nodes.append(
            _Node(
                r.account_id,
                True,
                "flagged" if r.flagged else "benign",
                2.5 + 4.0 * float(r.risk),
                title,
                camp,
                f"cluster {r.cluster_id}" if r.cluster_size >= 2 else "",
            )
        )
    e = edges[edges["account_id"].isin(index)].merge(drawn[["account_id", "_g"]], on="account_id")
    per_group = e.groupby(["indicator", "_g"]).size().rename("in_group").reset_index()
    ind = (
        e.groupby("indicator")
        .agg(drawn=("account_id", "size"), kind=("kind", "first"), n_holders=("n_holders", "max"))
        .reset_index()
    )
    # An indicator drawn next to a single account links nothing on the page.
    ind = ind[ind["drawn"] >= 2]
    # Each indicator belongs to the group where most of its drawn holders are, and every group gets
    # its share of the indicator budget: otherwise one big cluster's many sync waves would take it
    # all and leave the smaller clusters drawn as unconnected dots.
    home = per_group.sort_values(["indicator", "in_group", "_g"], ascending=[True, False, True])
    home = home.drop_duplicates("indicator")[["indicator", "_g"]]
    ind = ind.merge(home, on="indicator")
    ind["_rank"] = ind["kind"].map({k: i for i, k in enumerate(KIND_STYLE)}).fillna(len(KIND_STYLE))
    ind = ind.sort_values(["_g", "drawn", "_rank", "indicator"], ascending=[True, False, True, True])
    n_ind_all = len(ind)
    by_group = [grp for _, grp in ind.groupby("_g", sort=True)]
    holders_of = e.groupby("indicator")["account_id"].agg(frozenset).to_dict()
    ordered = [_cover_order(list(grp.itertuples()), holders_of) for grp in by_group]
    # The budget goes first to connecting each group's accounts, then to its most-shared rest.
    first = _allocate([n for _, n in ordered], MAX_INDICATOR_NODES)
    extra = _allocate(
        [len(o) - q for (o, _), q in zip(ordered, first, strict=True)], MAX_INDICATOR_NODES - sum(first)
    )
    queues = [o[: a + b] for (o, _), a, b in zip(ordered, first, extra, strict=True)]
    keep, n_edges = [], 0
    for rnd in range(max((len(q) for q in queues), default=0)):
        for q in queues:  # round robin, so the edge budget is shared too
            if rnd < len(q) and n_edges + q[rnd].drawn <= MAX_GRAPH_EDGES:
                keep.append(q[rnd])
                n_edges += q[rnd].drawn
    for r in keep:
        index[r.indicator] = len(nodes)
        holders = _int(r.n_holders) if pd.notna(r.n_holders) else "?"
        nodes.append(
            _Node(r.indicator, False, r.kind, 3.5, f"{r.kind}: {r.indicator}\nheld by {holders} accounts")
        )
    kept = {r.indicator for r in keep}
    e = e[e["indicator"].isin(kept)].sort_values(["indicator", "account_id"])
    links = [
        (index[a], index[i], k) for a, i, k in zip(e["account_id"], e["indicator"], e["kind"], strict=True)
    ]
    note = (
        f"Drawn: {len(drawn):,} of {n_candidates:,} accounts in {len(flagged_c):,} flagged clusters"
        f"{' and ' + format(len(singles), ',') + ' unlinked flagged accounts' if len(singles) else ''}"
        f", plus the {len(context_c):,} largest unflagged clusters for context; "
        f"{len(keep):,} of {n_ind_all:,} indicators shared by two or more drawn accounts; {len(links):,} edges."
    )
    if len(drawn) < n_candidates or len(keep) < n_ind_all:
        note += (
            " The page caps the graph: large clusters are sampled deterministically (flagged members "
            "first, then by a hash of the account id) and each cluster keeps its most-shared indicators."
        )
    return nodes, links, note


def _layout(
    nodes: list[_Node], links: list[tuple[int, int, str]]
) -> tuple[list[tuple[float, float]], float, list[tuple[float, float, str]]]:
    """Positions per node, the canvas height and component labels: each component laid out alone, then packed."""
    n = len(nodes)
    g = ig.Graph(n=n, edges=[(a, b) for a, b, _ in links])
    comps = sorted((sorted(c) for c in g.connected_components()), key=lambda c: (-len(c), c[0]))
    adjacency = [(a, b) for a, b, _ in links]
    pos: list[tuple[float, float]] = [(0.0, 0.0)] * n
    labels: list[tuple[float, float, str]] = []
    x0, y0, row_h, pad, gap = 0.0, 18.0, 0.0, 10.0, 12.0
    rng_state = random.Random(GRAPH_SEED)
    ig.set_random_number_generator(rng_state)
    try:
        members_of = {v: i for i, c in enumerate(comps) for v in c}
        comp_edges: list[list[tuple[int, int]]] = [[] for _ in comps]
        for a, b in adjacency:
            comp_edges[members_of[a]].append((a, b))
        for ci, comp in enumerate(comps):
            local = {v: i for i, v in enumerate(comp)}
            k = len(comp)
            if k == 1:
                coords = [(0.0, 0.0)]
            else:
                sub = ig.Graph(n=k, edges=[(local[a], local[b]) for a, b in comp_edges[ci]])
                seed = [[math.cos(2 * math.pi * i / k), math.sin(2 * math.pi * i / k)] for i in range(k)]
                coords = [
                    tuple(p) for p in sub.layout_fruchterman_reingold(seed=seed, niter=300, grid=False).coords
                ]
            xs = np.array([c[0] for c in coords], dtype=float)
            ys = np.array([c[1] for c in coords], dtype=float)
            xs, ys = _fit(xs, ys, 9.0 * math.sqrt(k) if k > 1 else 0.0)
            xs, ys = _relax(xs, ys, np.array([nodes[v].size for v in comp]))
            radius = float(np.sqrt(xs**2 + ys**2).max()) if k > 1 else 0.0
            box = 2 * radius + 2 * pad
            if x0 > 0 and x0 + box > GRAPH_WIDTH:
                x0, y0, row_h = 0.0, y0 + row_h + gap + 12, 0.0
            cx, cy = x0 + box / 2, y0 + box / 2
            for v, px, py in zip(comp, xs, ys, strict=True):
                pos[v] = (cx + float(px), cy + float(py))
            # A component is named after its campaign when it has one, else after its cluster.
            label = Counter(nodes[v].campaign for v in comp if nodes[v].campaign).most_common(1)
            label = label or Counter(nodes[v].cluster for v in comp if nodes[v].cluster).most_common(1)
            if label and k > 2:
                labels.append((x0 + 2, y0 - 3, label[0][0]))
            x0 += box + gap
            row_h = max(row_h, box)
    finally:
        ig.set_random_number_generator(random)
    return pos, y0 + row_h + pad, labels


def _fit(xs: np.ndarray, ys: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Centre a component and scale it to ``radius``, pulling far outliers in.

    Force layouts push a loosely attached account far from its cluster's core; scaling by the
    farthest point would shrink the core to a blob, so most points fill the radius and the few
    beyond it are squashed into a thin rim.
    """
    xs, ys = xs - np.median(xs), ys - np.median(ys)
    dist = np.sqrt(xs**2 + ys**2)
    spread = float(np.quantile(dist, 0.9)) if len(dist) else 0.0
    if spread <= 0 or radius <= 0:
        return xs * 0, ys * 0
    r = dist * radius / spread
    squashed = np.where(r > radius, radius * (1 + 0.3 * (1 - np.exp(-(r - radius) / radius))), r)
    factor = np.divide(squashed, dist, out=np.zeros_like(dist), where=dist > 0)
    return xs * factor, ys * factor


def _relax(
    xs: np.ndarray, ys: np.ndarray, radii: np.ndarray, iters: int = 80
) -> tuple[np.ndarray, np.ndarray]:
    """Push overlapping markers apart: accounts with the same indicators land on one spot otherwise."""
    n = len(xs)
    if n < 2:
        return xs, ys
    # Coincident points have no direction to move in; a golden-angle spiral gives each its own.
    k = np.arange(n)
    xs = xs + 0.05 * np.cos(k * 2.39996) * (1 + k % 5)
    ys = ys + 0.05 * np.sin(k * 2.39996) * (1 + k % 5)
    need = radii[:, None] + radii[None, :] + 0.8
    for _ in range(iters):
        dx, dy = xs[:, None] - xs[None, :], ys[:, None] - ys[None, :]
        d = np.hypot(dx, dy)
        np.fill_diagonal(d, np.inf)
        overlap = np.clip(need - d, 0.0, None)
        if overlap.max() < 0.1:
            break
        # Each of a pair moves a share of the overlap away from the other; damped, since a node
        # pushed by many neighbours at once would otherwise overshoot.
        push = 0.25 * overlap / d
        xs = xs + (dx * push).sum(axis=1)
        ys = ys + (dy * push).sum(axis=1)
    return xs - np.median(xs), ys - np.median(ys)


def _marker(node: _Node, x: float, y: float) -> str:
    title = f"<title>{_e(node.title)}</title>"
    if node.is_account:
        cls = "af" if node.kind == "flagged" else "ab"
        return f'<circle class="{cls}" cx="{x:.1f}" cy="{y:.1f}" r="{node.size:.1f}">{title}</circle>'
    shape, colour = KIND_STYLE.get(node.kind, OTHER_KIND)
    s = node.size
    return _shape(shape, colour, x, y, s, title)


def _shape(shape: str, colour: str, x: float, y: float, s: float, inner: str = "") -> str:
    if shape == "square":
        return f'<rect x="{x - s * 0.8:.1f}" y="{y - s * 0.8:.1f}" width="{s * 1.6:.1f}" height="{s * 1.6:.1f}" fill="{colour}">{inner}</rect>'
    if shape == "ring":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{s * 0.8:.1f}" fill="#fff" stroke="{colour}" stroke-width="1.6">{inner}</circle>'
    if shape == "diamond":
        d = f"M{x:.1f},{y - s:.1f}L{x + s:.1f},{y:.1f}L{x:.1f},{y + s:.1f}L{x - s:.1f},{y:.1f}Z"
    elif shape == "triangle":
        d = f"M{x:.1f},{y - s:.1f}L{x + s:.1f},{y + s * 0.8:.1f}L{x - s:.1f},{y + s * 0.8:.1f}Z"
    else:
        d = f"M{x:.1f},{y + s:.1f}L{x + s:.1f},{y - s * 0.8:.1f}L{x - s:.1f},{y - s * 0.8:.1f}Z"
    return f'<path d="{d}" fill="{colour}">{inner}</path>'


def _graph_section(accounts: pd.DataFrame, edges: pd.DataFrame, camp_of: dict[str, str]) -> str:
    head = '<section id="graph"><h2>Account-cluster graph</h2>'
    if len(accounts) == 0:
        return head + "<p>No accounts scanned.</p></section>"
    if len(edges) == 0:
        return (
            head
            + "<p>No linkage edges: no accounts share an indicator, so there is no graph to draw.</p></section>"
        )
    nodes, links, note = _graph_selection(accounts, edges, camp_of)
    if not nodes:
        return head + "<p>No linked clusters to draw.</p></section>"
    pos, height, labels = _layout(nodes, links)
    paths: dict[str, list[str]] = {}
    for a, b, kind in links:
        (x1, y1), (x2, y2) = pos[a], pos[b]
        paths.setdefault(kind, []).append(f"M{x1:.1f},{y1:.1f}L{x2:.1f},{y2:.1f}")
    svg = [
        f'<svg class="graph" viewBox="0 0 {GRAPH_WIDTH} {height:.0f}" width="100%" role="img" '
        'aria-label="accounts linked by shared indicators">'
    ]
    for kind in sorted(paths):
        colour = KIND_STYLE.get(kind, OTHER_KIND)[1]
        svg.append(
            f'<path d="{"".join(paths[kind])}" stroke="{colour}" stroke-opacity=".35" stroke-width=".7" fill="none"/>'
        )
    # Flagged accounts over benign ones; the small indicator markers last, or the accounts around
    # a shared card or network would hide it.
    order = sorted(range(len(nodes)), key=lambda i: (not nodes[i].is_account, nodes[i].kind == "flagged", i))
    svg += [_marker(nodes[i], *pos[i]) for i in order]
    svg += [f'<text class="clab" x="{x:.1f}" y="{y:.1f}">{_e(t)}</text>' for x, y, t in labels]
    svg.append("</svg>")
    kinds = sorted({n.kind for n in nodes if not n.is_account})
    legend = (
        f'<span class="key" style="background:{FLAGGED_COLOUR};border-radius:50%"></span>flagged account'
        f'<span class="key" style="background:{BENIGN_COLOUR};border-radius:50%"></span>unflagged account '
        '<span class="muted">(size: risk)</span>'
    )
    for kind in kinds:
        shape, colour = KIND_STYLE.get(kind, OTHER_KIND)
        legend += (
            f' <svg width="14" height="12" viewBox="0 0 14 12">{_shape(shape, colour, 7, 6, 4.5)}</svg>'
            f"{_e(kind)} indicator"
        )
    return (
        head
        + f'<p class="note">{legend}</p><p class="note">{_e(note)} Hover a node for its id.</p>'
        + "".join(svg)
        + "</section>"
    )


# --------------------------------------------------------------------------- signal distributions


def _signals(features: pd.DataFrame | None, accounts: pd.DataFrame) -> str:
    head = '<section id="signals"><h2>Signal distributions: flagged vs unflagged accounts</h2>'
    if features is None or len(features) == 0:
        return head + "<p>No account features.</p></section>"
    ids = features["account_id"] if "account_id" in features.columns else pd.Series(features.index)
    flagged_ids = set(accounts.loc[accounts["flagged"] == 1, "account_id"])
    is_flagged = ids.astype(str).isin(flagged_ids).to_numpy()
    figs = []
    for f in (*ACCOUNT_FEATURES, DISTRIBUTION_FEATURE):
        if f.name in features.columns:
            values = pd.to_numeric(features[f.name], errors="coerce").to_numpy(dtype=float)
            figs.append(_histogram(f, values, is_flagged))
    if not figs:
        return head + "<p>No known feature columns.</p></section>"
    legend = (
        f'<span class="key" style="background:{FLAGGED_COLOUR}"></span>flagged '
        f'({int(is_flagged.sum()):,})<span class="key" style="background:{BENIGN_COLOUR}"></span>'
        f"unflagged ({int((~is_flagged).sum()):,}). Bars are each group's share of its accounts, so "
        "a handful of flagged accounts compare with thousands of others."
    )
    return head + f'<p class="note">{legend}</p><div class="hists">{"".join(figs)}</div></section>'


def _is_heavy(name: str, v: np.ndarray) -> bool:
    if name in LOG_FEATURES:
        return len(v) > 0 and v.min() >= 0
    # Shares live in [0, 1]; only unbounded, skewed counts get a log axis.
    if len(v) == 0 or v.min() < 0 or v.max() < 100:
        return False
    med = float(np.median(v))
    return float(np.quantile(v, 0.99)) > 20 * max(med, 1e-9)


def _histogram(f: Feature, values: np.ndarray, is_flagged: np.ndarray) -> str:
    ok = np.isfinite(values)
    v, fl = values[ok], is_flagged[ok]
    log = _is_heavy(f.name, v)
    t = np.log10(1 + v) if log else v
    reason = REASONS.get(f.name)
    scale = ' <span class="muted">(log scale)</span>' if log else ""
    code = f" (reason <code>{_e(reason)}</code>)" if reason else ""
    direction = "higher" if f.direction > 0 else "lower"
    cap = (
        f"<figcaption><b>{_e(f.name)}</b>{scale}<br>"
        f"{_e(f.description)}; {direction} is more suspicious{code}."
    )
    if len(t) == 0:
        return f'<figure>{cap}<br><span class="muted">no values</span></figcaption></figure>'
    lo, hi = float(t.min()), float(t.max())
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    bins = np.linspace(lo, hi, HIST_BINS + 1)
    hf, _ = np.histogram(t[fl], bins=bins)
    hb, _ = np.histogram(t[~fl], bins=bins)
    sf = hf / max(int(fl.sum()), 1)
    sb = hb / max(int((~fl).sum()), 1)
    width, height, left, right, top, bottom = 320, 120, 34, 16, 8, 22
    pw, ph = width - left - right, height - top - bottom
    ymax = max(float(sf.max()), float(sb.max()), 1e-9)
    bw = pw / HIST_BINS
    base = top + ph

    def bars(shares: np.ndarray, offset: float) -> str:
        d = []
        for i, s in enumerate(shares):
            if s > 0:
                h = max(ph * s / ymax, 0.8)
                d.append(f"M{left + i * bw + offset:.1f},{base:.1f}v{-h:.1f}h{bw / 2 - 0.4:.1f}v{h:.1f}Z")
        return "".join(d)

    def xpos(t_value: float) -> float:
        return left + pw * (t_value - lo) / (hi - lo)

    if log:
        # Round powers of ten read better than bin edges on a log axis.
        ticks = [(math.log10(1 + x), _short(x)) for x in [0.0] + [10.0**k for k in range(-2, 13)]]
        ticks = [(tv, lab) for tv, lab in ticks if lo <= tv <= hi]
        if len(ticks) > 6:
            ticks = ticks[:: math.ceil(len(ticks) / 6)]
    else:
        ticks = [(tv, _short(tv)) for tv in (lo, (lo + hi) / 2, hi)]
    tick_svg = "".join(
        f'<line class="ax" x1="{xpos(tv):.1f}" y1="{base}" x2="{xpos(tv):.1f}" y2="{base + 3}"/>'
        f'<text class="lbl" x="{xpos(tv):.1f}" y="{base + 14}" text-anchor="middle">{lab}</text>'
        for tv, lab in ticks
    )

    meds = []
    for name, mask in (("flagged", fl), ("unflagged", ~fl)):
        if mask.any():
            meds.append(f"{name} {_short(float(np.median(v[mask])))}")
    svg = (
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{_e(f.name)} histogram">'
        f'<path class="hb" d="{bars(sb, 0.0)}"/><path class="hf" d="{bars(sf, bw / 2)}"/>'
        f'<line class="ax" x1="{left}" y1="{base}" x2="{left + pw}" y2="{base}"/>'
        f'<line class="ax" x1="{left}" y1="{top}" x2="{left}" y2="{base}"/>'
        f'<text class="lbl" x="{left - 3}" y="{top + 8}" text-anchor="end">{ymax:.0%}</text>'
        f'<text class="lbl" x="{left - 3}" y="{base}" text-anchor="end">0</text>'
        f"{tick_svg}"
        "</svg>"
    )
    med = f'<br><span class="muted">median: {", ".join(meds)}</span>' if meds else ""
    return f"<figure>{svg}{cap}{med}</figcaption></figure>"
