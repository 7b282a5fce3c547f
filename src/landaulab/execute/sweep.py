"""Running a sweep: plan, skip what is done, execute the rest, report progress.

:func:`run_planned` is the one run loop: :func:`sweep` and every round of an adaptive
refinement train their runs through it.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from landaulab.execute.base import Executor, WorkUnit
from landaulab.execute.registry import opened_executor
from landaulab.execute.runner import RunOptions, RunOutcome, needs_training
from landaulab.spec.plan import PlannedRun, plan_sweep
from landaulab.spec.schema import SweepSpec, load_spec
from landaulab.store.store import Store

Batching = Literal["auto", "batch", "sequential"]

# Rounds of waiting for runs that other processes are training, at most.
_MAX_WAITS = 100


@dataclass(frozen=True)
class SweepReport:
    """What a sweep did: counts by outcome and where the store is."""

    store: str
    planned: int
    outcomes: dict[str, int] = field(default_factory=dict)
    duration_s: float = 0.0
    #: Why planned runs are failed in the store (trained now or earlier): reason → runs.
    failures: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        """Planned runs that are failed in the store (now or in an earlier sweep)."""
        return sum(self.failures.values())

    @property
    def complete(self) -> bool:
        """Whether every planned run is now in the store."""
        in_store = sum(self.outcomes.get(k, 0) for k in ("done", "diverged", "failed", "skipped"))
        return in_store == self.planned

    def __str__(self) -> str:
        parts = ", ".join(f"{v} {k}" for k, v in sorted(self.outcomes.items()) if v)
        return f"{self.planned} runs planned: {parts or 'nothing to do'} ({self.duration_s:.1f} s)"


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep, after the executor stopped: what the store keeps.

    Runs are published whole or not at all, so the store holds ``done`` complete runs
    and nothing of the ``pending`` ones; re-running the same sweep resumes.
    """

    def __init__(self, store: str, done: int, pending: int) -> None:
        super().__init__(store, done, pending)
        self.store, self.done, self.pending = store, done, pending

    def __str__(self) -> str:
        return (
            f"interrupted: {self.done} runs are in {self.store} (finished runs only, none "
            f"half-written), {self.pending} pending; re-run the same command to resume"
        )


def short_reason(reason: str | None) -> str:
    """A failure reason without its traceback tail (what groups failures)."""
    text = (reason or "no reason recorded").split(" | ", 1)[0].strip()
    return text or "no reason recorded"


def failure_reasons(store: Store, run_ids: Iterable[str]) -> dict[str, int]:
    """Failed runs among ``run_ids`` by reason (most frequent first)."""
    wanted = set(run_ids)
    reasons = Counter(
        short_reason(r.reason)
        for r in store.records()
        if r.run_id in wanted and r.status == "failed"
    )
    return dict(reasons.most_common())


def describe_failures(failures: dict[str, int], retry: str = "--retry-failed") -> list[str]:
    """Lines telling how many runs failed, why (grouped, counted), and how to retry."""
    if not failures:
        return []
    total = sum(failures.values())
    lines = [f"{total} run{'s' if total != 1 else ''} failed:"]
    lines += [f"  {count} × {reason}" for reason, count in failures.items()]
    lines.append(
        f"failed runs are kept as failed and skipped on re-runs; train them again with {retry}"
    )
    return lines


@contextlib.contextmanager
def task_import_path(spec_path: str | Path | None = None) -> Iterator[list[str]]:
    """Put the spec's folder, then the working folder, first on the import path.

    So a user task ``mytask:train`` in a file beside the spec (or in the folder the sweep
    is started from) imports without setting ``PYTHONPATH``; the spec's folder comes
    first, as a script's own folder does for ``python script.py``. Worker processes
    inherit the path. The folders are removed again when the block ends.
    """
    folders = []
    if spec_path is not None and Path(spec_path).suffix:
        folders.append(str(Path(spec_path).resolve().parent))
    folders.append(os.getcwd())
    added = [f for f in dict.fromkeys(folders) if f not in sys.path]
    sys.path[0:0] = added
    importlib.invalidate_caches()
    try:
        yield added
    finally:
        for folder in added:
            with contextlib.suppress(ValueError):
                sys.path.remove(folder)


