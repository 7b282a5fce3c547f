"""Plain summaries of the tidy frame that the figures show next to the analysis results.

These are descriptive, not estimates: the late-time value of an observable in each run,
its mean over seeds on a grid of two controls (the phase-diagram heat map), and its mean
over runs along training time. Every fitted number in a report comes from the analysis and
dynamics results; nothing here fits anything.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Fraction of each run's step range (the last part) averaged into its late-time value.
LATE_FRACTION = 0.2
#: Largest number of time bins of a control × time heat map.
TIME_BINS = 60


def late_values(
    frame: pd.DataFrame,
    column: str,
    *,
    run_col: str = "run_id",
    step_col: str = "step",
    fraction: float = LATE_FRACTION,
    parameters: tuple[str, ...] = (),
    absolute: bool = False,
) -> pd.DataFrame:
    """The late-time value of ``column`` in every run, with the run's parameters.

    The late-time value is the mean over the last ``fraction`` of the run's step range
    (non-finite values left out); with ``absolute`` the mean of |value|, for an order
    parameter taking both signs. Runs without one finite value are dropped.

    Returns
    -------
    pandas.DataFrame
        Columns ``run_col``, the ``parameters`` (first value in the run) and ``value``.
    """
    keep = [c for c in dict.fromkeys([run_col, step_col, column, *parameters]) if c in frame]
    data = frame[keep].copy()
    data["value"] = pd.to_numeric(data[column], errors="coerce").astype(float)
    if absolute:
        data["value"] = data["value"].abs()
    if step_col in data:
        step = pd.to_numeric(data[step_col], errors="coerce").astype(float)
    else:
        step = pd.Series(np.arange(len(data), dtype=float), index=data.index)
    data["_step"] = step.to_numpy()
    data = data[np.isfinite(data["value"].to_numpy()) & np.isfinite(data["_step"].to_numpy())]
    if data.empty:
        return pd.DataFrame(columns=[run_col, *parameters, "value"])
    grouped = data.groupby(run_col, sort=True)["_step"]
    first, last = grouped.transform("min"), grouped.transform("max")
    late = data[data["_step"] >= first + (1.0 - fraction) * (last - first)]
    summary = late.groupby(run_col, sort=True)["value"].mean().rename("value")
    params = [p for p in parameters if p in data.columns and p != run_col]
    if params:
        info = data.groupby(run_col, sort=True)[params].first()
        summary = info.join(summary)
    return summary.reset_index()


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
