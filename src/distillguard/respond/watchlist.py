"""What detection and partners already know, loaded into the online service: the feedback loop.

``Watchlist.from_scan(DIR)`` reads a ``distillguard scan`` output directory: ``accounts.csv`` gives
each account's risk, flag, cluster, campaign and reason codes; ``campaigns.json`` gives each
campaign's shared template indicators (``tk:<part>:<band key>``), the same band keys that
``kernels.templates.fingerprint`` computes online, so a request built from a campaign's template
matches even when it comes from a fresh account. Partner sightings (``--sightings FILE``, JSON
lines of ``{"indicator": "account:<id>" | "key:<id>" | "ip:<addr>" | "tk:<part>:<key>",
"count": n}``) add to ``partner_sightings``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


class WatchlistError(ValueError):
    """A scan output or sightings file cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class AccountIntel:
    """What the last scan said about one account."""

    risk: float
    flagged: bool
    cluster: str
    campaign: str
    reasons: frozenset[str]


@dataclass
class Watchlist:
    """Scan results and partner sightings, looked up per request."""

    accounts: dict[str, AccountIntel] = field(default_factory=dict)
    templates: dict[tuple[str, int], str] = field(default_factory=dict)  # (part, key) -> campaign
    sightings: dict[str, int] = field(default_factory=dict)  # indicator -> count
    sources: list[str] = field(default_factory=list)

    def account(self, account_id: str) -> AccountIntel | None:
        """The scan's view of an account, or None if it was not scanned."""
        return self.accounts.get(account_id)

    def template_campaigns(self, keys: Mapping[str, Sequence[int]]) -> set[str]:
        """Campaigns whose template indicators share a band key with this request."""
        if not self.templates:
            return set()
        hits = set()
        for part, band_keys in keys.items():
            for k in band_keys:
                c = self.templates.get((part, k))
                if c is not None:
                    hits.add(c)
        return hits

    def sightings_for(
        self, account_id: str, api_key_id: str | None, ip: str | None, keys: Mapping[str, Sequence[int]]
    ) -> int:
        """Partner sightings of any indicator of this request."""
        if not self.sightings:
            return 0
        s = self.sightings
        n = s.get(f"account:{account_id}", 0)
        if api_key_id:
            n += s.get(f"key:{api_key_id}", 0)
        if ip:
            n += s.get(f"ip:{ip}", 0)
        for part, band_keys in keys.items():
            for k in band_keys:
                n += s.get(f"tk:{part}:{k}", 0)
        return n

    def summary(self) -> dict[str, int]:
        """Counts of what is loaded."""
        return {
            "accounts": len(self.accounts),
            "flagged": sum(a.flagged for a in self.accounts.values()),
            "campaign_accounts": sum(bool(a.campaign) for a in self.accounts.values()),
            "template_keys": len(self.templates),
            "sightings": len(self.sightings),
        }

    @classmethod
    def load(cls, scan_dir: str | Path | None = None, sightings: str | Path | None = None) -> Watchlist:
        """A watchlist from a scan output directory and/or a sightings file (either may be None)."""
        w = cls()
        if scan_dir is not None:
            w.add_scan(scan_dir)
        if sightings is not None:
            w.add_sightings(sightings)
        return w

    def add_scan(self, scan_dir: str | Path) -> None:
        """Add ``accounts.csv`` and ``campaigns.json`` of a scan output directory."""
        d = Path(scan_dir)
        acc_path, camp_path = d / "accounts.csv", d / "campaigns.json"
        if not acc_path.is_file():
            raise WatchlistError(f"{d}: not a scan output directory (no accounts.csv)")
        with acc_path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            need = {"account_id", "risk", "flagged", "cluster_id", "campaign_id", "reasons"}
            missing = need - set(reader.fieldnames or ())
            if missing:
                raise WatchlistError(f"{acc_path}: missing column(s) {', '.join(sorted(missing))}")
            for line, row in enumerate(reader, start=2):
                try:
                    risk = float(row["risk"])
                    flagged = row["flagged"].strip() in ("1", "true", "True")
                except (TypeError, ValueError):
                    raise WatchlistError(
                        f"{acc_path}:{line}: risk: expected a number, got {row['risk']!r}"
                    ) from None
                reasons = frozenset(r for r in (row["reasons"] or "").split(";") if r)
                self.accounts[row["account_id"]] = AccountIntel(
                    risk, flagged, row["cluster_id"] or "", row["campaign_id"] or "", reasons
                )
        if camp_path.is_file():
            try:
                doc = json.loads(camp_path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise WatchlistError(f"{camp_path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
            for i, c in enumerate(doc.get("campaigns", [])):
                cid = c.get("campaign_id")
                if not cid:
                    raise WatchlistError(f"{camp_path}: campaigns[{i}]: missing campaign_id")
                for ind in c.get("evidence", {}).get("shared_indicators", []):
                    if ind.get("kind") == "template":
                        part, key = _template_indicator(
                            ind.get("indicator", ""), f"{camp_path}: campaigns[{i}]"
                        )
                        self.templates[(part, key)] = cid
        self.sources.append(str(d))

    def add_campaign_templates(
        self, logs: Sequence[str | Path], min_accounts: int = 3, max_other_accounts: int = 1
    ) -> int:
        """Learn every template band key that campaign members share from the scanned logs.

        ``campaigns.json`` lists only a campaign's top indicators. Reading the logs that were
        scanned, a key used by at least ``min_accounts`` members of one campaign and by at most
        ``max_other_accounts`` accounts outside every campaign becomes an indicator of it; the
        second bound keeps common phrasing ("think step by step") from tagging ordinary users.
        Returns how many keys were added. Call after ``add_scan``.
        """
        from distillguard.io.readers import read_batches
        from distillguard.kernels.templates import template_keys

        campaign_of = {a: i.campaign for a, i in self.accounts.items() if i.campaign}
        members: dict[tuple[str, int, str], set[str]] = {}
        others: dict[tuple[str, int], set[str]] = {}
        for path in logs:
            for result in read_batches(path, "requests"):
                batch = result.batch
                if not batch.num_rows:
                    continue
                account_of = dict(
                    zip(
                        batch.column("request_id").to_pylist(),
                        batch.column("account_id").to_pylist(),
                        strict=True,
                    )
                )
                keys = template_keys(batch.select(["request_id", "messages"]))
                for rid, part, key in zip(
                    keys.column("request_id").to_pylist(),
                    keys.column("part").to_pylist(),
                    keys.column("key").to_pylist(),
                    strict=True,
                ):
                    account = account_of[rid]
                    campaign = campaign_of.get(account)
                    if campaign:
                        members.setdefault((part, key, campaign), set()).add(account)
                    else:
                        others.setdefault((part, key), set()).add(account)
        added = 0
        for (part, key, campaign), accounts in members.items():
            if len(accounts) >= min_accounts and len(others.get((part, key), ())) <= max_other_accounts:
                if (part, key) not in self.templates:
                    added += 1
                self.templates[(part, key)] = campaign
        self.sources.extend(str(p) for p in logs)
        return added

    def add_sightings(self, path: str | Path) -> None:
        """Add partner sightings from a JSON lines file."""
        p = Path(path)
        try:
            lines = p.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise WatchlistError(f"{p}: cannot read: {exc.strerror or exc}") from None
        for n, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                raise WatchlistError(f"{p}:{n}: invalid JSON: {exc.msg}") from None
            ind = obj.get("indicator") if isinstance(obj, dict) else None
            if not isinstance(ind, str) or ":" not in ind:
                raise WatchlistError(f"{p}:{n}: indicator: expected text like 'account:<id>', got {ind!r}")
            count = obj.get("count", 1)
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise WatchlistError(f"{p}:{n}: count: expected a non-negative integer, got {count!r}")
            if ind.startswith("tk:"):
                part, key = _template_indicator(ind, f"{p}:{n}")
                ind = f"tk:{part}:{key}"
            self.sightings[ind] = self.sightings.get(ind, 0) + count
        self.sources.append(str(p))


def _template_indicator(text: str, where: str) -> tuple[str, int]:
    bits = text.split(":")
    if len(bits) != 3 or bits[0] != "tk":
        raise WatchlistError(f"{where}: template indicator {text!r} is not tk:<part>:<key>")
    try:
        return bits[1], int(bits[2])
    except ValueError:
        raise WatchlistError(f"{where}: template indicator {text!r} has a non-integer key") from None
