"""``distillguard share ...``: export, serve, pull, push, hunt and match shared distillation intelligence."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from distillguard.cli.common import QuietOption, err, fail, out, progress

share_app = typer.Typer(
    name="share",
    help="Share distillation intelligence with partner providers (STIX 2.1 over TAXII 2.1).",
    no_args_is_help=True,
)

KeyringOption = typer.Option(
    ..., "--keyring", "-k", help="Sharing-group keyring (JSON; create with `distillguard share keygen`)."
)


@share_app.command("keygen")
def keygen(
    keyring: Path = typer.Argument(..., help="Keyring file to create, or to rotate when it exists."),
    group: str = typer.Option("forum", "--group", help="Sharing group name (new keyrings only)."),
) -> None:
    """Create a sharing-group keyring, or rotate its key (old keys stay to match old indicators).

    Example:

        distillguard share keygen group.keys.json --group forum
    """
    from distillguard.share.keys import Keyring, KeyringError

    try:
        ring = Keyring.load(keyring) if keyring.exists() else None
        if ring is None:
            ring = Keyring.new(group)
            action = "created"
        else:
            ring.rotate()
            action = "rotated"
    except KeyringError as e:
        raise fail(str(e)) from e
    ring.save(keyring)
    err.print(f"{action} {keyring}: active key {ring.active} ({len(ring.keys)} keys); keep it secret")


@share_app.command("export")
def export(
    campaigns: Path = typer.Argument(..., help="campaigns.json written by `distillguard scan`."),
    keyring: Path = KeyringOption,
    producer: str = typer.Option(
        ..., "--producer", "-p", help="Your organisation's name as partners see it."
    ),
    tlp_level: str = typer.Option(
        "amber+strict", "--tlp", help="TLP 2.0 level: clear, green, amber, amber+strict, red."
    ),
    out_path: Path = typer.Option(Path("bundle.json"), "--out", "-o", help="Bundle file to write."),
    min_confidence: float = typer.Option(
        0.0, "--min-confidence", help="Leave out campaigns below this (0-1)."
    ),
    requests_path: Path | None = typer.Option(
        None,
        "--requests",
        help="Our request log: adds keyed hashes of user agents only campaign accounts send.",
    ),
) -> None:
    """Export campaigns as a STIX 2.1 bundle, redacted and checked before it is written.

    Example:

        distillguard share export runs/scan/campaigns.json -k group.keys.json -p "Provider A" -o a.json
    """
    from distillguard.share import tlp
    from distillguard.share.conformance import validator_errors
    from distillguard.share.export import CampaignFileError, build_bundle, load_campaigns
    from distillguard.share.keys import Keyring, KeyringError
    from distillguard.share.redact import RedactionError, check_bundle

    try:
        tlp.normalise(tlp_level)
        ring = Keyring.load(keyring)
        items = [c for c in load_campaigns(campaigns) if float(c.get("confidence", 0)) >= min_confidence]
    except (ValueError, KeyringError, CampaignFileError) as e:
        raise fail(str(e)) from e
    secrets: list[str] = []
    if requests_path is not None:
        from distillguard.share.export import campaign_user_agents
        from distillguard.share.retrohunt import read_requests

        if not requests_path.exists():
            raise fail(f"{requests_path}: no such file")
        agents = campaign_user_agents(items, read_requests(requests_path))
        for c in items:
            c["user_agents"] = agents.get(c["campaign_id"], [])
            secrets += c["user_agents"]
    bundle = build_bundle(items, ring, producer, tlp_level)
    # Everything local the campaigns mention is secret: no account or request id may leave.
    secrets += [a for c in items for a in c.get("accounts", [])]
    for c in items:
        for s in c.get("evidence", {}).get("sample_requests", []):
            secrets += [str(s.get("request_id", "")), str(s.get("prompt_head", ""))]
    try:
        check_bundle(bundle, secrets=secrets, producers=[producer])
    except RedactionError as e:
        raise fail(f"refusing to export: {e}") from e
    errors = validator_errors(bundle)
    if errors:
        raise fail("stix2-validator rejects the bundle: " + "; ".join(errors[:5]))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(bundle, indent=1) + "\n")
    n = sum(o["type"] == "indicator" for o in bundle["objects"])
    out.print(f"wrote {out_path}: {len(items)} campaigns, {n} indicators, {len(bundle['objects'])} objects")


@share_app.command("check")
def check(
    bundle: Path = typer.Argument(..., help="STIX bundle (JSON) to check."),
    producer: list[str] = typer.Option([], "--producer", "-p", help="Producer names allowed in identities."),
) -> None:
    """Check a bundle: redaction gate, stix2-validator (strict) and stix2.parse (no custom content).

    Example:

        distillguard share check a.json
    """
    from distillguard.share.conformance import parse_strict, validator_errors
    from distillguard.share.redact import RedactionError, check_bundle

    try:
        data = json.loads(bundle.read_text())
    except FileNotFoundError as e:
        raise fail(f"{bundle}: no such file") from e
    except json.JSONDecodeError as e:
        raise fail(f"{bundle}: line {e.lineno}: not JSON ({e.msg})") from e
    problems = []
    try:
        check_bundle(data, producers=producer)
    except RedactionError as e:
        problems.append(f"redaction: {e}")
    problems += [f"stix2-validator: {e}" for e in validator_errors(data)]
    try:
        parse_strict(data)
    except Exception as e:  # stix2 raises several unrelated exception types
        problems.append(f"stix2.parse: {e}")
    if problems:
        for p in problems[:20]:
            err.print(p, highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    out.print(f"{bundle}: ok (redaction, stix2-validator strict, stix2.parse)")


def register(app: typer.Typer) -> None:
    """Add the ``share`` command group to the CLI."""
    app.add_typer(share_app, name="share")


@share_app.command("serve")
def serve(
    config: Path = typer.Option(
        ..., "--config", "-c", help="Server config: collections and partners (JSON)."
    ),
    db: str = typer.Option(
        "sqlite:///taxii.db", "--db", help="SQLAlchemy URL (SQLite default, or PostgreSQL)."
    ),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(6100, "--port"),
) -> None:
    """Serve collections over TAXII 2.1 until interrupted (Ctrl-C finishes requests, then stops).

    Example:

        distillguard share serve -c server.json --db sqlite:///taxii.db --port 6100
    """
    from distillguard.share.serve import serve as run
    from distillguard.share.server import ConfigError, ServerConfig
    from distillguard.share.store import Store

    try:
        cfg = ServerConfig.load(config)
    except ConfigError as e:
        raise fail(str(e)) from e
    err.print(
        f"TAXII 2.1 at http://{host}:{port}/taxii2/ ({len(cfg.collections)} collections, {db.split(':')[0]})"
    )
    run(Store(db), cfg, host, port)


def _partners(path: Path, only: str | None) -> list:
    from distillguard.share.sync import PartnerError, load_partners

    try:
        partners = load_partners(path)
    except PartnerError as e:
        raise fail(str(e)) from e
    if only is not None:
        if only not in partners:
            raise fail(f"{path}: no partner named {only!r} (have: {', '.join(sorted(partners))})")
        return [partners[only]]
    return list(partners.values())


@share_app.command("pull")
def pull(
    partners: Path = typer.Option(..., "--partners", help="Partners file (JSON)."),
    inbox: Path = typer.Option(Path("share/inbox"), "--inbox", help="Directory for pulled objects."),
    state: Path = typer.Option(Path("share/state.json"), "--state", help="Sync state (resume point)."),
    partner: str | None = typer.Option(None, "--partner", help="Only this partner."),
    quiet: bool = QuietOption,
) -> None:
    """Pull objects added since the last pull from each partner (resumes after an interruption).

    Example:

        distillguard share pull --partners partners.json --inbox share/inbox
    """
    from distillguard.share.sync import PartnerError, State
    from distillguard.share.sync import pull as do_pull

    try:
        st = State(state)
        with progress(quiet) as bar:
            for p in _partners(partners, partner):
                task = bar.add_task(f"pulling {p.name}", total=None)
                n = do_pull(p, st, inbox, on_page=lambda k, t=task: bar.advance(t, k))
                out.print(f"{p.name}: {n} new objects")
    except (PartnerError, httpx_errors()) as e:
        raise fail(str(e)) from e


@share_app.command("push")
def push(
    bundle: Path = typer.Argument(..., help="Bundle to push (from `share export` or `share hunt`)."),
    partners: Path = typer.Option(..., "--partners", help="Partners file (JSON)."),
    state: Path = typer.Option(Path("share/state.json"), "--state", help="Sync state (resume point)."),
    partner: str | None = typer.Option(None, "--partner", help="Only this partner."),
    quiet: bool = QuietOption,
) -> None:
    """Push a bundle to partners' collections in acknowledged chunks (resumes after an interruption).

    Example:

        distillguard share push a.json --partners partners.json
    """
    from distillguard.share.sync import PartnerError, State
    from distillguard.share.sync import push as do_push

    try:
        st = State(state)
        with progress(quiet) as bar:
            for p in _partners(partners, partner):
                task = bar.add_task(f"pushing to {p.name}", total=None)
                n = do_push(p, st, bundle, on_chunk=lambda k, t=task: bar.advance(t, k))
                out.print(f"{p.name}: {n} objects acknowledged")
    except (PartnerError, httpx_errors()) as e:
        raise fail(str(e)) from e


def httpx_errors() -> type[Exception]:
    """The transport errors a partner server can cause (connection refused, timeouts)."""
    import httpx

    return httpx.HTTPError


@share_app.command("hunt")
def hunt(
    requests_path: Path = typer.Argument(..., help="Our request log (JSONL, JSONL.gz or Parquet)."),
    keyring: Path = KeyringOption,
    inbox: Path = typer.Option(Path("share/inbox"), "--inbox", help="Pulled objects (from `share pull`)."),
    campaigns: Path | None = typer.Option(None, "--campaigns", help="Our campaigns.json, to link evidence."),
    psi: list[Path] = typer.Option([], "--psi", help="`share match` results to add as evidence."),
    producer: str = typer.Option(..., "--producer", "-p", help="Our organisation's name in sightings."),
    out_dir: Path = typer.Option(
        Path("share/hunt"), "--out", "-o", help="Writes evidence.json, sightings.json."
    ),
    quiet: bool = QuietOption,
) -> None:
    """Retro-hunt pulled template indicators in our traffic; write evidence and sightings for producers.

    With --campaigns, also writes campaigns.json: our campaigns with the partner matches that
    corroborate them under evidence.partner_matches.

    Example:

        distillguard share hunt runs/b/requests.parquet -k group.keys.json -p "Provider B" --campaigns runs/scan/campaigns.json
    """
    from distillguard.share.export import CampaignFileError, load_campaigns
    from distillguard.share.keys import Keyring, KeyringError
    from distillguard.share.redact import RedactionError, check_bundle
    from distillguard.share.retrohunt import (
        annotate,
        collect,
        evidence,
        psi_evidence,
        read_requests,
        sightings_bundle,
    )
    from distillguard.share.retrohunt import hunt as do_hunt
    from distillguard.share.sync import PartnerError, read_inbox

    try:
        ring = Keyring.load(keyring)
        local = load_campaigns(campaigns) if campaigns else []
        indicators = collect(read_inbox(inbox))
    except (KeyringError, CampaignFileError, PartnerError) as e:
        raise fail(str(e)) from e
    if not requests_path.exists():
        raise fail(f"{requests_path}: no such file")
    with progress(quiet) as bar:
        task = bar.add_task("hunting", total=None)

        def batches():
            for b in read_requests(requests_path):
                yield b
                bar.advance(task, b.num_rows)

        matches = do_hunt(batches(), indicators, ring)
    found = evidence(matches, indicators, local)
    for path in psi:
        try:
            found.append(psi_evidence(json.loads(path.read_text()), local))
        except (FileNotFoundError, json.JSONDecodeError) as e:
            raise fail(f"{path}: not a `share match` result ({e})") from e
    sightings = sightings_bundle(matches, producer)
    try:
        check_bundle(sightings, producers=[producer])
    except RedactionError as e:
        raise fail(f"refusing to write sightings: {e}") from e
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "evidence.json").write_text(json.dumps({"matches": found}, indent=1) + "\n")
    (out_dir / "sightings.json").write_text(json.dumps(sightings, indent=1) + "\n")
    if local:
        annotated = annotate(local, found)
        (out_dir / "campaigns.json").write_text(
            json.dumps({"campaigns": annotated}, indent=1, default=str) + "\n"
        )
    accounts = {a for f in found for a in f["accounts"]}
    new = {a for f in found for a in f["accounts_not_in_local_campaigns"]}
    out.print(
        f"{len(indicators)} indicators, {len(matches)} matched; {len(accounts)} of our accounts match "
        f"({len(new)} outside our campaigns); wrote {out_dir}/evidence.json and sightings.json"
    )


def _traffic_option(kind: str) -> Path | None:
    return typer.Option(None, f"--{kind}", help=f"Our {kind} file (traffic-log-v1).")


@share_app.command("items")
def items(
    kind: str = typer.Option(..., "--kind", help="ip, ip24, payment or email_domain."),
    requests_path: Path | None = _traffic_option("requests"),
    accounts: Path | None = _traffic_option("accounts"),
    out_path: Path = typer.Option(..., "--out", "-o", help="Set file for the server config's psi_sets."),
) -> None:
    """Write one PSI set (canonical values of our traffic) for `share serve` to answer over.

    Example:

        distillguard share items --kind payment --accounts runs/a/accounts.parquet -o payment.txt
    """
    from distillguard.share.psi import PsiError, extract

    try:
        values = extract(kind, requests_path, accounts)
    except PsiError as e:
        raise fail(str(e)) from e
    out_path.write_text("".join(f"{v}\n" for v in sorted(values)))
    out.print(f"wrote {out_path}: {len(values)} {kind} values")


@share_app.command("match")
def match(
    partner: str = typer.Option(..., "--partner", help="Partner name in the partners file."),
    partners: Path = typer.Option(..., "--partners", help="Partners file (JSON)."),
    kind: str = typer.Option(
        ..., "--kind", help="ip, ip24, payment or email_domain (the partner's set name)."
    ),
    requests_path: Path | None = _traffic_option("requests"),
    accounts: Path | None = _traffic_option("accounts"),
    out_path: Path = typer.Option(Path("share/match.json"), "--out", "-o", help="Matches with our accounts."),
) -> None:
    """Private set intersection with a partner: which of our values it also holds, and nothing more.

    Example:

        distillguard share match --partner provider-a --partners partners.json --kind payment \\
            --accounts runs/b/accounts.parquet
    """
    from distillguard.share.psi import PsiError, extract
    from distillguard.share.psi import match as psi_match

    p = _partners(partners, partner)[0]
    try:
        values = extract(kind, requests_path, accounts)
        common = psi_match(p.api_root, p.user, p.password, kind, values)
    except PsiError as e:
        raise fail(str(e)) from e
    result = {
        "partner": p.name,
        "kind": kind,
        "ours": len(values),
        "matched": [{"value": v, "accounts": sorted(values[v])} for v in common],
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, indent=1) + "\n")
    n_acc = len({a for v in common for a in values[v]})
    out.print(
        f"{p.name}: {len(common)} of our {len(values)} {kind} values are shared ({n_acc} accounts); wrote {out_path}"
    )


@share_app.command("demo")
def demo(
    out_dir: Path = typer.Option(Path("runs/share-demo"), "--out", "-o", help="Working directory."),
    days: int = typer.Option(1, "--days", help="Simulated days."),
    scale: float = typer.Option(0.3, "--scale", help="Simulated population scale."),
    seed: int = typer.Option(3, "--seed", help="Simulation seed."),
    b_share: float = typer.Option(0.3, "--b-share", help="Share of each campaign's accounts that B sees."),
    quiet: bool = QuietOption,
) -> None:
    """Two providers, one campaign world: A exports, B pulls and retro-hunts; prints B's recall before and after.

    Example:

        distillguard share demo --out runs/share-demo --scale 0.3 --days 1
    """
    from rich.table import Table

    from distillguard.share.demo import run_demo
    from distillguard.simulate.engine import run_simulation

    if not 0 < b_share < 1:
        raise fail("--b-share must be between 0 and 1")
    world = out_dir / "world"
    say = (lambda _: None) if quiet else (lambda m: err.print(m, highlight=False))
    say(f"simulating {days} day(s) at scale {scale}")
    run_simulation("mixed", world, days=days, scale=scale, seed=seed)
    result = run_demo(world, out_dir, b_share=b_share, say=say)
    table = Table(title="Provider B: attack accounts found, before and after retro-hunting A's indicators")
    for col in ("true campaign", "B's accounts", "before", "after"):
        table.add_column(col)
    for r in result.rows:
        table.add_row(r["campaign"], str(r["accounts"]), str(r["before"]), str(r["after"]))
    out.print(table)
    out.print(
        f"recall before {result.before:.2f}, after {result.after:.2f}; "
        f"hunt matched {result.benign_matched} of {result.benign_total} benign accounts "
        f"({result.indicators} indicators pulled)",
        soft_wrap=True,
    )


@share_app.command("misp")
def misp(
    bundle: Path = typer.Argument(..., help="STIX bundle (JSON) to convert."),
    out_path: Path = typer.Option(Path("event.misp.json"), "--out", "-o", help="MISP event file to write."),
) -> None:
    """Convert a bundle to a MISP event with misp-stix and list what the conversion drops.

    Example:

        distillguard share misp a.json -o a.misp.json
    """
    from distillguard.share.misp import convert

    try:
        data = json.loads(bundle.read_text())
        result = convert(data)
    except FileNotFoundError as e:
        raise fail(f"{bundle}: no such file") from e
    except json.JSONDecodeError as e:
        raise fail(f"{bundle}: line {e.lineno}: not JSON ({e.msg})") from e
    except ValueError as e:
        raise fail(f"{bundle}: {e}") from e
    out_path.write_text(json.dumps({"Event": result.event}, indent=1) + "\n")
    kept = ", ".join(f"{k} {v}" for k, v in sorted(result.kept.items()))
    lost = ", ".join(f"{k} {v}" for k, v in sorted(result.dropped.items())) or "nothing"
    out.print(f"wrote {out_path}; kept: {kept}; dropped: {lost}", soft_wrap=True)
