"""Linkage evidence between accounts, as Ibis expressions: who shares what with whom.

The account graph is bipartite: accounts link to *indicator* nodes (a payment fingerprint, a /24
network, a sign-up hour, a template band key, a synchronised-activity minute). A shared value then
costs one edge per account instead of one per pair, so a card shared by 20,000 accounts stays
linear. Each edge carries a weight in [0, 1] and a ``kind``:

- ``payment``: the same payment fingerprint (weight 1);
- ``network``: the same /24 (IPv6 /48) prefix; weight = the account's share of requests from it;
- ``signup``: created in the same hour as at least ``burst_size - 1`` other accounts;
- ``template``: the same template LSH band key; weight = share of the account's requests with it;
- ``sync``: active in a minute when unusually many accounts start at once (an orchestrator's
  wave); weight = 1 / the account's active minutes, so the total is its share of waves.

Values that many unrelated accounts share are discounted by ``discount``: a value held by more than
``max_share`` of all accounts (a generic system prompt, a public cloud's NAT) is dropped, and the
rest are weighted by how concentrated the value is in the accounts that use it.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
from ibis import _

EDGE_KINDS = ("payment", "network", "signup", "template", "sync")


@dataclass(frozen=True)
class LinkageConfig:
    """Thresholds of the linkage stage."""

    min_share: float = 0.1  # an account must use a network/template value this often to link by it
    max_share: float = 0.5  # values held by more than this share of all accounts are too common to link
    burst_size: int = 5  # accounts created in one hour that make a sign-up burst
    sync_bucket_s: int = 120
    sync_sigma: float = 4.0  # how far above the typical number of accounts a wave bucket must be
    sync_min_share: float = 0.5  # share of an account's active buckets that must be waves
    sync_min_waves: int = 3  # and at least this many, so a chance overlap of a quiet account does not count
    kinds: tuple[str, ...] = EDGE_KINDS


def _cap(edges: ir.Table, n_accounts: ir.Scalar, cfg: LinkageConfig) -> ir.Table:
    """Keep indicator values shared by 2+ accounts but not by a large share of everyone."""
    sizes = edges.group_by("indicator").aggregate(n_holders=_.account_id.nunique())
    sizes = sizes.filter((sizes.n_holders >= 2) & (sizes.n_holders <= n_accounts * cfg.max_share))
    return edges.join(sizes, "indicator").select("account_id", "indicator", "kind", "weight", "n_holders")


def payment_edges(accounts: ir.Table) -> ir.Table:
    """Accounts paying with the same instrument."""
    a = accounts.filter(accounts.payment_fingerprint.notnull())
    return a.select(
        "account_id",
        indicator=ibis.literal("pf:").concat(a.payment_fingerprint),
        kind=ibis.literal("payment"),
        weight=ibis.literal(1.0),
    )


def signup_edges(accounts: ir.Table, cfg: LinkageConfig) -> ir.Table:
    """Accounts created in the same hour as a burst of others."""
    a = accounts.mutate(hour=(accounts.created_at.epoch_seconds() // 3600).cast("int64"))
    bursts = a.group_by("hour").aggregate(n=_.count()).filter(_.n >= cfg.burst_size)
    a = a.join(bursts, "hour")
    return a.select(
        "account_id",
        indicator=ibis.literal("su:").concat(a.hour.cast("string")),
        kind=ibis.literal("signup"),
        weight=ibis.literal(1.0),
    )


def network_edges(requests: ir.Table, cfg: LinkageConfig) -> ir.Table:
    """Accounts sending from the same /24 (or IPv6 /48)."""
    totals = requests.group_by("account_id").aggregate(n=_.count())
    per = (
        requests.filter(requests.ip_prefix != "").group_by(["account_id", "ip_prefix"]).aggregate(c=_.count())
    )
    per = per.join(totals, "account_id")
    per = per.mutate(weight=per.c / per.n).filter(_.weight >= cfg.min_share)
    return per.select(
        "account_id",
        indicator=ibis.literal("ip:").concat(per.ip_prefix),
        kind=ibis.literal("network"),
        weight=per.weight,
    )


def template_edges(requests: ir.Table, keys: ir.Table, cfg: LinkageConfig) -> ir.Table:
    """Accounts whose prompts share template band keys."""
    totals = requests.group_by("account_id").aggregate(n=_.count())
    k = keys.join(requests.select("request_id", "account_id"), "request_id")
    per = k.group_by(["account_id", "part", "key"]).aggregate(c=_.request_id.nunique())
    per = per.join(totals, "account_id")
    per = per.mutate(weight=per.c / per.n).filter(_.weight >= cfg.min_share)
    return per.select(
        "account_id",
        indicator=ibis.literal("tk:").concat(per.part.cast("string"), ":", per.key.cast("string")),
        kind=ibis.literal("template"),
        weight=per.weight,
    )


def sync_edges(requests: ir.Table, cfg: LinkageConfig) -> ir.Table:
    """Accounts that repeatedly start in the same unusually crowded minutes (orchestrated waves)."""
    b = requests.mutate(bucket=(requests.epoch // cfg.sync_bucket_s).cast("int64"))
    per_bucket = b.group_by("bucket").aggregate(accounts=_.account_id.nunique())
    # Typical crowd size around each bucket: the median over the surrounding hour.
    span = 3600 // cfg.sync_bucket_s
    w = ibis.window(order_by="bucket", preceding=span, following=span)
    per_bucket = per_bucket.mutate(typical=per_bucket.accounts.median().over(w))
    hot = per_bucket.filter(
        per_bucket.accounts > per_bucket.typical + cfg.sync_sigma * per_bucket.typical.sqrt() + 3
    ).select("bucket")
    acct_buckets = b.select("account_id", "bucket").distinct()
    active = acct_buckets.group_by("account_id").aggregate(n_buckets=_.count())
    in_hot = acct_buckets.join(hot, "bucket")
    hot_count = in_hot.group_by("account_id").aggregate(n_hot=_.count())
    syncers = active.join(hot_count, "account_id").filter(
        (_.n_hot / _.n_buckets >= cfg.sync_min_share) & (_.n_hot >= cfg.sync_min_waves)
    )
    e = in_hot.join(syncers, "account_id")
    return e.select(
        "account_id",
        indicator=ibis.literal("sy:").concat(e.bucket.cast("string")),
        kind=ibis.literal("sync"),
        weight=(1.0 / e.n_buckets).cast("float64"),
    )


def linkage_edges(
    requests: ir.Table, accounts: ir.Table | None, keys: ir.Table, cfg: LinkageConfig | None = None
) -> ir.Table:
    """Every account-to-indicator edge of the kinds enabled in ``cfg``, with common values removed."""
    cfg = cfg or LinkageConfig()
    parts: list[ir.Table] = []
    if accounts is not None and "payment" in cfg.kinds:
        parts.append(payment_edges(accounts))
    if accounts is not None and "signup" in cfg.kinds:
        parts.append(signup_edges(accounts, cfg))
    if "network" in cfg.kinds:
        parts.append(network_edges(requests, cfg))
    if "template" in cfg.kinds:
        parts.append(template_edges(requests, keys, cfg))
    if "sync" in cfg.kinds:
        parts.append(sync_edges(requests, cfg))
    if not parts:
        return ibis.memtable(
            {"account_id": [], "indicator": [], "kind": [], "weight": [], "n_holders": []},
            schema={
                "account_id": "string",
                "indicator": "string",
                "kind": "string",
                "weight": "float64",
                "n_holders": "int64",
            },
        )
    # One nullable schema for every part, so the union type-checks on every engine.
    common = [
        p.select(
            account_id=p.account_id.cast("string"),
            indicator=p.indicator.cast("string"),
            kind=p.kind.cast("string"),
            weight=p.weight.cast("float64"),
        )
        for p in parts
    ]
    edges = ibis.union(*common, distinct=False)
    n_accounts = requests.account_id.nunique().as_scalar()
    return _cap(edges, n_accounts, cfg)
