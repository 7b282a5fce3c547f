"""Training one run (or one batch of ensemble members) and publishing it to the store.

This is what every executor calls, in-process or in a worker: claim the run, skip it if
it is already in the store, train it through its task, and publish the outcome
(done, diverged or failed) atomically.
"""

from __future__ import annotations

import contextlib
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from landaulab.errors import Diverged
from landaulab.record.context import RunContext
from landaulab.record.schedule import Schedule
from landaulab.spec.plan import PlannedRun
from landaulab.store.store import RunClaim, RunRecord, Store

Outcome = Literal["done", "diverged", "failed", "skipped", "busy"]


@dataclass(frozen=True)
class RunOutcome:
    """What happened to one planned run in this sweep."""

    run_id: str
    outcome: Outcome
    reason: str | None = None
    duration_s: float = 0.0


@dataclass(frozen=True)
class RunOptions:
    """Execution options shared by all runs of a sweep."""

    device: str = "auto"
    threads: int = 1
    retry_failed: bool = False
    attempt: int = 1


def make_context(run: PlannedRun, options: RunOptions) -> RunContext:
    """The run context of a planned run."""
    record = run.record
    kwargs = (
        {"points": record.get("points") or 60}
        if record.get("schedule") == "log"
        else {"every": record.get("every") or 10}
    )
    schedule = Schedule(total_steps=run.total_steps, **kwargs)
    return RunContext(run.params, schedule, record.get("observables"), device=options.device)


def needs_training(store: Store, run_id: str, retry_failed: bool) -> bool:
    """Whether ``run_id`` still has to be trained: absent, or failed and retried."""
    existing = store.get(run_id)
    if existing is None:
        return True
    return existing.status == "failed" and retry_failed


@contextlib.contextmanager
def _torch_threads(threads: int) -> Iterator[None]:
    try:
        import torch
    except ImportError:  # a user task need not use torch
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, threads))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _record(
    run: PlannedRun,
    ctx: RunContext,
    status: str,
    reason: str | None,
    started: float,
    options: RunOptions,
    diverged: Diverged | None = None,
) -> RunRecord:
    return RunRecord(
        run_id=run.run_id,
        task=run.task,
        params=run.params,
        status=status,  # type: ignore[arg-type]
        reason=reason,
        diverged=None
        if diverged is None
        else {"step": diverged.step, "observable": diverged.observable},
        stopped_early=ctx.stopped_early,
        record=run.record,
        duration_s=round(time.time() - started, 3),
        finished=time.time(),
        attempt=options.attempt,
    )


def run_one(store_path: str, run: PlannedRun, options: RunOptions) -> RunOutcome:
    """Train and publish one planned run; safe to call from any process.

    Returns ``skipped`` if the run is already in the store, ``busy`` if another process
    is training it right now.
    """
    from landaulab.tasks.registry import get_task

    store = Store(store_path)
    claim = store.claim(run.run_id)
    if claim is None:
        return RunOutcome(run.run_id, "busy")
    with claim:
        if not needs_training(store, run.run_id, options.retry_failed):
            return RunOutcome(run.run_id, "skipped")
        store.clean_staging(run.run_id)
        task = get_task(run.task)
        ctx = make_context(run, options)
        started = time.time()
        status, reason, diverged = "done", None, None
        with _torch_threads(options.threads):
            try:
                task.function(ctx)
            except Diverged as exc:
                status, reason, diverged = "diverged", str(exc), exc
            except Exception as exc:
                status = "failed"
                reason = f"{type(exc).__name__}: {exc}"
                tail = traceback.format_exc(limit=-3).strip().splitlines()
                reason += " | " + " / ".join(line.strip() for line in tail[-4:])
        record = _record(run, ctx, status, reason, started, options, diverged)
        store.publish(record, ctx.table(), replace=options.retry_failed)
        return RunOutcome(run.run_id, status, reason, record.duration_s or 0.0)  # type: ignore[arg-type]


def run_batch(store_path: str, runs: list[PlannedRun], options: RunOptions) -> list[RunOutcome]:
    """Train several members of one ensemble together through the task's batched path.

    Members already in the store or claimed elsewhere are left out. A member that
    diverges is recorded as diverged (its context carries ``diverged``) while the
    others go on.
    """
    from landaulab.tasks.registry import get_task

    store = Store(store_path)
    outcomes: list[RunOutcome] = []
    members: list[tuple[PlannedRun, RunClaim]] = []
    for run in runs:
        claim = store.claim(run.run_id)
        if claim is None:
            outcomes.append(RunOutcome(run.run_id, "busy"))
            continue
        if not needs_training(store, run.run_id, options.retry_failed):
            claim.release()
            outcomes.append(RunOutcome(run.run_id, "skipped"))
            continue
        store.clean_staging(run.run_id)
        members.append((run, claim))
    if not members:
        return outcomes
    try:
        if len(members) == 1:
            run, claim = members[0]
            claim.release()
            members = []
            return [*outcomes, run_one(store_path, run, options)]
        task = get_task(members[0][0].task)
        assert task.batched is not None
        contexts = [make_context(run, options) for run, _ in members]
        started = time.time()
        failure: str | None = None
        with _torch_threads(options.threads):
            try:
                task.batched(contexts)
            except Exception as exc:
                failure = f"{type(exc).__name__}: {exc}"
        for (run, _), ctx in zip(members, contexts, strict=True):
            diverged = getattr(ctx, "diverged", None)
            status: Outcome
            if failure is not None:
                status, reason = "failed", failure
            elif diverged is not None:
                status, reason = "diverged", str(diverged)
            else:
                status, reason = "done", None
            record = _record(run, ctx, status, reason, started, options, diverged)
            store.publish(record, ctx.table(), replace=options.retry_failed)
            outcomes.append(RunOutcome(run.run_id, status, reason, record.duration_s or 0.0))
    finally:
        for _, claim in members:
            claim.release()
    return outcomes
