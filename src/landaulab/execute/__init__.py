"""Executors: where runs are trained (in-process, local processes, Ray)."""

from landaulab.execute.base import Executor, execute_unit
from landaulab.execute.registry import EXECUTORS, make_executor, opened_executor
from landaulab.execute.runner import RunOptions, RunOutcome
from landaulab.execute.sweep import SweepReport, group_units, record_plans, run_planned, sweep

__all__ = [
    "EXECUTORS",
    "Executor",
    "RunOptions",
    "RunOutcome",
    "SweepReport",
    "execute_unit",
    "group_units",
    "make_executor",
    "opened_executor",
    "record_plans",
    "run_planned",
    "sweep",
]
