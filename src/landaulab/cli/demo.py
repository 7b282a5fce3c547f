"""``landaulab demo``: the grokking study (map → locate → resolve → budget → report)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from landaulab.cli.app import app


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="demo folder")] = Path("landaulab-demo"),
    workers: Annotated[int | None, typer.Option(min=1, help="worker processes")] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="a small study (about two minutes) for a first look")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar")] = False,
) -> None:
    """Run the grokking study: the phase diagram, the located boundary per size, the seed
    ensemble at it, the budget law, and the report. Interrupted, it resumes."""
    from landaulab.study.grokking import run_grokking_study

    result = run_grokking_study(out, quick=quick, workers=workers, progress=not quiet)
    for line in result.messages:
        typer.echo(line)
