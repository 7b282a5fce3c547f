"""Transitions in time: sigmoidal jumps of an observable within each run, and stages.

Each run's trajectory m(t) is fitted by a logistic step

    m(t) = m₀ + (m₁ − m₀) / (1 + exp(−(t − t_mid)/w)),

giving the onset (10 % of the jump, t_mid − w·ln 9), the midpoint t_mid, the end (90 %) and
the width t₉₀ − t₁₀ = 2w·ln 9 — e.g. memorisation and grokking times (Power et al. 2022,
arXiv:2201.02177; Nanda et al. 2023, arXiv:2301.05217). All runs are fitted together by a
batched Levenberg–Marquardt iteration (Levenberg 1944; Marquardt 1963) on a padded
(runs × steps) array. A jump counts when it exceeds five residual standard deviations, its
width is below half the run and at least three points lie on each side of its midpoint.

Trajectories with several plateaus (a staircase, as in deep linear networks: Saxe et al.
2014, arXiv:1312.6120) are split into stages by penalised change-point detection (PELT,
Killick, Fearnhead & Eckley 2012, arXiv:1101.1438; ``ruptures``' compiled KernelCPD with a
linear kernel, i.e. the L2 cost: Truong, Oudre & Vayatis 2020, arXiv:1801.00826) on the
median trajectory of each (control, size) group.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from landaulab.analyze.findings import Findings
from landaulab.analyze.frame import PreparedData
from landaulab.analyze.records import table_from_records
from landaulab.serialize import to_json

_MAX_POINTS = 400
_LN9 = float(np.log(9.0))
#: Cells (runs × points) fitted at once; ~2 MB per work array.
_BLOCK_CELLS = 1 << 18


@dataclass(frozen=True)
class SigmoidFits:
    """Per-run logistic fits (arrays of length R; NaN where not fitted)."""

    before: np.ndarray
    after: np.ndarray
    midpoint: np.ndarray
    width: np.ndarray
    residual: np.ndarray
    has_jump: np.ndarray

    @property
    def onset(self) -> np.ndarray:
        """Time at 10 % of the jump."""
        return self.midpoint - 0.5 * self.width

    @property
    def end(self) -> np.ndarray:
        """Time at 90 % of the jump."""
        return self.midpoint + 0.5 * self.width


def fit_sigmoids(times: np.ndarray, values: np.ndarray, *, iterations: int = 30) -> SigmoidFits:
    """Fit a logistic step to every row of a padded (R, T) array (NaN = padding).

    Parameters
    ----------
    times, values
        Arrays (R, T); rows are runs, NaN marks missing points.
    iterations
        Levenberg–Marquardt iterations.
    """
    rows = times.shape[0]
    block = max(1, _BLOCK_CELLS // max(times.shape[1], 1))
    if rows > block:  # rows are independent fits: a block at a time bounds the memory
        parts = [
            fit_sigmoids(times[i : i + block], values[i : i + block], iterations=iterations)
            for i in range(0, rows, block)
        ]
        return SigmoidFits(
            **{
                f.name: np.concatenate([getattr(part, f.name) for part in parts])
                for f in fields(SigmoidFits)
            }
        )
    mask = np.isfinite(times) & np.isfinite(values)
    n = mask.sum(axis=1)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        t_first = np.nanmin(np.where(mask, times, np.nan), axis=1)
        t_last = np.nanmax(np.where(mask, times, np.nan), axis=1)
        span = np.where(t_last > t_first, t_last - t_first, 1.0)
        tau = np.where(mask, (times - t_first[:, None]) / span[:, None], 0.0)
        v = np.where(mask, values, 0.0)
        w = mask.astype(float)
        # initial values from the first and last tenth of each run
        rank = np.cumsum(mask, axis=1) - 1
        tenth = np.maximum(n // 10, 1)[:, None]
        first = mask & (rank < tenth)
        last = mask & (rank >= n[:, None] - tenth)
        lo = (v * first).sum(axis=1) / np.maximum(first.sum(axis=1), 1)
        hi = (v * last).sum(axis=1) / np.maximum(last.sum(axis=1), 1)
        half = 0.5 * (lo + hi)
        direction = np.where(hi >= lo, 1.0, -1.0)
        crossed = mask & (direction[:, None] * (v - half[:, None]) > 0)
        mid = np.take_along_axis(tau, np.argmax(crossed, axis=1)[:, None], axis=1)[:, 0]
        # only rows whose two ends differ clearly are fitted (stationary runs have no jump)
        noise = np.nanmedian(np.abs(np.diff(np.where(mask, values, np.nan), axis=1)), axis=1)
        noise = np.where(np.isfinite(noise), noise / (0.6745 * np.sqrt(2.0)), 0.0)
    candidate = (n >= 8) & (np.abs(hi - lo) > 3.0 * noise)
    params = np.column_stack([lo, hi, mid, np.full(rows, np.log(0.05))])
    residual = np.full(rows, np.nan)
    fit_rows = np.flatnonzero(candidate)
    if fit_rows.size:
        params[fit_rows], residual[fit_rows] = _levenberg_marquardt(
            tau[fit_rows], v[fit_rows], w[fit_rows], params[fit_rows], iterations
        )
    with np.errstate(all="ignore"):
        width = 2.0 * _LN9 * np.exp(np.clip(params[:, 3], -12, 3)) * span
        midpoint = t_first + params[:, 2] * span
        amplitude = np.abs(params[:, 1] - params[:, 0])
        margin = 3.0 / np.maximum(n - 1, 1)
        has_jump = (
            candidate
            & (amplitude > 5.0 * residual)
            & (width < 0.5 * span)
            & (params[:, 2] > margin)
            & (params[:, 2] < 1.0 - margin)
        )
    enough = n >= 8
    nan = np.full(rows, np.nan)
    return SigmoidFits(
        before=np.where(enough, params[:, 0], nan),
        after=np.where(enough, params[:, 1], nan),
        midpoint=np.where(has_jump, midpoint, nan),
        width=np.where(has_jump, width, nan),
        residual=residual,
        has_jump=has_jump,
    )


def _levenberg_marquardt(
    tau: np.ndarray, v: np.ndarray, w: np.ndarray, params: np.ndarray, iterations: int
) -> tuple[np.ndarray, np.ndarray]:
    """Batched Levenberg–Marquardt for the logistic step (rows are independent fits)."""
    rows = params.shape[0]
    damping = np.full(rows, 1e-2)
    n = w.sum(axis=1)

    def model(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        scale = np.exp(np.clip(p[:, 3], -12, 3))[:, None]
        s = 1.0 / (1.0 + np.exp(-np.clip((tau - p[:, 2:3]) / scale, -50, 50)))
        return p[:, 0:1] + (p[:, 1:2] - p[:, 0:1]) * s, s

    with np.errstate(all="ignore"):
        prediction, s = model(params)
        sse = (w * (v - prediction) ** 2).sum(axis=1)
        for _ in range(iterations):
            scale = np.exp(np.clip(params[:, 3], -12, 3))[:, None]
            amp = (params[:, 1] - params[:, 0])[:, None]
            ds = s * (1.0 - s)
            columns = (
                1.0 - s,
                s,
                -amp * ds / scale,
                -amp * ds * (tau - params[:, 2:3]) / scale,
            )
            residual = v - prediction
            normal = np.empty((rows, 4, 4))
            gradient = np.empty((rows, 4))
            for i in range(4):
                weighted = w * columns[i]
                gradient[:, i] = (weighted * residual).sum(axis=1)
                for j in range(i, 4):
                    normal[:, i, j] = normal[:, j, i] = (weighted * columns[j]).sum(axis=1)
            diag = np.einsum("rpp->rp", normal)
            lhs = normal + (damping[:, None] * (diag + 1e-12))[:, :, None] * np.eye(4)[None]
            try:
                step = np.linalg.solve(lhs, gradient[..., None])[..., 0]
            except np.linalg.LinAlgError:
                break
            step = np.where(np.isfinite(step), step, 0.0)
            trial = params + step
            trial_prediction, trial_s = model(trial)
            trial_sse = (w * (v - trial_prediction) ** 2).sum(axis=1)
            better = trial_sse < sse
            params = np.where(better[:, None], trial, params)
            prediction = np.where(better[:, None], trial_prediction, prediction)
            s = np.where(better[:, None], trial_s, s)
            sse = np.where(better, trial_sse, sse)
            damping = np.where(better, damping / 3.0, damping * 3.0)
        residual_sd = np.sqrt(sse / np.maximum(n - 4, 1))
    return params, residual_sd


def detect_stages(times: np.ndarray, values: np.ndarray, *, min_size: int = 3) -> list[float]:
    """Change points of one trajectory (PELT with the L2 cost, i.e. ruptures' KernelCPD with
    a linear kernel, and a BIC-like penalty 4σ²·log n); returns their times."""
    import ruptures

    ok = np.isfinite(times) & np.isfinite(values)
    t, v = times[ok], values[ok]
    if v.size < 4 * min_size:
        return []
    noise = float(np.median(np.abs(np.diff(v)))) / (0.6745 * np.sqrt(2.0))
    spread = float(np.std(v))
    if spread == 0.0:
        return []
    noise = max(noise, 1e-3 * spread)
    penalty = 4.0 * noise**2 * np.log(v.size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        detector = ruptures.KernelCPD(kernel="linear", min_size=min_size)
        breaks = detector.fit(v).predict(pen=penalty)
    return [float(t[int(b)]) for b in breaks[:-1]]


@dataclass(frozen=True, eq=False)
class TemporalResult:
    """Transitions in time of the order parameter.

    Attributes
    ----------
    runs
        One row per run segment: ``run``, ``control``, ``size``, ``has_jump``, ``before``,
        ``after``, ``onset``, ``midpoint``, ``end``, ``width`` (user units).
    groups
        One row per (control, size): ``n_runs``, ``jump_fraction``, ``median_onset``,
        ``median_midpoint``, ``median_width``, ``stages`` (change-point times of the
        median trajectory, where most runs jump).
    """

    runs: pd.DataFrame
    groups: pd.DataFrame

    def sentence(self) -> str | None:
        """A sentence of evidence, or None when no run jumps."""
        jumped = self.runs["has_jump"].to_numpy(dtype=bool)
        if jumped.sum() < 2 or jumped.mean() < 0.05:
            return None
        total = jumped.size
        mid = float(np.median(self.runs.loc[jumped, "midpoint"]))
        onset = float(np.median(self.runs.loc[jumped, "onset"]))
        width = float(np.median(self.runs.loc[jumped, "width"]))
        return (
            f"The order parameter jumps in time in {int(jumped.sum())} of {total} runs: median "
            f"onset step {onset:.4g}, midpoint {mid:.4g}, width {width:.4g}."
        )

    def to_dict(self) -> dict:
        """JSON-safe dictionary (per-group summary and per-run fits)."""
        return to_json(
            {
                "groups": self.groups.to_dict(orient="records"),
                "runs": self.runs.to_dict(orient="records"),
            }
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TemporalResult:
        """The inverse of :meth:`to_dict` (null numbers as NaN; the columns of an empty
        table restored)."""
        run_records = list(data.get("runs") or ())
        group_records = list(data.get("groups") or ())
        runs = table_from_records(run_records, None if run_records else RUN_COLUMNS)
        groups = table_from_records(group_records, None if group_records else GROUP_COLUMNS)
        return cls(runs=runs, groups=groups)


#: Columns of :attr:`TemporalResult.runs`.
RUN_COLUMNS = (
    "run",
    "control",
    "size",
    "has_jump",
    "before",
    "after",
    "onset",
    "midpoint",
    "end",
    "width",
)
#: Columns of :attr:`TemporalResult.groups`.
GROUP_COLUMNS = (
    "control",
    "size",
    "n_runs",
    "jump_fraction",
    "median_onset",
    "median_midpoint",
    "median_width",
    "stages",
)


def _point_tables(
    prepared: PreparedData, starts: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Tables (segment, point) of the times and values of every segment, NaN-padded; a
    segment of more than :data:`_MAX_POINTS` rows keeps every k-th row."""
    seg = prepared.row_segment
    n_seg = starts.size
    stride = np.maximum(np.ceil(counts / _MAX_POINTS).astype(np.int64), 1)
    if np.all(stride == 1) and np.all(counts == counts[0]):
        # segments of equal length, every row a point: the row arrays, sorted by segment
        # and step, already are the tables (views, no copy)
        shape = (n_seg, int(counts[0]))
        return prepared.row_step.reshape(shape), prepared.row_value.reshape(shape)
    rank = np.arange(seg.size) - np.repeat(starts, counts)
    if np.all(stride == 1):  # every row is a point: no selection arrays
        times = np.full((n_seg, int(counts.max())), np.nan)
        values = np.full_like(times, np.nan)
        times[seg, rank] = prepared.row_step
        values[seg, rank] = prepared.row_value
        return times, values
    keep = (rank % np.repeat(stride, counts)) == 0
    column = rank[keep] // np.repeat(stride, counts)[keep]
    times = np.full((n_seg, int(column.max()) + 1), np.nan)
    values = np.full_like(times, np.nan)
    times[seg[keep], column] = prepared.row_step[keep]
    values[seg[keep], column] = prepared.row_value[keep]
    return times, values