def group_units(
    runs: Sequence[PlannedRun], batching: Batching = "auto", max_members: int = 64
) -> list[WorkUnit]:
    """Group runs into work units: ensemble members a task can batch, else one per unit.

    Members of one unit share the task and every parameter outside the task's
    ``batch_keys``; with ``batching="auto"`` the task's ``prefers_batching`` decides.
    """
    from landaulab.tasks.registry import get_task

    if batching == "sequential" or not runs:
        return [[run] for run in runs]
    units: list[WorkUnit] = []
    by_task: dict[str, list[PlannedRun]] = {}
    for run in runs:
        by_task.setdefault(run.task, []).append(run)
    for task_name, members in by_task.items():
        task = get_task(task_name)
        if task.batched is None or (batching == "auto" and not task.prefers_batching):
            units.extend([run] for run in members)
            continue
        groups: dict[str, list[PlannedRun]] = {}
        for run in members:
            shared = {k: v for k, v in run.params.items() if k not in task.batch_keys}
            key = repr(sorted(shared.items())) + repr(sorted(run.record.items()))
            groups.setdefault(key, []).append(run)
        for group in groups.values():
            for start in range(0, len(group), max_members):
                units.append(group[start : start + max_members])
    return units


def record_plans(
    store: Store, plans: Sequence[tuple[SweepSpec, Sequence[PlannedRun]]]
) -> list[PlannedRun]:
    """Save each spec's plan in the store and return the distinct planned runs.

    ``plans`` pairs each spec with its :func:`~landaulab.spec.plan.plan_sweep`; a run
    planned by several specs (the same parameters and seed) appears once, in the order
    first planned.
    """
    runs: dict[str, PlannedRun] = {}
    for spec, planned in plans:
        params = {r.run_id: r.params for r in planned}
        store.save_plan(spec.name, params, spec.model_dump(mode="json"))
        for run in planned:
            runs.setdefault(run.run_id, run)
    return list(runs.values())


def run_planned(
    store: Store,
    runs: Sequence[PlannedRun],
    executor: Executor,
    options: RunOptions,
    *,
    batching: Batching = "auto",
    label: str = "runs",
    progress: bool = True,
    console: Console | None = None,
) -> Counter[str]:
    """Train every run of ``runs`` that still needs it, through ``executor``.

    The one run loop of every sweep and every refinement round: runs already in the
    store are skipped (failed ones are trained again with ``options.retry_failed``),
    the rest go to the executor in work units, and a progress bar counts them. A run
    another process is training (``busy``) is waited for, then trained only if that
    process left it absent: a run it just trained is kept, whatever it ended as, so a
    failure is retried at most once per request.

    Parameters
    ----------
    store
        The store the runs are trained into.
    runs
        Distinct planned runs (see :func:`record_plans`).
    executor
        Where units train; it is not closed here (its creator closes it).
    options
        Device, threads and the retry rule of every run.
    batching
        ``"auto"``, ``"batch"`` or ``"sequential"`` (see :func:`group_units`).
    label
        The progress bar's description.
    progress
        Show the progress bar.
    console
        Where the bar is drawn (default: standard error).

    Returns
    -------
    collections.Counter
        Runs by outcome: ``done``, ``diverged``, ``failed`` (trained now) and ``skipped``
        (already in the store, or trained meanwhile by another process).
    """
    counts: Counter[str] = Counter()
    todo = [r for r in runs if needs_training(store, r.run_id, options.retry_failed)]
    counts["skipped"] = len(runs) - len(todo)
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failures]} failed/diverged"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
        disable=not progress,
        transient=False,
    )
    busy: list[str] = []
    with bar:
        handle = bar.add_task(label, total=len(runs), completed=counts["skipped"], failures=0)

        def on_outcome(outcome: RunOutcome) -> None:
            if outcome.outcome == "busy":
                busy.append(outcome.run_id)
                return
            counts[outcome.outcome] += 1
            bar.update(handle, advance=1, failures=counts["failed"] + counts["diverged"])

        for _attempt in range(_MAX_WAITS):
            busy.clear()
            executor.map(str(store.path), group_units(todo, batching), options, on_outcome)
            if not busy:
                break
            # Another process was training these: wait for it, then train what it left.
            for run_id in busy:
                claim = store.claim(run_id, wait=True)
                if claim is not None:
                    claim.release()
            waiting = set(busy)
            todo = [
                r for r in todo if r.run_id in waiting and needs_training(store, r.run_id, False)
            ]
            counts["skipped"] += len(waiting) - len(todo)
            bar.update(handle, advance=len(waiting) - len(todo))
    return counts


