"""A smoothed, regularly resampled profile of one run: the common ground of change detection.

A run (possibly unevenly sampled, possibly very long) is put on a regular time grid of at
most :data:`MAX_POINTS` points (averaging the samples that fall into each grid cell,
interpolating where a cell is empty), smoothed with a Gaussian kernel whose width is a
fixed fraction of the run's duration, and differentiated. Transitions are peaks of the
smoothed rate of change; plateaus are stretches where the smoothed value stays within a
band of a level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

#: Largest number of points of a profile.
MAX_POINTS = 4096
#: Fewest samples a run needs for a profile.
MIN_SAMPLES = 8


@dataclass(frozen=True, eq=False)
class RunProfile:
    """Smoothed profile of one run on a regular grid.

    Attributes
    ----------
    time
        Regular time grid.
    values
        The run on the grid before smoothing (cell averages or interpolated samples).
    smoothed
        Smoothed order parameter on the grid.
    rate
        Time derivative of ``smoothed``.
    raw_time, raw_value
        The run's original samples.
    smoothing_width
        Standard deviation of the Gaussian smoothing kernel, in time units.
    """

    time: np.ndarray
    values: np.ndarray
    smoothed: np.ndarray
    rate: np.ndarray
    raw_time: np.ndarray
    raw_value: np.ndarray
    smoothing_width: float

    @property
    def duration(self) -> float:
        """Time span of the run."""
        return float(self.time[-1] - self.time[0])

    @property
    def step(self) -> float:
        """Grid spacing."""
        return float(self.time[1] - self.time[0])

    def raw_between(self, start: float, stop: float) -> np.ndarray:
        """Original samples with ``start <= t <= stop``."""
        lo, hi = np.searchsorted(self.raw_time, [start, stop], side="left")
        hi = np.searchsorted(self.raw_time, stop, side="right")
        return self.raw_value[lo:hi]

    def rate_noise(self) -> float:
        """Standard deviation of :attr:`rate` caused by white noise of the samples.

        The samples' robust scatter around the smoothed curve, reduced by the averaging of
        samples per grid cell, propagated through the derivative of the Gaussian kernel
        (``sum_k g'(k)^2 ≈ 1 / (4 sqrt(pi) sigma^3)`` for a kernel of ``sigma`` points).
        """
        per_cell = max(self.raw_time.size / self.time.size, 1.0)
        grid_noise = self.noise() / np.sqrt(per_cell)
        sigma = self.smoothing_width / self.step
        if sigma >= 0.5:
            gain = np.sqrt(1.0 / (4.0 * np.sqrt(np.pi) * sigma**3))
        else:
            gain = 1.0 / np.sqrt(2.0)
        return float(grid_noise * gain / self.step)

    def noise(self) -> float:
        """Robust standard deviation of the samples around the smoothed curve."""
        fitted = np.interp(self.raw_time, self.time, self.smoothed)
        resid = self.raw_value - fitted
        return float(1.4826 * np.median(np.abs(resid - np.median(resid))))


def run_profile(
    time: np.ndarray, value: np.ndarray, *, smoothing: float = 0.005
) -> RunProfile | None:
    """Build the :class:`RunProfile` of one run, or ``None`` if it is too short.

    Parameters
    ----------
    time, value
        Sorted samples of one run.
    smoothing
        Gaussian smoothing width as a fraction of the run's duration (0 disables it).
    """
    time = np.asarray(time, dtype=float)
    value = np.asarray(value, dtype=float)
    if time.size < MIN_SAMPLES or not time[-1] > time[0]:
        return None
    n_grid = int(min(max(time.size, 64), MAX_POINTS))
    grid = np.linspace(time[0], time[-1], n_grid)
    step = grid[1] - grid[0]
    if time.size > n_grid:
        cell = np.clip(np.rint((time - time[0]) / step).astype(int), 0, n_grid - 1)
        counts = np.bincount(cell, minlength=n_grid)
        sums = np.bincount(cell, weights=value, minlength=n_grid)
        filled = counts > 0
        on_grid = np.interp(grid, grid[filled], sums[filled] / counts[filled])
    else:
        on_grid = np.interp(grid, time, value)
    sigma_points = smoothing * (n_grid - 1)
    smoothed = (
        gaussian_filter1d(on_grid, sigma_points, mode="nearest") if sigma_points >= 0.5 else on_grid
    )
    rate = np.gradient(smoothed, step)
    return RunProfile(grid, on_grid, smoothed, rate, time, value, sigma_points * step)