def transitions_in_time(prepared: PreparedData) -> TemporalResult | None:
    """Fit a logistic jump to every run segment (all steps, before burn-in)."""
    seg = prepared.row_segment
    if seg.size == 0:
        return None
    starts = np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]])
    counts = np.diff(np.r_[starts, seg.size])
    if counts.max() < 8:
        return None
    times, values = _point_tables(prepared, starts, counts)
    fits = fit_sigmoids(times, values)
    scale = prepared.scale
    runs = pd.DataFrame(
        {
            "run": prepared.segment_run,
            "control": prepared.to_control(prepared.segment_control),
            "size": prepared.segment_size,
            "has_jump": fits.has_jump,
            "before": fits.before * scale,
            "after": fits.after * scale,
            "onset": fits.onset,
            "midpoint": fits.midpoint,
            "end": fits.end,
            "width": fits.width,
        }
    )
    grouped = runs.groupby(["control", "size"], sort=True)
    groups = grouped.agg(
        n_runs=("run", "size"),
        jump_fraction=("has_jump", "mean"),
    ).reset_index()
    jumped = runs[runs["has_jump"]].groupby(["control", "size"], sort=True)
    medians = jumped.agg(
        median_onset=("onset", "median"),
        median_midpoint=("midpoint", "median"),
        median_width=("width", "median"),
    ).reset_index()
    groups = groups.merge(medians, on=["control", "size"], how="left")
    stages: list[list[float]] = [[] for _ in range(len(groups))]
    wanted = groups.index[groups["jump_fraction"] >= 0.5]
    if len(wanted):
        row_control = np.repeat(runs["control"].to_numpy(), counts)
        row_size = np.repeat(runs["size"].to_numpy(), counts)
        for i in wanted:
            control, size = groups.at[i, "control"], groups.at[i, "size"]
            rows = (row_control == control) & (row_size == size)
            series = (
                pd.Series(prepared.row_value[rows] * scale)
                .groupby(prepared.row_step[rows])
                .median()
            )
            stages[i] = detect_stages(series.index.to_numpy(dtype=float), series.to_numpy())
    groups["stages"] = stages
    return TemporalResult(runs=runs, groups=groups)


@dataclass(frozen=True, eq=False, kw_only=True)
class TemporalStep(Findings):
    """Transitions in time (None without usable runs) and the sentence they give."""

    result: TemporalResult | None = None


def temporal_step(prepared: PreparedData) -> TemporalStep:
    """:func:`transitions_in_time`, with its sentence as evidence when runs jump."""
    result = transitions_in_time(prepared)
    sentence = result.sentence() if result is not None else None
    return TemporalStep(result=result, evidence=(sentence,) if sentence else ())
