"""``landaulab tasks [NAME]``: list the built-in tasks, or one task's settings."""

from __future__ import annotations

from typing import Annotated

import typer

from landaulab.cli.app import app


@app.command()
def tasks(
    name: Annotated[str | None, typer.Argument(help="show one task's settings")] = None,
) -> None:
    """List built-in tasks, or one task's settings: default, type, allowed values."""
    if name is None:
        from landaulab.tasks.registry import task_summaries

        for task_name, summary in task_summaries():
            typer.echo(f"{task_name:28s} {summary}")
        return
    from landaulab.tasks.registry import get_task

    info = get_task(name)
    typer.echo(f"{info.name}: {info.summary}")
    settings = info.settings()
    if settings:
        typer.echo(
            "settings (in a spec's [settings] or [controls], or --set settings.NAME=VALUE):"
        )
        width = max(len(s.name) + 3 + len(s.example()) for s in settings)
        for setting in settings:
            assignment = f"{setting.name} = {setting.example()}"
            line = f"  {assignment:{width}s}  {setting.type_text()}"
            if setting.description:
                line += f"; {setting.description}"
            typer.echo(line)
    if info.observables:
        typer.echo("observables: " + ", ".join(info.observables))
