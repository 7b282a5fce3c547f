"""``landaulab status [STORE]``: counts by status and a table of runs by parameter."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from landaulab.cli.app import app

#: Final values shown per run in the table (all of them are in ``--json``).
MAX_METRICS = 6
#: Runs shown in the table (all of them are in ``--json``): a store of 10⁵ imported runs
#: would take minutes to draw and scroll past any terminal.
MAX_ROWS = 200


def status_payload(store_path: Path) -> dict[str, Any]:
    """The ``status --json`` payload (a public contract; see the README).

    Keys: ``done``, ``diverged``, ``failed``, ``pending`` (counts); ``runs``: one object
    per run with ``run_id``, ``status``, ``params`` and, for a published run, ``reason``
    (why it failed or diverged, else null), ``duration_s``, ``stopped_early`` (null, or
    the step and reason of an early stop) and ``final`` (the values logged at its last
    step); ``failures``: the failed runs grouped by reason, most frequent first, each
    ``{"reason", "count", "run_ids"}``.
    """
    from landaulab.execute.sweep import short_reason
    from landaulab.store.store import Store

    store = Store(store_path)
    counts = store.status_counts()
    records = store.records()
    present = {r.run_id for r in records}
    final = store.final_values()
    runs: list[dict[str, Any]] = [
        {
            "run_id": r.run_id,
            "status": r.status,
            "params": r.params,
            "reason": r.reason,
            "duration_s": r.duration_s,
            "stopped_early": r.stopped_early,
            "final": final.get(r.run_id, {}),
        }
        for r in records
    ]
    groups: dict[str, list[str]] = {}
    for r in records:
        if r.status == "failed":
            groups.setdefault(short_reason(r.reason), []).append(r.run_id)
    failures = [
        {"reason": reason, "count": len(ids), "run_ids": ids}
        for reason, ids in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
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
        "failures": failures,
    }


@app.command()
def status(
    store: Annotated[Path, typer.Argument(help="store directory")] = Path("landaulab-store"),
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Show how many runs are done, diverged, failed and pending, why runs failed, and a
    table of runs: their swept parameters, duration, early stop and final values."""
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
    for failure in payload["failures"]:
        console.print(f"  [red]{failure['count']} failed[/]: {failure['reason']}", markup=True)
    if payload["failures"]:
        console.print("  train them again with: landaulab sweep SPEC --retry-failed")
    runs = payload["runs"]
    if not runs:
        return
    keys = sorted({k for r in runs for k in r["params"]})
    varying = [k for k in keys if len({json.dumps(r["params"].get(k)) for r in runs}) > 1]
    metrics = sorted({k for r in runs for k in r.get("final", {}) if k != "step"})
    shown = metrics[:MAX_METRICS]
    table = Table("run_id", "status", *varying, "duration", "stopped early", "step", *shown)
    ordered = sorted(runs, key=lambda r: [str(r["params"].get(k)) for k in varying])
    for r in ordered[:MAX_ROWS]:
        final = r.get("final", {})
        stop = r.get("stopped_early")
        table.add_row(
            r["run_id"],
            r["status"],
            *(str(r["params"].get(k, "")) for k in varying),
            "" if r.get("duration_s") is None else f"{r['duration_s']:.1f} s",
            "" if not stop else str(stop.get("step", "yes") if isinstance(stop, dict) else stop),
            str(final.get("step", "")),
            *("" if m not in final else f"{final[m]:.4g}" for m in shown),
        )
    console.print(table)
    if len(ordered) > MAX_ROWS:
        console.print(f"and {len(ordered) - MAX_ROWS} more runs (all of them in --json)")
    if len(metrics) > len(shown):
        console.print(f"final values of {len(metrics) - len(shown)} more observables: --json")
