"""Bootstrap helpers shared by the estimators: resampling weights and interval levels.

With few resampling units (runs or blocks) the plain percentile interval is too narrow.
Intervals here use Hesterberg's *expanded percentile* interval (Hesterberg 2015, "What
teachers should know about the bootstrap", Am. Stat. 69:371): percentiles are taken at
the level ``alpha'`` with ``z_(1-alpha'/2) = sqrt(n/(n-1)) t_(n-1, 1-alpha/2)`` where ``n`` is
the number of units, which matches the t interval's small-sample width and tends to the
ordinary percentile interval as ``n`` grows.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm, t


def expanded_levels(alpha: float, n_units: int) -> tuple[float, float]:
    """Lower and upper quantile levels of the expanded percentile interval."""
    if n_units < 2:
        return alpha / 2, 1 - alpha / 2
    stretched = np.sqrt(n_units / (n_units - 1)) * t.ppf(1 - alpha / 2, n_units - 1)
    tail = float(norm.sf(stretched))
    return tail, 1.0 - tail


def percentile_interval(
    replicates: np.ndarray | list[float], alpha: float, n_units: int
) -> tuple[float, float]:
    """Expanded percentile interval of finite bootstrap replicates (NaN with fewer than 2)."""
    values = np.asarray(replicates, dtype=float)
    values = values[np.isfinite(values)]
    if values.size < 2:
        return float("nan"), float("nan")
    lo, hi = expanded_levels(alpha, n_units)
    low, high = np.quantile(values, [lo, hi])
    return float(low), float(high)


def resampling_weights(rng: np.random.Generator, n_boot: int, n_units: int) -> np.ndarray:
    """``(n_boot, n_units)`` multiplicities of units drawn with replacement."""
    draws = rng.integers(0, n_units, size=(n_boot, n_units))
    weights = np.zeros((n_boot, n_units))
    np.add.at(weights, (np.repeat(np.arange(n_boot), n_units), draws.ravel()), 1.0)
    return weights
