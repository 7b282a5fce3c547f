"""``landaulab sweep SPEC``: run a sweep into a store, resuming what is done."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from landaulab.cli.app import app
from landaulab.errors import LandaulabError


@app.command()
def sweep(
    spec: Annotated[
        str, typer.Argument(help="sweep spec (TOML), or a built-in name: quick, grokking")
    ],
    store: Annotated[Path, typer.Option(help="store directory")] = Path("landaulab-store"),
    workers: Annotated[int | None, typer.Option(min=1, help="worker processes")] = None,
    executor: Annotated[str, typer.Option(help="serial, local or ray")] = "local",
    address: Annotated[
        str | None, typer.Option(help="Ray cluster address (auto or HOST:PORT)")
    ] = None,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="train failed runs again")
    ] = False,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda")] = "auto",
    threads: Annotated[int, typer.Option(min=1, help="torch threads per run")] = 1,
    batching: Annotated[str, typer.Option(help="auto, batch or sequential")] = "auto",
    refine: Annotated[
        str | None, typer.Option(help="order parameter to refine the boundary of")
    ] = None,
    tolerance: Annotated[float | None, typer.Option(help="boundary tolerance for --refine")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar")] = False,
) -> None:
    """Run every planned run of SPEC into STORE; re-running resumes."""
    from landaulab.execute.sweep import make_executor
    from landaulab.execute.sweep import sweep as run_sweep

    if batching not in ("auto", "batch", "sequential"):
        raise LandaulabError(f"--batching {batching!r}: choose auto, batch or sequential")
    extra = {"address": address} if address else {}
    if address and executor != "ray":
        raise LandaulabError("--address is only for --executor ray")
    engine = make_executor(executor, workers, **extra)
    path = Path(spec)
    if refine is not None:
        from landaulab.execute.refine import refine_sweep

        report = refine_sweep(
            path,
            store=store,
            executor=engine,
            order_parameter=refine,
            tolerance=tolerance,
            retry_failed=retry_failed,
            device=device,
            threads=threads,
            progress=not quiet,
        )
    else:
        report = run_sweep(
            path,
            store=store,
            executor=engine,
            retry_failed=retry_failed,
            device=device,
            threads=threads,
            batching=batching,  # type: ignore[arg-type]
            progress=not quiet,
        )
    typer.echo(str(report))
    typer.echo(f"store: {report.store}")
