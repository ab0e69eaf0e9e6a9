"""The ``distillguard`` command line: one module per command, registered here."""

from __future__ import annotations

import typer

from distillguard import __version__

app = typer.Typer(
    name="distillguard",
    help="Detect, attribute, respond to and share intelligence on adversarial distillation.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"distillguard {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Detect, attribute, respond to and share intelligence on adversarial distillation."""


def _register() -> None:
    from distillguard.cli import convert, evaluate, scan, share, simulate, validate

    for module in (scan, evaluate, simulate, validate, convert):
        module.register(app)
    from distillguard.cli import policy, serve

    for module in (policy, serve):
        module.register(app)
    share.register(app)


_register()


def main() -> None:
    """Run the command line."""
    app()
