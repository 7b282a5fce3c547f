"""The executor interface: run work units, report each run's outcome as it lands.

A *work unit* is a list of planned runs: one run, or several ensemble members that a
task trains together in one batched model. Executors differ only in where units run
(this process, a local process pool, a Ray cluster); each unit is trained by
:func:`execute_unit`, which claims, trains and publishes atomically.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

from landaulab.errors import LandaulabError
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
    """Runs work units somewhere and reports outcomes through a callback.

    An executor may hold resources between :meth:`map` calls (a Ray cluster it started);
    :meth:`close` releases them, and ``with executor:`` closes it on the way out, also
    on errors and Ctrl-C. Whoever creates an executor closes it.
    """

    name: str = "executor"

    @classmethod
    def from_options(cls, workers: int | None = None, **options: Any) -> Executor:
        """The executor for the command line's ``--workers`` and extra options.

        The default takes no options and ignores ``workers`` (one unit at a time);
        executors with settings override it.

        Raises
        ------
        LandaulabError
            For an option this executor does not take.
        """
        reject_options(cls.name, options)
        return cls()

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

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release what the executor holds between maps (nothing by default)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def reject_options(name: str, options: dict[str, Any]) -> None:
    """Refuse options an executor does not take, naming them."""
    if options:
        names = ", ".join(sorted(options))
        raise LandaulabError(f"the {name} executor takes no option {names}")
