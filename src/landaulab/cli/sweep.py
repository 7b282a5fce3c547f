"""``landaulab sweep SPEC``: run a sweep into a store, resuming what is done."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from landaulab.cli.app import app
from landaulab.errors import LandaulabError
from landaulab.execute.registry import executor_choices

if TYPE_CHECKING:
    from landaulab.execute.sweep import SweepReport
    from landaulab.study.refine import RefinementReport


@app.command()
def sweep(
    spec: Annotated[
        str, typer.Argument(help="sweep spec (TOML), or a built-in name: quick, grokking")
    ],
    store: Annotated[Path, typer.Option(help="store directory")] = Path("landaulab-store"),
    workers: Annotated[int | None, typer.Option(min=1, help="worker processes")] = None,
    executor: Annotated[str, typer.Option(help=executor_choices())] = "local",
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
    burn_in: Annotated[
        float | None,
        typer.Option(
            "--burn-in",
            help="fraction of each run's steps dropped before its late-time value, for "
            "--refine (default 0.9: the last tenth)",
        ),
    ] = None,
    locate: Annotated[
        str | None,
        typer.Option(
            help="what --refine locates: auto (the critical point: where the order parameter "
            "vanishes, or its jump), vanishing_point, susceptibility_peak, jump, level"
        ),
    ] = None,
    threshold: Annotated[
        float | None, typer.Option(help="--refine: locate where the order parameter crosses this")
    ] = None,
    level: Annotated[
        float | None,
        typer.Option(
            help="--refine: locate where it crosses low + LEVEL·(high − low), 0 < LEVEL < 1"
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar")] = False,
) -> None:
    """Run every planned run of SPEC into STORE; re-running resumes."""
    from landaulab.execute.registry import make_executor
    from landaulab.execute.sweep import sweep as run_sweep

    if batching not in ("auto", "batch", "sequential"):
        raise LandaulabError(f"--batching {batching!r}: choose auto, batch or sequential")
    extra = {"address": address} if address else {}
    if address and executor != "ray":
        raise LandaulabError("--address is only for --executor ray")
    given = {"burn_in": burn_in, "locate": locate, "threshold": threshold, "level": level}
    given = {k: v for k, v in given.items() if v is not None}
    if given and refine is None:
        raise LandaulabError(f"--{next(iter(given)).replace('_', '-')} is only for --refine")
    path = Path(spec)
    with make_executor(executor, workers, **extra) as engine:
        if refine is not None:
            from landaulab.study.refine import refine_sweep

            options = given
            report: SweepReport | RefinementReport = refine_sweep(
                path,
                store=store,
                executor=engine,
                order_parameter=refine,
                tolerance=tolerance,
                retry_failed=retry_failed,
                device=device,
                threads=threads,
                progress=not quiet,
                **options,
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