def sweep(
    spec: SweepSpec | str | Path,
    store: str | Path = "landaulab-store",
    executor: Executor | str = "local",
    workers: int | None = None,
    retry_failed: bool = False,
    device: str = "auto",
    threads: int = 1,
    batching: Batching = "auto",
    progress: bool = True,
    console: Console | None = None,
) -> SweepReport:
    """Run a sweep into a store, resuming where an earlier one stopped.

    Parameters
    ----------
    spec
        A :class:`SweepSpec` or the path of a TOML spec.
    store
        The store directory (created if missing).
    executor
        ``"local"`` (process pool), ``"serial"`` (in-process), ``"ray"``, or an instance.
    workers
        Worker processes for the local executor (default: number of cores).
    retry_failed
        Train failed runs again (done and diverged runs are always kept).
    device
        ``"auto"`` (GPU when present), ``"cpu"`` or ``"cuda"``.
    threads
        Torch threads per run (1 keeps runs deterministic and workers independent).
    batching
        ``"auto"``, ``"batch"`` or ``"sequential"``: whether ensemble members of a task
        with a batched path train together.
    progress
        Show a progress bar (done/total, failures, ETA).

    Returns
    -------
    SweepReport
        Counts by outcome: ``done``, ``diverged``, ``failed`` (trained now), ``skipped``
        (already in the store); ``failures``: every planned run failed in the store, by
        reason (see :func:`describe_failures`).

    Raises
    ------
    LandaulabError
        The spec is invalid, or ``device`` is not available (checked before any run).
    SweepInterrupted
        On Ctrl-C, after the executor stopped: how many runs the store keeps.

    Notes
    -----
    A user task ``module:function`` is imported from the spec's folder, then the working
    folder (:func:`task_import_path`).
    """
    from landaulab.train.device import check_device

    check_device(device)
    spec_path = None if isinstance(spec, SweepSpec) else spec
    with task_import_path(spec_path):
        if not isinstance(spec, SweepSpec):
            spec = load_spec(spec)
        started = time.time()
        planned = plan_sweep(spec)  # a spec that cannot be planned leaves no store behind
        options = RunOptions(device=device, threads=threads, retry_failed=retry_failed)
        target: Store | None = None
        runs: list[PlannedRun] = []
        try:
            with opened_executor(executor, workers) as engine:
                target = Store(store, create=True)
                runs = record_plans(target, [(spec, planned)])
                counts = run_planned(
                    target,
                    runs,
                    engine,
                    options,
                    batching=batching,
                    label=spec.name,
                    progress=progress,
                    console=console,
                )
        except KeyboardInterrupt:
            if target is None:
                raise
            kept = sum(1 for run in runs if run.run_id in target)
            raise SweepInterrupted(str(target.path), kept, len(runs) - kept) from None
    return SweepReport(
        store=str(target.path),
        planned=len(runs),
        outcomes=dict(counts),
        duration_s=time.time() - started,
        failures=failure_reasons(target, (run.run_id for run in runs)),
    )
