"""The one run loop and the executor registry.

The loop (``run_planned``) skips what the store holds, waits for runs another process is
training and keeps what that process left; the executor a call makes by name is closed
when the call ends, also on an error or Ctrl-C; an executor passed in stays open.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from landaulab.errors import LandaulabError
from landaulab.execute import EXECUTORS, Executor, make_executor, run_planned, sweep
from landaulab.execute.base import OutcomeCallback, WorkUnit, execute_unit
from landaulab.execute.registry import ExecutorEntry, executor_choices, opened_executor
from landaulab.execute.runner import RunOptions, RunOutcome
from landaulab.execute.serial import SerialExecutor
from landaulab.record.context import RunContext
from landaulab.spec import parse_spec, plan_sweep
from landaulab.store import Store

MODULE = "tests.execute.test_loop"


def ramp(ctx: RunContext) -> None:
    """A cheap run: m = x + step; fails when ``fail`` is set."""
    p = ctx.params
    if p.get("fail"):
        raise RuntimeError("asked to fail")
    for step in range(int(p["steps"]) + 1):
        if ctx.due(step):
            ctx.log(step, m=float(p["x"]) + step)


def worker_pid(ctx: RunContext) -> None:
    """The process that trained the run, as its only observable."""
    ctx.log(0, pid=float(os.getpid()))


def _spec(fail: str = "false") -> str:
    return f"""
