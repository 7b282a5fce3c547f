"""``landaulab dynamics DATA --order-parameter COL``: the dynamical Landau analysis."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from landaulab.cli.analyze import WHERE_HELP, call_noting
from landaulab.cli.app import app


@app.command("dynamics")
def dynamics_command(
    data: Annotated[Path, typer.Argument(help="CSV(.gz) / Parquet file or landaulab store")],
    order_parameter: Annotated[
        str, typer.Option("--order-parameter", help="column holding the order parameter")
    ],
    time_col: Annotated[str, typer.Option("--time-col", help="time column")] = "step",
    control: Annotated[
        str | None, typer.Option("--control", help="control-parameter column")
    ] = None,
    run_col: Annotated[str, typer.Option("--run-col", help="run column")] = "run_id",
    json_path: Annotated[
        Path | None, typer.Option("--json", help="write the result as JSON to this file")
    ] = None,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", min=0, help="bootstrap replicates")
    ] = 200,
    seed: Annotated[int, typer.Option("--seed", min=0, help="seed of the resampling")] = 0,
    finite_time_correction: Annotated[
        bool,
        typer.Option(
            "--finite-time-correction",
            help="extrapolate drift and diffusion to zero lag (sampled continuous processes)",
        ),
    ] = False,
    where: Annotated[str | None, typer.Option("--where", help=WHERE_HELP)] = None,
) -> None:
    """Drift, effective potential, attractors, relaxation time, transitions and plateaus."""
    from landaulab.api import dynamics
    from landaulab.store.atomic import write_json_atomic

    result = call_noting(
        dynamics,
        data,
        where=where,
        order_parameter=order_parameter,
        time_col=time_col,
        control=control,
        run_col=run_col,
        n_bootstrap=bootstrap,
        seed=seed,
        finite_time_correction=finite_time_correction,
    )
    typer.echo(str(result))
    if json_path is not None:
        write_json_atomic(json_path, result.to_dict())
        typer.echo(f"wrote {json_path}")
