"""Executors: where runs are trained (in-process, local processes, Ray)."""

from landaulab.execute.base import Executor, execute_unit
from landaulab.execute.runner import RunOptions, RunOutcome
from landaulab.execute.sweep import SweepReport, group_units, make_executor, sweep

__all__ = [
    "Executor",
    "RunOptions",
    "RunOutcome",
    "SweepReport",
    "execute_unit",
    "group_units",
    "make_executor",
    "sweep",
]
