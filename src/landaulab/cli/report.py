"""``landaulab report STORE -o report.html``: figures, narrative and JSON for any store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from landaulab.cli.app import app


def _read_json(path: Path | None, what: str) -> dict[str, Any] | None:
    from landaulab.errors import DataError

    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: no such {what} file") from None
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read the {what} JSON ({exc})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: the {what} JSON must be an object")
    return data


@app.command()
def report(
    store: Annotated[Path, typer.Argument(help="a store, or a CSV/Parquet file of runs")],
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
) -> None:
    """Write a self-contained HTML report (figures, narrative, evidence) and report.json.

    Columns not given are chosen from the data: the control is the swept parameter with
    the most distinct values, the order parameter the observable the swept parameters
    explain best.
    """
    from landaulab.report import report as make_report

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
    )
    typer.echo(str(result))
