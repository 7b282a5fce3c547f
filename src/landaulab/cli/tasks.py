"""``landaulab tasks``: list the built-in tasks and their settings."""

from __future__ import annotations

from typing import Annotated

import typer

from landaulab.cli.app import app


@app.command()
def tasks(
    name: Annotated[str | None, typer.Argument(help="show one task's settings")] = None,
) -> None:
    """List built-in tasks, or one task's settings with defaults."""
    from landaulab.tasks.registry import get_task, list_tasks

    if name is None:
        for info in list_tasks():
            typer.echo(f"{info.name:28s} {info.summary}")
        return
    info = get_task(name)
    typer.echo(f"{info.name}: {info.summary}")
    if info.parameters is not None:
        for key, field in info.parameters.model_fields.items():
            typer.echo(f"  {key} = {field.default!r}")
    if info.observables:
        typer.echo("  observables: " + ", ".join(info.observables))
