"""``landaulab ingest SOURCE PATH --store DIR``: import foreign logs.

The sources, their help and the options each accepts come from
:mod:`landaulab.store.ingest.registry`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from landaulab.cli.app import app
from landaulab.store.ingest.registry import SOURCES

_SOURCE_HELP = "kind of logs, one of " + "; ".join(
    f"{s.name}: {s.description}" for s in SOURCES.values()
)


def _for(option: str, text: str) -> str:
    """Help of a source-specific option, naming the sources that accept it."""
    takers = [s.name for s in SOURCES.values() if option in s.options]
    return f"{', '.join(takers) or 'no source'}: {text}"


@app.command()
def ingest(
    source: Annotated[str, typer.Argument(help=_SOURCE_HELP, metavar="SOURCE")],
    path: Annotated[Path, typer.Argument(help="log folder or file")],
    store: Annotated[Path, typer.Option("--store", help="store directory")] = Path(
        "landaulab-store"
    ),
    params: Annotated[
        list[str] | None,
        typer.Option("--params", help="KEY=VAL given to every run (repeatable)"),
    ] = None,
    pattern: Annotated[
        str | None,
        typer.Option(help="regex with named groups read from run/folder names"),
    ] = None,
    layout: Annotated[
        str | None, typer.Option(help=_for("--layout", "wide or long layout"))
    ] = None,
    run_col: Annotated[str | None, typer.Option(help=_for("--run-col", "run column"))] = None,
    step_col: Annotated[
        str | None, typer.Option(help=_for("--step-col", "step column or W&B history key"))
    ] = None,
    metric_col: Annotated[
        str | None, typer.Option(help=_for("--metric-col", "metric column (long layout)"))
    ] = None,
    value_col: Annotated[
        str | None, typer.Option(help=_for("--value-col", "value column (long layout)"))
    ] = None,
    param_col: Annotated[
        list[str] | None,
        typer.Option(help=_for("--param-col", "hyperparameter column (repeatable)")),
    ] = None,
    task: Annotated[str | None, typer.Option(help="task label stored with the runs")] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="replace runs imported before from the same logs with other options",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Import TensorBoard, W&B, MLflow or CSV/Parquet logs into a store (all or nothing)."""
    from landaulab.store.ingest import common
    from landaulab.store.ingest.registry import get_source

    reader = get_source(source)
    result = reader.ingest(
        path,
        store,
        task=task,
        replace=replace,
        params=common.parse_assignments(params or []),
        pattern=pattern,
        **{
            "--layout": layout,
            "--run-col": run_col,
            "--step-col": step_col,
            "--metric-col": metric_col,
            "--value-col": value_col,
            "--param-col": param_col,
        },
    )
    for line in result.notes:
        typer.echo(line, err=True)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, sort_keys=True))
    else:
        typer.echo(str(result))
