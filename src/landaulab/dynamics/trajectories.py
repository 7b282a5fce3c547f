"""Trajectories of an order parameter: validation of a tidy frame into per-run arrays.

A tidy frame has one row per (run, time). :func:`prepare_trajectories` turns it into a
:class:`Trajectories` object: rows sorted by time inside each run, non-finite rows
dropped, exact duplicate rows removed, and every run kept separate. Increments are only
ever taken between consecutive samples of the *same* run, so runs are never stitched
together, and the time column may be unevenly spaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from landaulab.design import Binning, bin_controls
from landaulab.errors import DataError

#: Below this many runs at one control value, resampling uses contiguous blocks of runs.
MIN_RUNS_FOR_RUN_BOOTSTRAP = 5
#: Fewest runs in a bin of an irregular control design (two run-bootstrap minimums).
RUNS_PER_BIN = 2 * MIN_RUNS_FOR_RUN_BOOTSTRAP
#: Number of blocks a lone trajectory is cut into for a block bootstrap.
BLOCKS_PER_LONE_TRAJECTORY = 10


@dataclass(frozen=True, eq=False)
class Trajectories:
    """Validated trajectories, one contiguous time-sorted block per run.

    Attributes
    ----------
    order_parameter, time_col, run_col, control_col
        The column names they were read from.
    run_ids
        The run labels, in the order of the blocks.
    controls
        Control value of each run (NaN everywhere when there is no control column).
    offsets
        ``offsets[r]:offsets[r + 1]`` indexes run ``r`` in :attr:`time` and :attr:`value`.
    time, value
        Concatenated, per-run sorted samples.
    notes
        Plain sentences about what was dropped or repaired while reading.
    """

    order_parameter: str
    time_col: str
    run_col: str
    control_col: str | None
    run_ids: tuple[Any, ...]
    controls: np.ndarray
    offsets: np.ndarray
    time: np.ndarray
    value: np.ndarray
    notes: tuple[str, ...] = field(default=())

    @property
    def n_runs(self) -> int:
        """Number of runs."""
        return len(self.run_ids)

    @property
    def n_samples(self) -> int:
        """Number of (run, time) samples."""
        return int(self.time.size)

    def lengths(self) -> np.ndarray:
        """Number of samples in each run."""
        return np.diff(self.offsets)

    def run_index(self) -> np.ndarray:
        """For every sample, the index of its run."""
        return np.repeat(np.arange(self.n_runs), self.lengths())

    def run(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """``(time, value)`` of run number ``index`` (0-based position, not the label)."""
        lo, hi = self.offsets[index], self.offsets[index + 1]
        return self.time[lo:hi], self.value[lo:hi]

    def durations(self) -> np.ndarray:
        """Time span of each run (0 for single-sample runs)."""
        lo = self.offsets[:-1]
        hi = self.offsets[1:] - 1
        out = np.zeros(self.n_runs)
        ok = hi > lo
        out[ok] = self.time[hi[ok]] - self.time[lo[ok]]
        return out

    def subset(self, runs: Sequence[int] | np.ndarray) -> Trajectories:
        """A new :class:`Trajectories` holding only the runs at positions ``runs``."""
        runs = np.asarray(runs, dtype=int)
        lengths = self.lengths()[runs]
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        take = (
            np.concatenate([np.arange(self.offsets[r], self.offsets[r + 1]) for r in runs])
            if runs.size
            else np.zeros(0, dtype=int)
        )
        return Trajectories(
            order_parameter=self.order_parameter,
            time_col=self.time_col,
            run_col=self.run_col,
            control_col=self.control_col,
            run_ids=tuple(self.run_ids[r] for r in runs),
            controls=self.controls[runs],
            offsets=offsets,
            time=self.time[take],
            value=self.value[take],
            notes=self.notes,
        )

    def binning(self) -> Binning | None:
        """How the runs are grouped along the control (:mod:`landaulab.design`): one group
        per value on a grid, equal-count bins of at least :data:`RUNS_PER_BIN` runs in an
        irregular design; ``None`` without a control column."""
        if self.control_col is None:
            return None
        return bin_controls(
            self.controls, min_per_value=MIN_RUNS_FOR_RUN_BOOTSTRAP, per_bin=RUNS_PER_BIN
        )

    def groups(self) -> list[tuple[float | None, np.ndarray]]:
        """Runs grouped by control value: ``[(control or None, run positions), ...]``.

        Groups are sorted by control value; without a control column there is one group.
        In an irregular design (:meth:`binning`) a group is a bin of runs and its control
        the mean of their controls.
        """
        binning = self.binning()
        if binning is None:
            return [(None, np.arange(self.n_runs))]
        return [
            (float(binning.control[g]), np.flatnonzero(binning.label == g))
            for g in range(binning.n_groups)
        ]

    def increments(self, lag: int = 1) -> Increments:
        """Increments ``value[i + lag] - value[i]`` between samples of the same run.

        Parameters
        ----------
        lag
            Number of samples between the two ends of an increment (1: consecutive).
        """
        if lag < 1:
            raise ValueError("lag must be >= 1")
        run = self.run_index()
        if self.n_samples <= lag:
            empty = np.zeros(0)
            return Increments(empty, empty, empty, np.zeros(0, dtype=int), np.zeros(0, dtype=int))
        start = np.arange(self.n_samples - lag)
        same = run[start] == run[start + lag]
        start = start[same]
        return Increments(
            state=self.value[start],
            change=self.value[start + lag] - self.value[start],
            duration=self.time[start + lag] - self.time[start],
            run=run[start],
            position=start - self.offsets[run[start]],
        )

    def resampling_units(self, increments: Increments) -> tuple[np.ndarray, str]:
        """Resampling unit of every increment, and the name of the scheme.

        Whole runs are resampled when there are at least
        :data:`MIN_RUNS_FOR_RUN_BOOTSTRAP` runs; otherwise each run is cut into contiguous
        blocks (a moving-block bootstrap, Künsch 1989, Ann. Stat. 17:1217) so that a lone
        long trajectory still gets an uncertainty.
        """
        if self.n_runs >= MIN_RUNS_FOR_RUN_BOOTSTRAP:
            return increments.run.copy(), "runs"
        blocks = max(2, int(np.ceil(BLOCKS_PER_LONE_TRAJECTORY / max(self.n_runs, 1))))
        lengths = np.maximum(self.lengths()[increments.run], 1)
        block = np.minimum((increments.position * blocks) // lengths, blocks - 1)
        return increments.run * blocks + block, f"blocks ({blocks} contiguous blocks per run)"


@dataclass(frozen=True, eq=False)
class Increments:
    """Increments of the order parameter between samples of one run.

    Attributes
    ----------
    state
        Value at the start of each increment.
    change
        Change of the value over the increment.
    duration
        Time elapsed over the increment (positive).
    run
        Run position of each increment.
    position
        Index of the starting sample within its run.
    """

    state: np.ndarray
    change: np.ndarray
    duration: np.ndarray
    run: np.ndarray
    position: np.ndarray

    @property
    def size(self) -> int:
        """Number of increments."""
        return int(self.state.size)


def _numeric(frame: pd.DataFrame, column: str, role: str) -> np.ndarray:
    series = frame[column]
    if pd.api.types.is_datetime64_any_dtype(series):
        as_ns = series.astype("int64").to_numpy().astype(float)
        return (as_ns - np.nanmin(as_ns)) / 1e9 if as_ns.size else as_ns
    if pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=float)
    if not pd.api.types.is_numeric_dtype(series):
        converted = pd.to_numeric(series, errors="coerce")
        if converted.notna().sum() < series.notna().sum():
            raise DataError(
                f"{role} column {column!r} holds non-numeric values; give a numeric column"
            )
        series = converted
    return series.to_numpy(dtype=float, na_value=np.nan)


def _columns_hint(frame: pd.DataFrame) -> str:
    names = [str(c) for c in frame.columns]
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    return f"available columns: {shown}" if names else "the frame has no columns"


def prepare_trajectories(
    frame: pd.DataFrame,
    *,
    order_parameter: str,
    time_col: str = "step",
    control: str | None = None,
    run_col: str = "run_id",
) -> Trajectories:
    """Validate a tidy frame and split it into per-run trajectories.

    Parameters
    ----------
    frame
        One row per (run, time).
    order_parameter
        Column holding the order parameter m.
    time_col
        Column holding time (training step, epoch or seconds); need not be evenly spaced.
    control
        Optional column holding the control parameter; it must be constant within a run.
    run_col
        Column identifying the run (trajectory).

    Returns
    -------
    Trajectories
        Sorted per-run arrays and notes about dropped rows.

    Raises
    ------
    DataError
        If a column is missing or non-numeric, the control varies within a run, one
        run has two different values at the same time, or no finite rows remain.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    wanted = {"order parameter": order_parameter, "time": time_col, "run": run_col}
    if control is not None:
        wanted["control"] = control
    for role, column in wanted.items():
        if not isinstance(column, str) or column not in frame.columns:
            raise DataError(
                f"no {role} column {column!r} in the data ({_columns_hint(frame)}); "
                f"pass the right name"
            )
    if len({order_parameter, time_col, run_col}) < 3:
        raise DataError("the order-parameter, time and run columns must be three different columns")
    if frame.empty:
        raise DataError("the frame has no rows; record some trajectories first")

    value = _numeric(frame, order_parameter, "order-parameter")
    time = _numeric(frame, time_col, "time")
    controls = _numeric(frame, control, "control") if control is not None else None
    labels = frame[run_col]
    try:
        run_codes, run_labels = pd.factorize(labels, sort=True, use_na_sentinel=True)
    except TypeError:  # labels of mixed types cannot be sorted
        run_codes, run_labels = pd.factorize(labels, sort=False, use_na_sentinel=True)

    notes: list[str] = []
    finite = np.isfinite(value) & np.isfinite(time) & (run_codes >= 0)
    if controls is not None:
        finite &= np.isfinite(controls)
    dropped = int(finite.size - finite.sum())
    if dropped:
        notes.append(
            f"{dropped} of {finite.size} rows had a missing or non-finite value and were dropped"
        )
    if not finite.any():
        raise DataError(
            f"no row has finite values of {order_parameter!r} and {time_col!r}; "
            f"check the column names and the data"
        )
    value, time, run_codes = value[finite], time[finite], run_codes[finite]
    if controls is not None:
        controls = controls[finite]

    order = np.lexsort((value, time, run_codes))
    value, time, run_codes = value[order], time[order], run_codes[order]
    if controls is not None:
        controls = controls[order]

    same_time = (run_codes[1:] == run_codes[:-1]) & (time[1:] == time[:-1])
    if same_time.any():
        exact = same_time & (value[1:] == value[:-1])
        if controls is not None:
            exact &= controls[1:] == controls[:-1]
        if not np.array_equal(exact, same_time):
            bad = int(np.flatnonzero(same_time & ~exact)[0])
            raise DataError(
                f"run {run_labels[run_codes[bad]]!r} has two different rows at "
                f"{time_col}={time[bad]:g}; remove the duplicates (or give a run column that "
                f"separates them)"
            )
        keep = np.concatenate([[True], ~exact])
        notes.append(f"{int((~keep).sum())} exact duplicate rows were dropped")
        value, time, run_codes = value[keep], time[keep], run_codes[keep]
        if controls is not None:
            controls = controls[keep]

    present, starts = np.unique(run_codes, return_index=True)
    offsets = np.concatenate([starts, [run_codes.size]]).astype(int)
    run_ids = tuple(_plain(run_labels[c]) for c in present)
    if controls is not None:
        lo = np.minimum.reduceat(controls, starts)
        hi = np.maximum.reduceat(controls, starts)
        varying = np.flatnonzero(lo != hi)
        if varying.size:
            raise DataError(
                f"control column {control!r} varies within run {run_ids[varying[0]]!r}; "
                f"dynamics needs one control value per run (split such runs, or omit the control)"
            )
        per_run = lo.astype(float)
    else:
        per_run = np.full(len(run_ids), np.nan)
    single = int((np.diff(offsets) < 2).sum())
    if single:
        notes.append(f"{single} run(s) have a single sample and give no increments")
    return Trajectories(
        order_parameter=order_parameter,
        time_col=time_col,
        run_col=run_col,
        control_col=control,
        run_ids=run_ids,
        controls=per_run,
        offsets=offsets,
        time=time,
        value=value,
        notes=tuple(notes),
    )


def _plain(label: Any) -> Any:
    if isinstance(label, np.generic):
        return label.item()
    if isinstance(label, pd.Timestamp):
        return str(label)
    return label
