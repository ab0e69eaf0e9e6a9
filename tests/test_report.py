"""The HTML report: self-contained, escaped, one section per campaign, valid when empty."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from distillguard.features.accounts import ACCOUNT_FEATURES
from distillguard.report.html import (
    MAX_ACCOUNT_NODES,
    MAX_CAMPAIGN_SECTIONS,
    MAX_INDICATOR_NODES,
    render_report,
    write_report,
)
from distillguard.scan import Detection

EVIL = "<script>alert(1)</script>"
EVIL_ATTR = '"><img src=x onerror=alert(2)>'
START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
END = START + dt.timedelta(hours=47, minutes=50)
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# SVG shapes written without children may self-close.
SELF_CLOSING_OK = {"line", "path", "polyline", "rect", "circle"}


class _Page(HTMLParser):
    """Collects tags, attributes and nesting problems of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str | None]] = []
        self.ids: list[str] = []
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for k, v in attrs:
            self.attrs.append((tag, k, v))
            if k == "id" and v is not None:
                self.ids.append(v)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for k, v in attrs:
            self.attrs.append((tag, k, v))
        if tag not in VOID and tag not in SELF_CLOSING_OK:
            self.errors.append(f"self-closed <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    return page


def _features(ids: list[str], flagged: set[str]) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    out = pd.DataFrame({"account_id": ids})
    for i, f in enumerate(ACCOUNT_FEATURES):
        v = rng.lognormal(2, 2, len(ids)) if f.name == "requests_per_day" else rng.random(len(ids))
        out[f.name] = [x * (5 if a in flagged else 1) for x, a in zip(v, ids, strict=True)]
        if i == 3:
            out.loc[0, f.name] = np.nan
    return out


def _campaign(cid: str, accounts: list[str], indicator: str) -> dict:
    hours = [START + dt.timedelta(hours=h) for h in range(0, 48, 2)]
    return {
        "campaign_id": cid,
        "accounts": sorted(accounts),
        "n_accounts": len(accounts),
        "first_seen": START,
        "last_seen": END,
        "requests": 1200,
        "output_tokens": 3_400_000,
        "models": {"model-a": 1000, EVIL: 200},
        "capabilities": {"cot_elicitation": 900},
        "tactics": [
            {
                "tactic": "cot_elicitation",
                "method": "chain-of-thought exfiltration",
                "atlas": ["AML.T0024.002", "AML.T0040"],
                "requests": 900,
            },
            {"tactic": "proxy_rotation", "method": "infrastructure", "atlas": ["AML.T0040"], "accounts": 2},
        ],
        "confidence": 0.9995,
        "evidence": {
            "reasons": {"high_volume": 3, "template_reuse": 2},
            "link_kinds": {"payment": 3, "network": 3},
            "shared_indicators": [{"kind": "network", "indicator": indicator, "accounts": 3}],
            "sample_requests": [
                {
                    "request_id": f"req-{cid}-1",
                    "intent": "cot_elicitation",
                    "p_extract": 0.97,
                    "prompt_head": EVIL_ATTR,
                },
                {
                    "request_id": f"req-{cid}-2",
                    "intent": "synthetic_data",
                    "p_extract": 0.91,
                    "prompt_head": "hi",
                },
            ],
            "hourly_requests": [{"hour": h, "requests": 10 + i} for i, h in enumerate(hours)],
        },
    }


def _detection() -> Detection:
    """Two campaigns (one linked cluster, one singleton), a benign cluster and loners."""
    evil_ind = f"net:{EVIL}"
    ids = [EVIL, "a1", "a2", "solo", "b1", "b2", "b3", "c1", "c2", "c3"]
    flagged = {EVIL, "a1", "a2", "solo"}
    cluster = {EVIL: "k1", "a1": "k1", "a2": "k1", "b1": "k2", "b2": "k2", "b3": "k2"}
    size = {"k1": 3, "k2": 3}
    accounts = pd.DataFrame(
        {
            "account_id": ids,
            "risk": [0.9999 if a in flagged else 0.2 + 0.05 * i for i, a in enumerate(ids)],
            "flagged": [int(a in flagged) for a in ids],
            "account_score": [20.0 if a in flagged else 1.0 for a in ids],
            "p_account": [1e-4 if a in flagged else 0.5 for a in ids],
            "p_cluster": [1e-4 if a in flagged else 1.0 for a in ids],
            "cluster_id": [cluster.get(a, a) for a in ids],
            "cluster_size": [size.get(cluster.get(a, ""), 1) for a in ids],
            "reasons": ["high_volume;linked_cluster" if a in flagged else "" for a in ids],
            "group_activity": [3.0 if a in flagged else 0.1 for a in ids],
        }
    )
    rows = [(a, evil_ind, "network") for a in (EVIL, "a1", "a2")]
    rows += [(a, "pf:card1", "payment") for a in (EVIL, "a1", "a2")]
    rows += [(a, "tpl:abc", "template") for a in ("a1", "a2")]
    rows += [(a, "net:10.0.0", "network") for a in ("b1", "b2", "b3")]
    edges = pa.table(
        {
            "account_id": [r[0] for r in rows],
            "indicator": [r[1] for r in rows],
            "kind": [r[2] for r in rows],
            "weight": [1.0] * len(rows),
            "n_holders": [3] * len(rows),
        }
    )
    campaigns = [_campaign("cmp_aaa", [EVIL, "a1", "a2"], evil_ind), _campaign("cmp_bbb", ["solo"], "pf:x")]
    return Detection(accounts, campaigns, _features(ids, flagged), edges, 12.5, (START, END))


def _empty() -> Detection:
    accounts = pd.DataFrame(
        columns=[
            "account_id",
            "risk",
            "flagged",
            "account_score",
            "p_account",
            "p_cluster",
            "cluster_id",
            "cluster_size",
            "reasons",
        ]
    )
    edges = pa.table(
        {
            "account_id": pa.array([], pa.string()),
            "indicator": pa.array([], pa.string()),
            "kind": pa.array([], pa.string()),
            "weight": pa.array([], pa.float64()),
            "n_holders": pa.array([], pa.int64()),
        }
    )
    return Detection(accounts, [], pd.DataFrame(columns=["account_id"]), edges, float("inf"), (None, None))


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = write_report(_detection(), tmp_path_factory.mktemp("report"), fpr=0.001)
    return path, path.read_text(encoding="utf-8")


def test_writes_one_self_contained_page(page: tuple[Path, str]) -> None:
    path, text = page
    assert path.name == "report.html" and path.exists()
    assert text.startswith("<!DOCTYPE html>")
    assert "http://" not in text and "https://" not in text
    parsed = _parse(text)
    assert not parsed.errors, parsed.errors[:5]
    assert parsed.stack == []
    assert not {"script", "link", "iframe", "img", "object", "embed", "image"} & set(parsed.tags)
    for tag, attr, value in parsed.attrs:
        assert not attr.startswith("on"), (tag, attr)
        if attr in ("href", "src", "xlink:href"):
            assert value is not None and value.startswith("#"), (tag, attr, value)
    assert "@import" not in text and "url(" not in text
    assert "Content-Security-Policy" in text


def test_header_and_campaign_sections(page: tuple[Path, str]) -> None:
    _, text = page
    parsed = _parse(text)
    body = " ".join(parsed.text)
    assert "Accounts scanned" in body and "10" in body
    assert "Flagged accounts" in body and "4 (40.00%)" in body
    assert "0.001" in body and "12.500" in body
    assert "2026-03-01 00:00" in body and "2026-03-02 23:50" in body
    # One section per campaign, each linked from the campaign table.
    sections = re.findall(r'<section class="campaign" id="([^"]+)"', text)
    assert len(sections) == 2
    for anchor in sections:
        assert f'href="#{anchor}"' in text
    assert len(set(parsed.ids)) == len(parsed.ids)
    assert "AML.T0024.002" in text and "chain-of-thought exfiltration" in text
    assert "req-cmp_aaa-1" in text and "0.970" in text
    assert "model-a" in text and "1,200" in text and "3,400,000" in text


def test_draws_timelines_graph_and_histograms(page: tuple[Path, str]) -> None:
    _, text = page
    timelines = text.split('id="timelines"')[1].split("</section>")[0]
    assert timelines.count("<svg") == 2
    assert "req / hour" in timelines and "03-01" in timelines
    graph = text.split('id="graph"')[1].split("</section>")[0]
    assert graph.count('class="af"') == 4  # every flagged account, the unlinked one included
    assert graph.count('class="ab"') == 3  # the benign cluster as context; loners are left out
    assert "network indicator" in graph and "payment indicator" in graph
    signals = text.split('id="signals"')[1].split("</section>")[0]
    assert signals.count("<figure>") == len(ACCOUNT_FEATURES)
    for f in ACCOUNT_FEATURES:
        assert f.description.replace("'", "&#x27;") in signals
    figures = {re.search(r"<b>(\w+)</b>", f).group(1): f for f in signals.split("<figure>")[1:]}
    assert "(log scale)" in figures["requests_per_day"]
    assert "(log scale)" not in figures["hour_coverage"]


def test_escapes_attacker_controlled_strings(page: tuple[Path, str]) -> None:
    _, text = page
    assert EVIL not in text and EVIL_ATTR not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "net:&lt;script&gt;alert(1)&lt;/script&gt;" in text  # the indicator
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in text  # the prompt head
    parsed = _parse(text)
    assert "script" not in parsed.tags and "img" not in parsed.tags
    # Escaped in the graph's tooltips too, not only in tables.
    graph = text.split('id="graph"')[1].split("</section>")[0]
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt;" in graph


def test_same_input_same_bytes() -> None:
    assert render_report(_detection(), fpr=0.001) == render_report(_detection(), fpr=0.001)


def test_empty_scan_is_a_valid_page(tmp_path: Path) -> None:
    text = write_report(_empty(), tmp_path).read_text(encoding="utf-8")
    parsed = _parse(text)
    assert not parsed.errors and parsed.stack == []
    body = " ".join(parsed.text)
    assert "No campaigns" in body and "No accounts scanned" in body and "No account features" in body
    assert "no requests" in body and "not recorded" in body


def test_no_edges_and_no_campaigns(tmp_path: Path) -> None:
    det = _detection()
    det.edges = det.edges.slice(0, 0)
    det.campaigns = []
    det.accounts["flagged"] = 0
    det.window = (None, None)
    text = write_report(det, tmp_path).read_text(encoding="utf-8")
    parsed = _parse(text)
    assert not parsed.errors
    body = " ".join(parsed.text)
    assert "No linkage edges" in body and "No campaigns" in body and "No flagged accounts" in body
    assert text.count("<figure>") == len(ACCOUNT_FEATURES)


def test_graph_is_capped_and_says_so() -> None:
    n = 3000
    ids = [f"x{i:04d}" for i in range(n)]
    accounts = pd.DataFrame(
        {
            "account_id": ids,
            "risk": 0.999,
            "flagged": 1,
            "cluster_id": "big",
            "cluster_size": n,
            "reasons": "linked_cluster",
        }
    )
    inds = [f"sync:{w}" for w in range(400)]
    rows = [(a, inds[(i * 7 + k) % 400]) for i, a in enumerate(ids) for k in range(3)]
    edges = pa.table(
        {
            "account_id": [r[0] for r in rows],
            "indicator": [r[1] for r in rows],
            "kind": ["sync"] * len(rows),
            "weight": [0.1] * len(rows),
            "n_holders": [11] * len(rows),
        }
    )
    det = Detection(accounts, [], pd.DataFrame({"account_id": ids}), edges, 10.0, (START, END))
    text = render_report(det)
    graph = text.split('id="graph"')[1].split("</section>")[0]
    assert graph.count('class="af"') == MAX_ACCOUNT_NODES
    assert graph.count("<title>") <= MAX_ACCOUNT_NODES + MAX_INDICATOR_NODES
    assert f"{MAX_ACCOUNT_NODES:,} of {n:,} accounts" in graph
    assert "sampled deterministically" in graph
    assert len(text.encode()) < 3_000_000


def test_many_campaigns_are_capped() -> None:
    det = _detection()
    det.campaigns = [_campaign(f"cmp_{i:04d}", [f"s{i}"], "pf:x") for i in range(MAX_CAMPAIGN_SECTIONS + 5)]
    text = render_report(det)
    assert text.count('<section class="campaign"') == MAX_CAMPAIGN_SECTIONS
    assert f"The first {MAX_CAMPAIGN_SECTIONS:,} of {MAX_CAMPAIGN_SECTIONS + 5:,} campaigns" in text
    assert "cmp_0204" in text.split('id="campaigns"')[1].split("</section>")[0]
    assert not _parse(text).errors


def test_renders_in_headless_chromium(page: tuple[Path, str]) -> None:
    browser = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
    if browser is None:
        pytest.skip("no headless Chromium on this machine")
    path, _ = page
    args = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", path.as_uri()]
    dom = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True).stdout
    assert "<svg" in dom and "distillguard scan report" in dom
    assert "<script" not in dom
