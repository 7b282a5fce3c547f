"""The in-process executor: one unit after another (for debugging and small sweeps)."""

from __future__ import annotations

from collections.abc import Sequence

from landaulab.execute.base import Executor, OutcomeCallback, WorkUnit, execute_unit
from landaulab.execute.runner import RunOptions


class SerialExecutor(Executor):
    """Train units one after another in this process, so a debugger can follow them."""

    name = "serial"

    def map(
        self,
        store_path: str,
        units: Sequence[WorkUnit],
        options: RunOptions,
        on_outcome: OutcomeCallback,
    ) -> None:
        """Train every unit in order."""
        for unit in units:
            for outcome in execute_unit(store_path, unit, options):
                on_outcome(outcome)
