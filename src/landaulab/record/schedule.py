"""When to record: every k steps, or at log-spaced steps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Schedule:
    """A set of training steps at which observables are measured.

    Parameters
    ----------
    every
        Record every ``every`` steps (linear schedule). Mutually exclusive with ``points``.
    points
        Number of log-spaced steps between 1 and ``total_steps`` (log schedule).
    total_steps
        The last step of the run (always recorded, as is step 0).
    """

    total_steps: int
    every: int | None = None
    points: int | None = None

    def __post_init__(self) -> None:
        if (self.every is None) == (self.points is None):
            raise ValueError("give exactly one of every= or points=")
        if self.every is not None and self.every < 1:
            raise ValueError("every must be >= 1")
        if self.points is not None and self.points < 1:
            raise ValueError("points must be >= 1")
        if self.total_steps < 0:
            raise ValueError("total_steps must be >= 0")

    def steps(self) -> np.ndarray:
        """All scheduled steps, sorted and unique, including 0 and ``total_steps``."""
        if self.every is not None:
            grid = np.arange(0, self.total_steps + 1, self.every, dtype=np.int64)
        else:
            assert self.points is not None
            top = max(self.total_steps, 1)
            grid = np.unique(np.round(np.geomspace(1, top, self.points)).astype(np.int64))
            grid = np.concatenate([[0], grid])
        grid = np.unique(np.concatenate([grid, [self.total_steps]]))
        return grid[grid <= self.total_steps]

    def due(self, step: int) -> bool:
        """Whether ``step`` is a scheduled step (O(1) for linear, O(log n) for log)."""
        if step == 0 or step == self.total_steps:
            return True
        if self.every is not None:
            return step % self.every == 0
        grid = self._grid
        i = int(np.searchsorted(grid, step))
        return i < len(grid) and int(grid[i]) == step

    @property
    def _grid(self) -> np.ndarray:
        cached = self.__dict__.get("_grid_cache")
        if cached is None:
            cached = self.steps()
            object.__setattr__(self, "_grid_cache", cached)
        return cached
