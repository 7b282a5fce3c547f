"""``landaulab demo``: the grokking study on the built-in defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from landaulab.cli.app import app


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="demo folder")] = Path("landaulab-demo"),
    workers: Annotated[int | None, typer.Option(min=1, help="worker processes")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar")] = False,
) -> None:
    """Run the grokking phase diagram (weight decay × training fraction) and analyse it."""
    from landaulab.study.grokking import run_grokking_study

    result = run_grokking_study(out, workers=workers, progress=not quiet)
    for line in result.messages:
        typer.echo(line)
