"""Synthetic training curves: logistic steps at planted times, and null runs without one.

A sudden capability gain in training (grokking, a loss cliff, the emergence of a skill) is
commonly summarised by a logistic step in a metric against time (Power et al. 2022,
arXiv:2201.02177; Nanda et al. 2023, arXiv:2301.05217 measure the onset and end of such
steps). Here the step is planted exactly:

    m(t) = low + jump / (1 + exp(−(t − t_mid)/w)) + drift·t/duration + noise·ε(t),

with ε white Gaussian noise. Its rate of change peaks at the midpoint t_mid; the planted
*onset* and *end* are where the rate has fallen to ``edge_fraction`` (default 10 %) of its
peak, t_mid ∓ w·ln((1 − s)/s) with s(1 − s) = edge_fraction/4 (≈ t_mid ∓ 3.64 w for 10 %),
the definition of a transition's start and end in :mod:`landaulab.dynamics`. A *null* run
(midpoint ``NaN``) has noise and an optional slow linear drift only: no transition.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from landaulab.datasets._tidy import as_count
from landaulab.errors import DataError

#: Fraction of the peak rate at which the planted onset and end are placed.
EDGE_FRACTION = 0.1


def logistic_step(
    time: np.ndarray | float, midpoint: float, width: float, low: float = 0.0, jump: float = 1.0
) -> np.ndarray:
    """low + jump / (1 + exp(−(t − midpoint)/width))."""
    t = np.asarray(time, dtype=float)
    with np.errstate(over="ignore"):
        return low + jump / (1.0 + np.exp(-(t - midpoint) / width))


def transition_edges(
    midpoint: np.ndarray | float, width: np.ndarray | float, edge_fraction: float = EDGE_FRACTION
) -> tuple[np.ndarray, np.ndarray]:
    """(onset, end): where the logistic rate falls to ``edge_fraction`` of its peak.

    Vectorised over ``midpoint`` and ``width`` (0-d arrays for scalars).
    """
    w = np.asarray(width, dtype=float)
    if not 0 < edge_fraction < 1 or not np.all(w > 0):
        raise DataError("need 0 < edge_fraction < 1 and width > 0")
    s = 0.5 * (1.0 - np.sqrt(1.0 - edge_fraction))
    half = w * np.log((1.0 - s) / s)
    mid = np.asarray(midpoint, dtype=float)
    return mid - half, mid + half


def training_curves(
    midpoints: Sequence[float] | np.ndarray,
    widths: Sequence[float] | np.ndarray | float,
    *,
    jumps: Sequence[float] | np.ndarray | float = 1.0,
    low: float = 0.0,
    noise: Sequence[float] | np.ndarray | float = 0.05,
    drift: Sequence[float] | np.ndarray | float = 0.0,
    n_points: int = 500,
    duration: float | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """One run per entry of ``midpoints``: a planted logistic step plus noise, or a null run.

    Parameters
    ----------
    midpoints
        Planted midpoint t_mid of each run, in units of ``time``; ``NaN`` makes a null run
        (no step).
    widths
        Logistic widths w (one value, or one per run); the 10 %-of-peak-rate edges span
        ≈ 7.3 w.
    jumps
        Size of each step (signed; one value or one per run).
    low
        Level before the step.
    noise
        Standard deviation of the white measurement noise (one value or one per run).
    drift
        Linear drift over the whole record (one value or one per run), added to every run.
    n_points
        Samples per run, evenly spaced from 0 to ``duration``.
    duration
        Length of the record (default ``n_points − 1``, i.e. time = step).
    seed
        Seed of the noise; the same arguments give the same frame.

    Returns
    -------
    pandas.DataFrame
        Columns ``run_id``, ``step``, ``time`` and ``m``.
    """
    mids = np.atleast_1d(np.asarray(midpoints, dtype=float))
    if mids.ndim != 1 or mids.size == 0:
        raise DataError("midpoints must be a non-empty list (NaN for a null run)")
    n = mids.size
    points = as_count(n_points, "n_points", minimum=3)
    length = float(points - 1 if duration is None else duration)
    if not length > 0:
        raise DataError(f"duration must be positive; got {duration}")

    def per_run(value: Sequence[float] | np.ndarray | float, name: str) -> np.ndarray:
        array = np.broadcast_to(np.asarray(value, dtype=float), (n,)).astype(float)
        if not np.all(np.isfinite(array)):
            raise DataError(f"{name} must be finite")
        return array

    w, jump, sd, slope = (
        per_run(widths, "widths"),
        per_run(jumps, "jumps"),
        per_run(noise, "noise"),
        per_run(drift, "drift"),
    )
    if np.any(w <= 0) or np.any(sd < 0):
        raise DataError("widths must be positive and noise non-negative")
    rng = np.random.default_rng(seed)
    time = np.linspace(0.0, length, points)
    with np.errstate(over="ignore"):
        step = jump[:, None] / (1.0 + np.exp(-(time[None, :] - mids[:, None]) / w[:, None]))
    step = np.where(np.isnan(mids)[:, None], 0.0, step)
    values = (
        low
        + step
        + slope[:, None] * time[None, :] / length
        + sd[:, None] * rng.standard_normal((n, points))
    )
    return pd.DataFrame(
        {
            "run_id": np.repeat(np.arange(n, dtype=np.int64), points),
            "step": np.tile(np.arange(points, dtype=np.int64), n),
            "time": np.tile(time, n),
            "m": values.ravel(),
        }
    )
