"""``distillguard share ...``: export, serve, pull, push, hunt and match shared distillation intelligence."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from distillguard.cli.common import err, fail, out

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
    bundle = build_bundle(items, ring, producer, tlp_level)
    # Everything local the campaigns mention is secret: no account or request id may leave.
    secrets = [a for c in items for a in c.get("accounts", [])]
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
