"""The executor interface: run work units, report each run's outcome as it lands.

A *work unit* is a list of planned runs: one run, or several ensemble members that a
task trains together in one batched model. Executors differ only in where units run
(this process, a local process pool, a Ray cluster); each unit is trained by
:func:`execute_unit`, which claims, trains and publishes atomically.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

from landaulab.execute.runner import RunOptions, RunOutcome, run_batch, run_one
from landaulab.spec.plan import PlannedRun

WorkUnit = Sequence[PlannedRun]
OutcomeCallback = Callable[[RunOutcome], None]


def execute_unit(store_path: str, unit: WorkUnit, options: RunOptions) -> list[RunOutcome]:
    """Train one work unit (a single run, or a batch of members)."""
    if len(unit) == 1:
        return [run_one(store_path, unit[0], options)]
    return run_batch(store_path, list(unit), options)


class Executor(ABC):
    """Runs work units somewhere and reports outcomes through a callback."""

    name: str = "executor"

    @abstractmethod
    def map(
        self,
        store_path: str,
        units: Sequence[WorkUnit],
        options: RunOptions,
        on_outcome: OutcomeCallback,
    ) -> None:
        """Train every unit; call ``on_outcome`` once per run as results arrive.

        Raises
        ------
        KeyboardInterrupt
            After stopping cleanly: runs in progress are abandoned unpublished.
        """

    @property
    def slots(self) -> int:
        """How many units run at once (sizes batches and progress estimates)."""
        return 1
