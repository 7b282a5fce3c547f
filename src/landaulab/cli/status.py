"""``landaulab status [STORE]``: counts by status and a table of runs by parameter."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from landaulab.cli.app import app


def status_payload(store_path: Path) -> dict[str, Any]:
    """The ``status --json`` payload (a public contract; see the README)."""
    from landaulab.store.store import Store

    store = Store(store_path)
    counts = store.status_counts()
    records = store.records()
    present = {r.run_id for r in records}
    runs: list[dict[str, Any]] = [
        {"run_id": r.run_id, "status": r.status, "params": r.params} for r in records
    ]
    planned = store.planned_params()
    runs += [
        {"run_id": i, "status": "pending", "params": planned[i]}
        for i in sorted(set(planned) - present)
    ]
    return {
        "done": counts["done"],
        "diverged": counts["diverged"],
        "failed": counts["failed"],
        "pending": counts["pending"],
        "runs": runs,
    }


@app.command()
def status(
    store: Annotated[Path, typer.Argument(help="store directory")] = Path("landaulab-store"),
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Show how many runs are done, diverged, failed and pending."""
    payload = status_payload(store)
    if as_json:
        typer.echo(json.dumps(payload, indent=2, sort_keys=True))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(
        f"[bold]{store}[/]: {payload['done']} done, {payload['diverged']} diverged, "
        f"{payload['failed']} failed, {payload['pending']} pending"
    )
    runs = payload["runs"]
    if not runs:
        return
    keys = sorted({k for r in runs for k in r["params"]})
    varying = [k for k in keys if len({json.dumps(r["params"].get(k)) for r in runs}) > 1]
    table = Table("run_id", "status", *varying)
    for r in sorted(runs, key=lambda r: [str(r["params"].get(k)) for k in varying]):
        table.add_row(r["run_id"], r["status"], *(str(r["params"].get(k, "")) for k in varying))
    console.print(table)
