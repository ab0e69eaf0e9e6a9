"""Per-account behaviour over a time window, as Ibis expressions (DuckDB by default, PySpark at scale).

Input: the per-request feature table (``features.requests``) and, when available, the accounts
table. Output: one row per account with the columns in ``ACCOUNT_FEATURES``; each is documented
there with the direction in which it looks like distillation. None of them is decisive alone:
benign batch jobs have volume, monitoring agents have a 24/7 duty cycle, tutoring apps have
step-by-step prompts. Scoring combines them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
from ibis import _


@dataclass(frozen=True)
class Feature:
    """One account feature: its column, families, suspicious direction and meaning.

    ``family`` is the signal family an ablation switches off; ``group`` is the evidence group the
    scorer treats as independent of the others under benign use (features that move together for
    legitimate reasons, like a batch job's volume and its template reuse, share a group; so do
    onboarding and activity: automation starts at full rate and evaluates every new model on its
    release day, as benchmark harnesses do).
    """

    name: str
    family: str  # content | templates | behaviour | distribution
    group: str  # activity | content | network | distribution
    direction: int  # +1: higher is more suspicious; -1: lower is
    description: str


def _f(name: str, family: str, group: str, direction: int, description: str) -> Feature:
    return Feature(name, family, group, direction, description)


ACCOUNT_FEATURES: tuple[Feature, ...] = (
    _f("requests_per_day", "behaviour", "activity", +1, "requests per day the account was active"),
    _f("output_tokens_per_day", "behaviour", "activity", +1, "output tokens harvested per active day"),
    _f(
        "hour_coverage",
        "behaviour",
        "activity",
        +1,
        "share of the 24 hours of the day with activity (duty cycle)",
    ),
    _f(
        "active_hour_share",
        "behaviour",
        "activity",
        +1,
        "share of hours between first and last request with activity",
    ),
    _f("longest_idle_hours", "behaviour", "activity", -1, "longest gap between two requests (humans sleep)"),
    _f(
        "hour_entropy",
        "behaviour",
        "activity",
        +1,
        "entropy of the hour-of-day histogram (flat = machine-driven)",
    ),
    _f("max_per_minute", "behaviour", "activity", +1, "peak requests in one minute (concurrency)"),
    _f(
        "param_top_share",
        "behaviour",
        "activity",
        +1,
        "share of requests with the most common sampling settings",
    ),
    _f("single_turn_share", "behaviour", "activity", +1, "share of requests without prior assistant turns"),
    _f("tool_share", "behaviour", "activity", +1, "share of requests with tool definitions or tool results"),
    _f(
        "first_day_share",
        "behaviour",
        "activity",
        +1,
        "share of the daily rate reached in the first 24 h (no ramp)",
    ),
    _f(
        "new_model_share",
        "behaviour",
        "activity",
        +1,
        "share of traffic on a newly seen model in its first 24 h",
    ),
    _f(
        "refusal_share",
        "behaviour",
        "network",
        +1,
        "share of requests refused with 400/403 (technique search)",
    ),
    _f(
        "ips_per_day",
        "behaviour",
        "network",
        +1,
        "distinct client IPs per active day (relays, proxy rotation)",
    ),
    _f("user_agents", "behaviour", "network", +1, "distinct user agents (relays forward many clients)"),
    _f(
        "extract_share",
        "content",
        "content",
        +1,
        "share of requests the intent classifier marks as extraction",
    ),
    _f("mean_p_extract", "content", "content", +1, "mean extraction probability"),
    _f("intent_focus", "content", "content", +1, "share of extraction requests in the top extraction family"),
    _f("template_top_share", "templates", "activity", +1, "share of requests from the most used template"),
    _f("template_diversity", "templates", "activity", -1, "distinct templates per request"),
    _f("system_top_share", "templates", "activity", +1, "share of requests with the most used system prompt"),
)

EXTRACT_THRESHOLD = 0.5


def with_request_columns(r: ir.Table) -> ir.Table:
    """Add the derived per-request columns the account features group over."""
    ip = r.ip.fill_null("")
    prefix = ibis.ifelse(
        ip.contains(":"),
        ip.re_extract(r"^([0-9a-fA-F]*:[0-9a-fA-F]*:[0-9a-fA-F]*)", 1),
        ip.re_extract(r"^(\d+\.\d+\.\d+)\.", 1),
    )
    params = ibis.literal("t=").concat(
        r.temperature.cast("string").fill_null("-"),
        ";m=",
        r.max_tokens.cast("string").fill_null("-"),
        ";p=",
        r.top_p.cast("string").fill_null("-"),
        ";e=",
        r.reasoning_effort.fill_null("-"),
        ";s=",
        r.stream.cast("string").fill_null("-"),
    )
    # epoch_seconds() is typed int32 but returns fractions on some engines: pin it to float64.
    epoch = r.ts.epoch_seconds().cast("float64")
    return r.mutate(
        epoch=epoch,
        hour_bucket=(epoch // 3600).cast("int64"),
        minute_bucket=(epoch // 60).cast("int64"),
        hod=r.ts.hour(),
        ip_prefix=prefix,
        param_combo=params,
        is_extract=(r.p_extract >= EXTRACT_THRESHOLD).cast("int32"),
        is_single=(r.n_assistant == 0).cast("int32"),
        is_tool=((r.tools.fill_null(0) > 0) | (r.n_tool_messages > 0)).cast("int32"),
        is_refused=r.status.isin([400, 403]).fill_null(False).cast("int32"),
    )


def left_join_on_account(left: ir.Table, right: ir.Table) -> ir.Table:
    """Left-join on account_id keeping one key column (Ibis keeps both sides' keys on outer joins)."""
    right = right.rename(_right_account="account_id")
    return left.left_join(right, left.account_id == right._right_account).drop("_right_account")


def _top_share(r: ir.Table, column: str, name: str) -> ir.Table:
    counts = r.group_by(["account_id", column]).aggregate(c=_.count())
    return counts.group_by("account_id").aggregate(**{name: _.c.max()})


def account_features(
    requests: ir.Table,
    *,
    new_model: tuple[str, dt.datetime] | None = None,
) -> ir.Table:
    """One row per account with every feature in ``ACCOUNT_FEATURES`` plus identity columns."""
    r = with_request_columns(requests)
    w = ibis.window(group_by="account_id", order_by="epoch")
    gaps = r.mutate(gap=r.epoch - r.epoch.lag().over(w))
    base = gaps.group_by("account_id").aggregate(
        n_requests=_.count(),
        first_seen=_.ts.min(),
        last_seen=_.ts.max(),
        first_epoch=_.epoch.min(),
        last_epoch=_.epoch.max(),
        output_tokens=_.output_tokens.sum(),
        active_hours=_.hour_bucket.nunique(),
        hours_of_day=_.hod.nunique(),
        longest_gap=_.gap.max(),
        n_extract=_.is_extract.sum(),
        mean_p_extract=_.p_extract.mean(),
        n_single=_.is_single.sum(),
        n_tool=_.is_tool.sum(),
        n_refused=_.is_refused.sum(),
        distinct_ips=_.ip.nunique(),
        distinct_prefixes=_.ip_prefix.nunique(),
        distinct_uas=_.user_agent.nunique(),
        distinct_templates=_.template_id.nunique(),
        active_days=(_.epoch // 86400).nunique(),
    )
    hod = r.group_by(["account_id", "hod"]).aggregate(c=_.count())
    hod_tot = hod.group_by("account_id").aggregate(tot=_.c.sum())
    hod = hod.join(hod_tot, "account_id")
    entropy = (
        hod.mutate(p=hod.c / hod.tot).group_by("account_id").aggregate(hour_entropy=(-(_.p * _.p.ln())).sum())
    )
    per_minute = (
        r.group_by(["account_id", "minute_bucket"])
        .aggregate(c=_.count())
        .group_by("account_id")
        .aggregate(max_per_minute=_.c.max())
    )
    first_day = (
        r.join(base.select("account_id", "first_epoch"), "account_id")
        .filter(lambda t: t.epoch < t.first_epoch + 86400)
        .group_by("account_id")
        .aggregate(first_day_n=_.count())
    )
    intents = (
        r.filter(r.is_extract == 1)
        .group_by(["account_id", "intent"])
        .aggregate(c=_.count())
        .group_by("account_id")
        .aggregate(top_intent_n=_.c.max())
    )
    feats = base
    for extra in (
        entropy,
        per_minute,
        first_day,
        intents,
        _top_share(r, "param_combo", "param_top_n"),
        _top_share(r, "template_id", "template_top_n"),
        _top_share(r.filter(r.system_id != 0), "system_id", "system_top_n"),
    ):
        feats = left_join_on_account(feats, extra)
    if new_model is not None:
        name, released = new_model
        rel = released.timestamp()
        window = r.filter((r.epoch >= rel) & (r.epoch < rel + 86400))
        nm = window.group_by("account_id").aggregate(
            nm_total=_.count(), nm_new=(_.model == name).cast("int64").sum()
        )
        feats = left_join_on_account(feats, nm)
    span_days = ((feats.last_epoch - feats.first_epoch) / 86400).clip(lower=1.0 / 24)
    days = feats.active_days.cast("float64")
    out = feats.mutate(
        requests_per_day=feats.n_requests / days,
        output_tokens_per_day=feats.output_tokens.fill_null(0) / days,
        hour_coverage=feats.hours_of_day / 24.0,
        active_hour_share=(feats.active_hours / (span_days * 24).ceil().clip(lower=1)).clip(upper=1.0),
        longest_idle_hours=feats.longest_gap.fill_null(0) / 3600.0,
        first_day_share=(feats.first_day_n / (feats.n_requests / span_days.clip(lower=1.0))).clip(upper=2.0),
        param_top_share=feats.param_top_n / feats.n_requests,
        single_turn_share=feats.n_single / feats.n_requests,
        tool_share=feats.n_tool / feats.n_requests,
        refusal_share=feats.n_refused / feats.n_requests,
        ips_per_day=feats.distinct_ips / days,
        user_agents=feats.distinct_uas.cast("float64"),
        system_top_share=feats.system_top_n.fill_null(0) / feats.n_requests,
        extract_share=feats.n_extract / feats.n_requests,
        intent_focus=(feats.top_intent_n.fill_null(0) / feats.n_extract.clip(lower=1)),
        template_top_share=feats.template_top_n / feats.n_requests,
        template_diversity=feats.distinct_templates / feats.n_requests,
    )
    if new_model is not None:
        out = out.mutate(
            new_model_share=(out.nm_new.fill_null(0) / out.nm_total.clip(lower=1)).cast("float64")
        )
    else:
        out = out.mutate(new_model_share=ibis.literal(0.0))
    return out


def newly_seen_model(requests: ir.Table, *, settle_hours: float = 12.0) -> ir.Table:
    """Models whose first request comes ``settle_hours`` after the window opens, oldest first."""
    start = requests.ts.min().as_scalar()
    firsts = requests.group_by("model").aggregate(first_seen=_.ts.min(), n=_.count())
    return firsts.filter(
        firsts.first_seen.epoch_seconds().cast("float64")
        > start.epoch_seconds().cast("float64") + settle_hours * 3600
    ).order_by("first_seen")
