"""``landaulab ingest {tensorboard,wandb,mlflow,csv} PATH --store DIR``: import foreign logs."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from landaulab.cli.app import app


class Source(StrEnum):
    """The kinds of logs ``ingest`` reads."""

    tensorboard = "tensorboard"
    wandb = "wandb"
    mlflow = "mlflow"
    csv = "csv"


class Layout(StrEnum):
    """Table layouts (``csv`` only)."""

    wide = "wide"
    long = "long"


@app.command()
def ingest(
    source: Annotated[Source, typer.Argument(help="kind of logs", case_sensitive=False)],
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
    layout: Annotated[Layout | None, typer.Option(help="csv: wide or long layout")] = None,
    run_col: Annotated[str | None, typer.Option(help="csv: run column")] = None,
    step_col: Annotated[
        str | None, typer.Option(help="step column (csv, W&B export) or W&B history key")
    ] = None,
    metric_col: Annotated[str | None, typer.Option(help="csv long layout: metric column")] = None,
    value_col: Annotated[str | None, typer.Option(help="csv long layout: value column")] = None,
    param_col: Annotated[
        list[str] | None, typer.Option(help="csv: hyperparameter column (repeatable)")
    ] = None,
    task: Annotated[str | None, typer.Option(help="task label stored with the runs")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Import TensorBoard, W&B, MLflow or CSV/Parquet logs into a store (all or nothing)."""
    from landaulab.errors import DataError
    from landaulab.store.ingest import common

    kind = source.value
    table_only = {
        "--layout": layout,
        "--run-col": run_col,
        "--metric-col": metric_col,
        "--value-col": value_col,
        "--param-col": param_col,
    }
    if kind != "csv":
        given = [option for option, value in table_only.items() if value]
        if given:
            raise DataError(f"{given[0]} applies to 'ingest csv' only")
    if kind in ("tensorboard", "mlflow") and step_col:
        raise DataError(f"--step-col does not apply to {kind} logs (their steps are logged)")
    assignments = common.parse_assignments(params or [])
    label = task or kind
    if kind == "tensorboard":
        from landaulab.store.ingest.tensorboard import read_tensorboard

        runs = read_tensorboard(path, params=assignments, pattern=pattern)
    elif kind == "wandb":
        from landaulab.store.ingest.wandb import read_wandb

        runs = read_wandb(path, params=assignments, pattern=pattern, step_key=step_col)
    elif kind == "mlflow":
        from landaulab.store.ingest.mlflow import read_mlflow

        runs = read_mlflow(path, params=assignments, pattern=pattern)
    else:
        from landaulab.store.ingest.tabular import read_table

        runs = read_table(
            path,
            layout=(layout or Layout.wide).value,  # type: ignore[arg-type]
            run_col=run_col,
            step_col=step_col,
            metric_col=metric_col,
            value_col=value_col or "value",
            param_cols=param_col or (),
            params=assignments,
            pattern=pattern,
        )
    result = common.publish_runs(runs, store, kind=kind, task=label)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, sort_keys=True))
    else:
        typer.echo(str(result))
