"""``landaulab report STORE -o report.html``: figures, narrative and JSON for any store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from landaulab.cli.analyze import WHERE_HELP
from landaulab.cli.app import app


def _read_json(path: Path | None, what: str) -> dict[str, Any] | None:
    if path is None:
        return None
    from landaulab.api import read_json

    return read_json(path, what)


@app.command()
def report(
    store: Annotated[
        Path,
        typer.Argument(
            help="a store, a CSV/Parquet file of runs, a report.json or an analysis JSON"
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="the HTML file to write")] = Path(
        "report.html"
    ),
    order_parameter: Annotated[
        str | None, typer.Option("--order-parameter", help="order-parameter column")
    ] = None,
    control: Annotated[
        str | None, typer.Option("--control", help="control-parameter column")
    ] = None,
    size: Annotated[str | None, typer.Option("--size", help="system-size column")] = None,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="where to write report.json")
    ] = None,
    figures_dir: Annotated[
        Path | None, typer.Option("--figures-dir", help="folder for the PNG and PDF figures")
    ] = None,
    analysis: Annotated[
        Path | None,
        typer.Option("--analysis", help="reuse a result of `landaulab analyze --json`"),
    ] = None,
    dynamics: Annotated[
        Path | None,
        typer.Option("--dynamics", help="reuse a result of `landaulab dynamics --json`"),
    ] = None,
    where: Annotated[str | None, typer.Option("--where", help=WHERE_HELP)] = None,
) -> None:
    """Write a self-contained HTML report (figures, narrative, evidence) and report.json.

    Columns not given are chosen from the data: the control is the swept parameter with
    the most distinct values, the order parameter the observable the swept parameters
    explain best. When other swept parameters vary too, the slice crossing the transition
    is analysed (the report says which); --where chooses the runs. A saved report.json
    is rendered again as it was; a saved `landaulab analyze --json` file gives the
    report of that analysis.
    """
    from landaulab.api import report as make_report

    result = make_report(
        store,
        order_parameter=order_parameter,
        control=control,
        size=size,
        output=output,
        figures_dir=figures_dir,
        json_output=json_file,
        analysis=_read_json(analysis, "analysis"),
        dynamics=_read_json(dynamics, "dynamics"),
        where=where,
    )
    typer.echo(str(result))
