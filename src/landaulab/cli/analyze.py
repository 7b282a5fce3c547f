"""``landaulab analyze DATA --order-parameter COL --control COL``: the Landau analysis."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from landaulab.cli.app import app

#: The ``--where`` option of analyze, dynamics and report.
WHERE_HELP = (
    "only the runs whose parameters satisfy this DuckDB predicate, e.g. "
    "'weight_decay = 1' or 'train_fraction > 0.3 AND seed < 4'"
)


def call_noting(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``, printing which runs it used as ``note:`` lines on
    stderr (the :class:`~landaulab.api.SliceWarning` s); other warnings pass on."""
    from landaulab.api import SliceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = function(*args, **kwargs)
    for warning in caught:
        if issubclass(warning.category, SliceWarning):
            print(f"note: {warning.message}", file=sys.stderr)
        else:
            warnings.showwarning(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return result


@app.command("analyze")
def analyze_command(
    data: Annotated[Path, typer.Argument(help="CSV(.gz) / Parquet file or landaulab store")],
    order_parameter: Annotated[
        str, typer.Option("--order-parameter", help="column holding the order parameter m")
    ],
    control: Annotated[
        str, typer.Option("--control", help="control-parameter column (the 'temperature')")
    ],
    size: Annotated[
        str | None, typer.Option("--size", help="system-size column (width, L, N)")
    ] = None,
    volume: Annotated[
        str | None,
        typer.Option("--volume", help="degrees-of-freedom column for χ and F (default: size)"),
    ] = None,
    run_col: Annotated[str, typer.Option("--run-col", help="run column")] = "run_id",
    step_col: Annotated[str, typer.Option("--step-col", help="step column")] = "step",
    burn_in: Annotated[
        float, typer.Option("--burn-in", help="fraction of each run's steps dropped")
    ] = 0.5,
    use_abs: Annotated[
        bool, typer.Option("--abs", help="use |m| (Z2-symmetric order parameters)")
    ] = False,
    direction_col: Annotated[
        str | None,
        typer.Option("--direction-col", help="column marking up/down sweeps (hysteresis)"),
    ] = None,
    energy: Annotated[
        str | None, typer.Option("--energy", help="energy or loss column (latent heat)")
    ] = None,
    field: Annotated[
        str | None,
        typer.Option("--field", help="field column: rows at h != 0 give δ (critical isotherm)"),
    ] = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="write the result as JSON to this file")
    ] = None,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="bootstrap replicates (resampling runs)")
    ] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="seed of the resampling")] = 0,
    where: Annotated[str | None, typer.Option("--where", help=WHERE_HELP)] = None,
) -> None:
    """Transition, order, critical point, exponents, Landau fits and universality.

    Runs are never pooled across other swept parameters: when one varies within a
    control group, the slice crossing the transition is analysed (as in the report) and a
    note says which; --where chooses the runs.
    """
    from landaulab.api import analyze
    from landaulab.store.atomic import write_json_atomic

    result = call_noting(
        analyze,
        data,
        where=where,
        order_parameter=order_parameter,
        control=control,
        size=size,
        volume=volume,
        run_col=run_col,
        step_col=step_col,
        burn_in=burn_in,
        use_abs=use_abs,
        direction_col=direction_col,
        n_bootstrap=bootstrap,
        seed=seed,
        energy=energy,
        field=field,
    )
    typer.echo(str(result))
    if json_path is not None:
        write_json_atomic(json_path, result.to_dict())
        typer.echo(f"wrote {json_path}")
