"""The run context: what a training function receives and logs into.

A task (built-in or a user's ``package.module:function``) is a callable
``task(ctx: RunContext) -> None``. It reads its settings from ``ctx.params``, trains,
and calls ``ctx.log(step, name=value, ...)`` whenever ``ctx.due(step)`` says so. The
executor turns the logged rows into the run's trajectory in the store.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from landaulab.errors import Diverged
from landaulab.record.schedule import Schedule


class RunContext:
    """Parameters in, observables out, for one training run.

    Parameters
    ----------
    params
        The fully resolved parameters of the run (task settings, control parameters
        and ``seed``).
    schedule
        When observables are due.
    observables
        Names of the observables requested; ``None`` records everything the task offers.
    device
        ``"auto"`` (GPU when present), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    """

    def __init__(
        self,
        params: Mapping[str, Any],
        schedule: Schedule,
        observables: Iterable[str] | None = None,
        device: str = "auto",
    ) -> None:
        self.params: dict[str, Any] = dict(params)
        self.schedule = schedule
        self.observables: frozenset[str] | None = (
            None if observables is None else frozenset(observables)
        )
        self.device = device
        self._rows: dict[int, dict[str, float]] = {}
        self.stopped_early: dict[str, Any] | None = None
        self.diverged: Diverged | None = None
        """Set by a batched run when this member diverged (the others go on)."""

    @property
    def seed(self) -> int:
        """The run's random seed (``params["seed"]``, 0 when absent)."""
        return int(self.params.get("seed", 0))

    @property
    def total_steps(self) -> int:
        """The last step of the run."""
        return self.schedule.total_steps

    def due(self, step: int) -> bool:
        """Whether observables should be measured at ``step``."""
        return self.schedule.due(step)

    def wants(self, name: str) -> bool:
        """Whether the observable ``name`` was requested."""
        return self.observables is None or name in self.observables

    def log(self, step: int, check_finite: bool = True, **values: float) -> None:
        """Record scalar observables at ``step``.

        Values logged twice at the same step are merged into one row. Observables that
        were not requested are dropped.

        Raises
        ------
        Diverged
            If ``check_finite`` and a value is NaN or infinite; the run is then recorded
            as diverged, with the rows logged so far kept.
        """
        self.log_values(step, values, check_finite)

    def log_values(self, step: int, values: Mapping[str, float], check_finite: bool = True) -> None:
        """Record the scalar observables of a mapping at ``step`` (see :meth:`log`).

        The same as ``log(step, check_finite, **values)``, for values gathered in a dict.

        Raises
        ------
        Diverged
            If ``check_finite`` and a value is NaN or infinite.
        """
        step = int(step)
        row = self._rows.setdefault(step, {})
        for name, value in values.items():
            if not self.wants(name):
                continue
            v = float(value)
            row[name] = v
            if check_finite and not math.isfinite(v):
                raise Diverged(step, name)

    def stop(self, reason: str, step: int) -> None:
        """Mark the run as stopped early (its outcome decided) at ``step``."""
        self.stopped_early = {"step": int(step), "reason": str(reason)}

    @property
    def logged_steps(self) -> int:
        """Number of distinct steps logged so far."""
        return len(self._rows)

    def table(self) -> pd.DataFrame:
        """The trajectory logged so far: a ``step`` column and one float column each."""
        if not self._rows:
            return pd.DataFrame({"step": np.array([], dtype=np.int64)})
        steps = sorted(self._rows)
        names = sorted({k for row in self._rows.values() for k in row})
        data: dict[str, Any] = {"step": np.asarray(steps, dtype=np.int64)}
        for name in names:
            data[name] = np.array(
                [self._rows[s].get(name, np.nan) for s in steps], dtype=np.float64
            )
        return pd.DataFrame(data)
