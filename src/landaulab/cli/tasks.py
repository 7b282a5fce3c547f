"""``landaulab tasks [NAME]``: list the built-in tasks, or one task's settings."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from typing import Annotated

import typer

from landaulab.cli.app import app


@app.command()
def tasks(
    name: Annotated[str | None, typer.Argument(help="show one task's settings")] = None,
) -> None:
    """List built-in tasks, or one task's settings: default, type, allowed values."""
    if name is None:
        for task_name, summary in task_summaries():
            typer.echo(f"{task_name:28s} {summary}")
        return
    from landaulab.tasks.registry import get_task

    info = get_task(name)
    typer.echo(f"{info.name}: {info.summary}")
    settings = info.settings()
    if settings:
        typer.echo("settings (in a spec's [settings] or [controls], or --set settings.NAME=VALUE):")
        width = max(len(s.name) + 3 + len(s.example()) for s in settings)
        for setting in settings:
            assignment = f"{setting.name} = {setting.example()}"
            line = f"  {assignment:{width}s}  {setting.type_text()}"
            if setting.description:
                line += f"; {setting.description}"
            typer.echo(line)
    if info.observables:
        typer.echo("observables: " + ", ".join(info.observables))


def task_summaries() -> list[tuple[str, str]]:
    """``(name, summary)`` of every built-in task, sorted by name, without importing them.

    Read from the source of the task modules (their ``@register_task`` calls), so listing
    the tasks does not import torch; falls back to importing them when a name or summary
    is not written out literally.
    """
    spec = importlib.util.find_spec("landaulab.tasks")  # finds it without importing it
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        return _imported_summaries()
    folder = Path(locations[0])
    found: dict[str, str] = {}
    try:
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith("_") or path.name == "registry.py":
                continue
            for name, summary in _registrations(ast.parse(path.read_text(encoding="utf-8"))):
                if name is None or summary is None:
                    raise LookupError(path.name)
                found[name] = summary
    except (OSError, SyntaxError, LookupError):
        return _imported_summaries()
    return sorted(found.items())


def _registrations(tree: ast.Module) -> list[tuple[str | None, str | None]]:
    """``(name, summary)`` of each ``@register_task(...)`` decorator in a module."""
    out: list[tuple[str | None, str | None]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if not (
                isinstance(decorator, ast.Call)
                and isinstance(decorator.func, ast.Name)
                and decorator.func.id == "register_task"
            ):
                continue
            name = _literal(decorator.args[0]) if decorator.args else None
            summary = None
            for keyword in decorator.keywords:
                if keyword.arg == "name":
                    name = _literal(keyword.value)
                elif keyword.arg == "summary":
                    summary = _literal(keyword.value)
            if summary is None:
                doc = ast.get_docstring(node) or ""
                summary = doc.strip().splitlines()[0] if doc.strip() else None
            out.append((name, summary))
    return out


def _literal(node: ast.expr) -> str | None:
    try:
        value = ast.literal_eval(node)
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def _imported_summaries() -> list[tuple[str, str]]:
    from landaulab.tasks.registry import list_tasks

    return [(info.name, info.summary) for info in list_tasks()]
