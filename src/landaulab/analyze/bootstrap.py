"""Bootstrap over runs: resampling weights, grouped sums and percentile intervals.

The resampling unit is a run segment (Efron & Tibshirani 1993, "An Introduction to the
Bootstrap", ch. 13): within every ensemble group (control, size) the units are drawn with
replacement, so correlations between the steps of one run are carried along intact. When
a group has too few runs, each run is cut into contiguous blocks of steps that serve as
units instead (a block bootstrap, Künsch 1989, Ann. Stat. 17, 1217), which assumes blocks
longer than the autocorrelation time.

A replicate is represented by integer weights (how often each unit was drawn), so every
statistic that is a ratio of sums over samples is recomputed for all replicates at once
with a weighted sum — no resampled copy of the data is ever built.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from landaulab.estimate import percentile_interval as percentile_interval

#: Groups with fewer runs than this are resampled by blocks of steps.
MIN_UNITS = 4
#: Number of units a block-resampled group is cut into (at least).
TARGET_UNITS = 8


@dataclass(frozen=True, eq=False)
class Resampling:
    """Bootstrap weights of the units of every group.

    Attributes
    ----------
    weights
        Array (B, U): how often unit u is drawn in replicate b (columns sum, within a group,
        to the group's number of units).
    unit_group
        Array (U,): the group of every unit; units are sorted by group.
    group_starts
        Array (G,): index of each group's first unit.
    """

    weights: np.ndarray
    unit_group: np.ndarray
    group_starts: np.ndarray

    @property
    def n_bootstrap(self) -> int:
        """Number of replicates B."""
        return int(self.weights.shape[0])

    def group_sum(self, unit_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sum ``unit_values`` over the units of each group.

        Returns
        -------
        full, replicates
            Arrays (G,) for the data and (B, G) for the bootstrap replicates.
        """
        values = np.asarray(unit_values, dtype=float)
        full = np.add.reduceat(values, self.group_starts)
        n_bootstrap = self.n_bootstrap
        replicates = np.empty((n_bootstrap, self.group_starts.size))
        step = _chunk(values.size)
        for low in range(0, n_bootstrap, step):
            high = min(low + step, n_bootstrap)
            replicates[low:high] = np.add.reduceat(
                self.weights[low:high] * values[None, :], self.group_starts, axis=1
            )
        return full, replicates


def resample_units(
    unit_group: np.ndarray, n_groups: int, n_bootstrap: int, rng: np.random.Generator
) -> Resampling:
    """Draw bootstrap weights: units are resampled with replacement within each group.

    Parameters
    ----------
    unit_group
        Group index of every unit, sorted ascending, every group present.
    n_groups
        Number of groups G.
    n_bootstrap
        Number of replicates B.
    rng
        Random generator.
    """
    n_units = unit_group.size
    counts = np.bincount(unit_group, minlength=n_groups)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    base = starts[unit_group]
    size = counts[unit_group]
    # the draws are made a block of replicates at a time (the same random stream as one
    # (B, U) draw), so memory is O(U) per block instead of several (B, U) arrays of int64;
    # a count never exceeds the largest group, so it is held in the smallest such integer
    largest = int(counts.max()) if counts.size else 0
    dtype = np.min_scalar_type(largest) if largest > 0 else np.dtype(np.uint8)
    weights = np.empty((n_bootstrap, n_units), dtype=dtype)
    step = _chunk(n_units)
    for low in range(0, n_bootstrap, step):
        high = min(low + step, n_bootstrap)
        draws = base[None, :] + np.floor(rng.random((high - low, n_units)) * size[None, :]).astype(
            np.int64
        )
        draws += (np.arange(high - low, dtype=np.int64) * n_units)[:, None]
        block = np.bincount(draws.ravel(), minlength=(high - low) * n_units)
        weights[low:high] = block.reshape(high - low, n_units)
    return Resampling(weights=weights, unit_group=unit_group, group_starts=starts)


def _chunk(n_units: int) -> int:
    """Replicates per block so that a block of (replicates × units) numbers stays near
    2²² (32 MB of float64)."""
    return max(1, (1 << 22) // max(n_units, 1))


def standard_error(replicates: np.ndarray, axis: int = 0) -> np.ndarray:
    """Bootstrap standard error (standard deviation of the finite replicates)."""
    values = np.asarray(replicates, dtype=float)
    clean = np.where(np.isfinite(values), values, np.nan)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanstd(clean, axis=axis, ddof=1)
