"""Run a set of observables on their schedules and merge what they return."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

from landaulab.record.observables.base import Observable, ObservableError
from landaulab.record.schedule import Schedule


class LogSpacedSteps:
    """Open-ended log-spaced steps: 0 and ``round(10**(j / per_decade))`` for j = 0, 1, ...

    Used for expensive observables when the run's length is not known in advance.

    Parameters
    ----------
    per_decade
        Number of grid points per factor of ten in the step number.
    """

    def __init__(self, per_decade: int = 10) -> None:
        if per_decade < 1:
            raise ObservableError(f"per_decade must be >= 1, got {per_decade}")
        self.per_decade = int(per_decade)

    def due(self, step: int) -> bool:
        """Whether ``step`` lies on the grid."""
        if step <= 1:
            return step >= 0
        j = self.per_decade * math.log10(step)
        for candidate in (math.floor(j), math.ceil(j)):
            if round(10 ** (candidate / self.per_decade)) == step:
                return True
        return False


class ObservableSet:
    """Observables with their schedules; measures those due at a step.

    Parameters
    ----------
    observables
        Objects following the :class:`~landaulab.record.observables.Observable` protocol.
    total_steps
        Length of the run when known; expensive observables without their own schedule
        then use ``Schedule(total_steps, points=log_points)``. When ``None`` they use an
        open-ended log grid with ``per_decade`` points per decade.
    log_points
        Number of log-spaced steps for expensive observables (with ``total_steps``).
    per_decade
        Grid density of the open-ended log schedule (without ``total_steps``).
    eval_mode
        Put the model in ``eval()`` mode while measuring (dropout and batch-norm
        statistics frozen) and restore its mode afterwards.

    Examples
    --------
    >>> observables = ObservableSet([Loss(objective), HessianTopEigenvalues(objective)])
    >>> for step, batch in enumerate(loader):
    ...     row = observables.measure_due(model, batch, step)  # {} when nothing is due
    """

    def __init__(
        self,
        observables: Iterable[Observable],
        *,
        total_steps: int | None = None,
        log_points: int = 30,
        per_decade: int = 10,
        eval_mode: bool = True,
    ) -> None:
        self.observables: list[Observable] = list(observables)
        names = [getattr(observable, "name", None) for observable in self.observables]
        for observable in self.observables:
            if not isinstance(observable, Observable):
                raise ObservableError(
                    f"{observable!r} is not an observable: it needs name, schedule and "
                    "measure(model, batch, step)"
                )
        duplicates = sorted({str(n) for n in names if names.count(n) > 1})
        if duplicates:
            raise ObservableError(
                f"observable names must be unique; repeated: {duplicates}. Pass name=..."
            )
        if total_steps is not None and total_steps < 0:
            raise ObservableError(f"total_steps must be >= 0, got {total_steps}")
        if log_points < 1:
            raise ObservableError(f"log_points must be >= 1, got {log_points}")
        self.total_steps = total_steps
        self.eval_mode = bool(eval_mode)
        self._open_log = LogSpacedSteps(per_decade)
        self._expensive_schedule = (
            None if total_steps is None else Schedule(total_steps=total_steps, points=log_points)
        )

    def __len__(self) -> int:
        return len(self.observables)

    def __iter__(self):
        return iter(self.observables)

    def is_due(self, observable: Observable, step: int) -> bool:
        """Whether ``observable`` is scheduled at ``step``."""
        if observable.schedule is not None:
            return observable.schedule.due(step)
        if getattr(observable, "cost", "cheap") == "cheap":
            return True
        if self._expensive_schedule is not None:
            return self._expensive_schedule.due(step)
        return self._open_log.due(step)

    def due(self, step: int) -> list[Observable]:
        """The observables scheduled at ``step``."""
        return [observable for observable in self.observables if self.is_due(observable, step)]

    def measure_due(self, model: nn.Module, batch: Any, step: int) -> dict[str, float]:
        """Measure the observables due at ``step``; one merged ``{column: value}`` dict."""
        return self._measure(self.due(int(step)), model, batch, int(step))

    def measure_all(self, model: nn.Module, batch: Any, step: int) -> dict[str, float]:
        """Measure every observable regardless of schedule."""
        return self._measure(self.observables, model, batch, int(step))

    def observe(self, step: int, model: nn.Module, batch: Any) -> dict[str, float]:
        """``measure_due`` with the argument order of a training-loop hook."""
        return self.measure_due(model, batch, step)

    def _measure(
        self, observables: list[Observable], model: nn.Module, batch: Any, step: int
    ) -> dict[str, float]:
        if not observables:
            return {}
        if not isinstance(model, nn.Module):
            raise ObservableError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        was_training = model.training
        if self.eval_mode:
            model.eval()
        merged: dict[str, float] = {}
        owner: dict[str, str] = {}
        try:
            with torch.enable_grad():
                for observable in observables:
                    values = observable.measure(model, batch, step)
                    for key, value in values.items():
                        if key in merged:
                            raise ObservableError(
                                f"observables {owner[key]!r} and {observable.name!r} both "
                                f"return {key!r}; give one of them another name="
                            )
                        merged[key] = float(value)
                        owner[key] = observable.name
        finally:
            model.train(was_training)
        return merged
