"""``landaulab sweep SPEC``: run a sweep into a store, resuming what is done."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from landaulab.cli.app import app
from landaulab.errors import LandaulabError
from landaulab.execute.registry import executor_choices

if TYPE_CHECKING:
    from landaulab.execute.sweep import SweepReport
    from landaulab.spec.schema import SweepSpec
    from landaulab.study.refine import RefinementReport


def _guarded(command: Callable[..., None]) -> Callable[..., None]:
    """The sweep command's frame: the device checked and the task import path set before
    any run starts; Ctrl-C told (what the store keeps) and exit status 130.

    Exit status of ``landaulab sweep``: 0 when every planned run is done or diverged; 1
    when some are failed (their reasons printed, grouped; ``--retry-failed`` trains them
    again); 2 for a usage error (a bad spec, an unavailable ``--device``); 130 on Ctrl-C.
    """

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        from landaulab.execute.sweep import SweepInterrupted, task_import_path
        from landaulab.train.device import check_device

        check_device(kwargs["device"])
        try:
            with task_import_path(kwargs["spec"]):
                command(*args, **kwargs)
        except SweepInterrupted as stop:
            print(stop, file=sys.stderr)
            raise SystemExit(130) from None
        except KeyboardInterrupt:
            print(_interrupted(kwargs["store"]), file=sys.stderr)
            raise SystemExit(130) from None

    return run


def _interrupted(store: Path) -> str:
    """What a store keeps after Ctrl-C (for a refinement, whose rounds plan as they go)."""
    from landaulab.errors import StoreError
    from landaulab.store.store import Store

    try:
        counts = Store(store).status_counts()
    except StoreError:
        return "interrupted before any run was stored; re-run the same command to start"
    kept = counts["done"] + counts["diverged"] + counts["failed"]
    return (
        f"interrupted: {kept} runs are in {store} (finished runs only, none half-written), "
        f"{counts['pending']} pending; re-run the same command to resume"
    )


def _exit_on_failures(spec: str, report: SweepReport | RefinementReport) -> None:
    """Print the failed runs' reasons (grouped) and exit 1 when any planned run failed."""
    from landaulab.execute.sweep import SweepReport, describe_failures, failure_reasons
    from landaulab.store.store import Store

    if isinstance(report, SweepReport):
        failures = report.failures
    else:
        target = Store(report.store)
        failures = failure_reasons(target, target.planned_run_ids())
    if failures:
        for line in describe_failures(failures, f"landaulab sweep {spec} --retry-failed"):
            print(line, file=sys.stderr)
        raise SystemExit(1)


@app.command()
@_guarded
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
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="override a key of the spec with a TOML value (repeatable), e.g. "
            "--set settings.steps=500 --set controls.weight_decay=[0.1,1]; "
            'write "none" to unset a setting',
        ),
    ] = None,
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
    path: Path | SweepSpec = Path(spec)
    if overrides:
        from landaulab.spec.schema import load_spec

        path = load_spec(Path(spec), overrides=overrides)
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
    _exit_on_failures(spec, report)
