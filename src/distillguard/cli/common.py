"""What every command shares: the Rich consoles and a progress bar that ``--quiet`` turns off."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

# Results go to stdout so they can be piped; progress and diagnostics go to stderr.
out = Console()
err = Console(stderr=True)

QuietOption = typer.Option(False, "--quiet", "-q", help="Print no progress bar.")


@contextmanager
def progress(quiet: bool) -> Iterator[Progress]:
    """Yield a Rich progress bar on stderr; disabled when quiet or when stderr is not a terminal."""
    bar = Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=quiet,
        transient=False,
    )
    with bar:
        yield bar


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print an error for the user and return the Exit to raise."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)