name = "loop"
task = "{MODULE}:ramp"
seeds = [0]
[settings]
steps = 4
fail = {fail}
[controls]
x = [0, 1, 2]
[record]
every = 1
"""


class Recording(Executor):
    """Serial training that notes its maps and closes; ``interrupt`` raises Ctrl-C in map,
    ``busy_once`` trains those runs itself on the first map but reports them busy (as if
    another process had trained them meanwhile)."""

    name = "recording"
    closed: ClassVar[list[str]] = []
    interrupt: ClassVar[bool] = False

    def __init__(self, busy_once: Sequence[str] = ()) -> None:
        self.maps: list[list[str]] = []
        self.busy_once = set(busy_once)

    def map(
        self,
        store_path: str,
        units: Sequence[WorkUnit],
        options: RunOptions,
        on_outcome: OutcomeCallback,
    ) -> None:
        self.maps.append([run.run_id for unit in units for run in unit])
        if Recording.interrupt:
            raise KeyboardInterrupt
        for unit in units:
            for outcome in execute_unit(store_path, unit, options):
                if outcome.run_id in self.busy_once:
                    self.busy_once.discard(outcome.run_id)
                    outcome = RunOutcome(outcome.run_id, "busy")
                on_outcome(outcome)

    def close(self) -> None:
        Recording.closed.append(self.name)


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> type[Recording]:
    """``recording`` registered as an executor name for the test."""
    monkeypatch.setitem(EXECUTORS, "recording", ExecutorEntry(f"{MODULE}:Recording"))
    monkeypatch.setattr(Recording, "closed", [])
    monkeypatch.setattr(Recording, "interrupt", False)
    return Recording


# ------------------------------------------------------------------------ registry
def test_the_local_executor_keeps_its_workers_until_closed(tmp_path: Path) -> None:
    from landaulab.execute.local import LocalExecutor

    spec = parse_spec(_spec().replace(":ramp", ":worker_pid"))
    with LocalExecutor(1) as engine:
        sweep(spec, store=tmp_path / "a", executor=engine, progress=False)
        sweep(spec, store=tmp_path / "b", executor=engine, progress=False)
        pids = {p for name in "ab" for p in Store(tmp_path / name).frame()["pid"]}
    assert len(pids) == 1 and float(os.getpid()) not in pids  # one worker, both maps
    assert engine._pool is None  # closed: the worker has exited


def test_registry_names_every_executor_once() -> None:
    assert list(EXECUTORS) == ["serial", "local", "ray"]
    assert executor_choices() == "serial, local, ray"
    assert isinstance(make_executor("serial"), SerialExecutor)
    local = make_executor("local", 3)
    assert local.name == "local" and local.slots == 3


def test_unknown_executor_and_unknown_option_are_one_line() -> None:
    with pytest.raises(LandaulabError) as info:
        make_executor("slurm")
    assert str(info.value) == "unknown executor 'slurm'; choose from serial, local, ray"
    with pytest.raises(LandaulabError, match="the local executor takes no option address"):
        make_executor("local", 2, address="auto")


def test_cli_lists_the_registered_executors(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from landaulab.cli import app

    result = CliRunner().invoke(app, ["sweep", "--help"], env={"COLUMNS": "200"})
    assert "serial, local, ray" in " ".join(result.output.split())
    spec = tmp_path / "spec.toml"
    spec.write_text(_spec())
    from landaulab.cli import main

    assert main(["sweep", str(spec), "--executor", "slurm", "--store", str(tmp_path / "s")]) == 2
    assert not (tmp_path / "s").exists()


def test_a_registered_executor_is_one_line(tmp_path: Path, recording: type[Recording]) -> None:
    report = sweep(parse_spec(_spec()), store=tmp_path / "s", executor="recording", progress=False)
    assert report.outcomes == {"done": 3, "skipped": 0}
    assert recording.closed == ["recording"]


# ----------------------------------------------------------------------- closing
def test_named_executor_is_closed_on_ctrl_c(tmp_path: Path, recording: type[Recording]) -> None:
    recording.interrupt = True
    with pytest.raises(KeyboardInterrupt):
        sweep(parse_spec(_spec()), store=tmp_path / "s", executor="recording", progress=False)
    assert recording.closed == ["recording"]


def test_refinement_closes_its_executor_on_an_error(
    tmp_path: Path, recording: type[Recording]
) -> None:
    from landaulab.errors import DataError
    from landaulab.study.refine import refine

    spec = parse_spec(_spec())
    with pytest.raises(DataError, match="do not record 'q'"):
        refine(
            spec, store=tmp_path / "s", order_parameter="q", executor="recording", progress=False
        )
    assert recording.closed == ["recording"]
    recording.interrupt = True
    with pytest.raises(KeyboardInterrupt):
        refine(
            spec, store=tmp_path / "t", order_parameter="m", executor="recording", progress=False
        )
    assert recording.closed == ["recording", "recording"]


def test_an_executor_passed_in_stays_open(tmp_path: Path, recording: type[Recording]) -> None:
    engine = Recording()
    sweep(parse_spec(_spec()), store=tmp_path / "s", executor=engine, progress=False)
    with opened_executor(engine) as same:
        assert same is engine
    assert recording.closed == []
    with engine:
        pass
    assert recording.closed == ["recording"]


# ----------------------------------------------------------------------- the loop
def _planned(tmp_path: Path, fail: str = "false") -> tuple[Store, list[Any]]:
    spec = parse_spec(_spec(fail))
    return Store(tmp_path / "s", create=True), plan_sweep(spec)


def test_loop_skips_what_the_store_holds(tmp_path: Path) -> None:
    store, runs = _planned(tmp_path)
    first = run_planned(store, runs, SerialExecutor(), RunOptions(), progress=False)
    assert dict(first) == {"done": 3, "skipped": 0}
    engine = Recording()
    again = run_planned(store, runs, engine, RunOptions(), progress=False)
    assert dict(again) == {"skipped": 3} and engine.maps == [[]]


def test_a_run_trained_meanwhile_elsewhere_is_kept(tmp_path: Path) -> None:
    store, runs = _planned(tmp_path)
    engine = Recording(busy_once=[runs[1].run_id])
    counts = run_planned(store, runs, engine, RunOptions(), progress=False)
    # The busy run was published by "the other process": waited for, not trained again.
    assert dict(counts) == {"done": 2, "skipped": 1}
    assert len(engine.maps) == 2 and engine.maps[1] == []
    assert set(store.run_ids()) == {r.run_id for r in runs}


def test_a_failure_elsewhere_is_not_retried_twice(tmp_path: Path) -> None:
    store, runs = _planned(tmp_path, fail="true")
    first = run_planned(store, runs, SerialExecutor(), RunOptions(), progress=False)
    assert dict(first) == {"failed": 3, "skipped": 0}
    # Retrying: the other process retries run 0 (and fails again) while this one waits;
    # the fresh failure is kept, the other runs are retried here once each.
    engine = Recording(busy_once=[runs[0].run_id])
    options = RunOptions(retry_failed=True)
    counts = run_planned(store, runs, engine, options, progress=False)
    assert dict(counts) == {"failed": 2, "skipped": 1}
    assert len(engine.maps) == 2 and engine.maps[1] == []
