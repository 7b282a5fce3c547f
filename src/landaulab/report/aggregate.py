"""Plain summaries of the tidy frame that the figures show next to the analysis results.

These are descriptive, not estimates: the late-time value of an observable in each run
(:func:`landaulab.analyze.roles.late_values`, over the analysis' late window),
its mean over seeds on a grid of two controls (the phase-diagram heat map), and its mean
over runs along training time. Every fitted number in a report comes from the analysis and
dynamics results; nothing here fits anything.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from landaulab.analyze.roles import late_values as late_values

#: Largest number of time bins of a control × time heat map.
TIME_BINS = 60


def phase_grid(runs: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Mean late-time value on the grid of two controls (rows: ``y``, columns: ``x``)."""
    data = runs[[x, y, "value"]].copy()
    data[x] = pd.to_numeric(data[x], errors="coerce")
    data[y] = pd.to_numeric(data[y], errors="coerce")
    data = data.dropna()
    return (
        data.pivot_table(index=y, columns=x, values="value", aggfunc="mean")
        .sort_index(axis=0)
        .sort_index(axis=1)
    )


def time_grid(
    frame: pd.DataFrame,
    column: str,
    control: str,
    *,
    step_col: str = "step",
    bins: int = TIME_BINS,
    absolute: bool = False,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Mean of ``column`` (of its magnitude with ``absolute``) over runs, on a grid of
    control × training time.

    Returns
    -------
    grid, edges
        The grid (rows: time bins, columns: control values) and the time-bin edges.
    """
    value = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    if absolute:
        value = np.abs(value)
    ctrl = pd.to_numeric(frame[control], errors="coerce").to_numpy(dtype=float)
    step = pd.to_numeric(frame[step_col], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(value) & np.isfinite(ctrl) & np.isfinite(step)
    value, ctrl, step = value[ok], ctrl[ok], step[ok]
    if value.size == 0:
        return pd.DataFrame(), np.zeros(0)
    lo, hi = float(step.min()), float(step.max())
    n_bins = int(min(bins, max(np.unique(step).size, 1)))
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, n_bins + 1)
    index = np.clip(np.searchsorted(edges, step, side="right") - 1, 0, n_bins - 1)
    grid = (
        pd.DataFrame({"bin": index, "control": ctrl, "value": value})
        .pivot_table(index="bin", columns="control", values="value", aggfunc="mean")
        .reindex(range(n_bins))
        .sort_index(axis=1)
    )
    return grid, edges


def control_summary(runs: pd.DataFrame, control: str, size: str | None = None) -> pd.DataFrame:
    """Mean and standard error of the late-time values over runs, per (control, size).

    Returns
    -------
    pandas.DataFrame
        Columns ``control``, ``size`` (NaN without a size column), ``mean``,
        ``mean_stderr`` and ``n_runs``.
    """
    data = pd.DataFrame(
        {
            "control": pd.to_numeric(runs[control], errors="coerce"),
            "size": pd.to_numeric(runs[size], errors="coerce") if size else np.nan,
            "value": runs["value"],
        }
    ).dropna(subset=["control", "value"])
    if data.empty:
        return pd.DataFrame(columns=["control", "size", "mean", "mean_stderr", "n_runs"])
    grouped = data.groupby(["size", "control"], dropna=False, sort=True)["value"]
    out = grouped.agg(mean="mean", std="std", n_runs="count").reset_index()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["mean_stderr"] = out["std"] / np.sqrt(out["n_runs"])
    return out.drop(columns="std")
