"""Locating a phase boundary along one row of sampled control points.

The statistics of adaptive refinement (:mod:`landaulab.study.refine`), on plain numbers:

- a run's **late-time value**: the mean of its order parameter over the late part of
  its trajectory (:mod:`landaulab.late_time`);
- a control point's **ensemble**: the mean over seeds, its standard error, and the
  susceptibility χ = N·Var(m) across seeds (Landau & Lifshitz, *Statistical Physics*
  §146: the susceptibility peaks at the transition);
- the **vanishing level** of a row: just above the noise floor of its disordered side
  (:func:`vanishing_threshold`), where a continuous transition's order parameter
  vanishes;
- the **brackets** of a row: neighbouring points on opposite sides of a threshold
  (``criterion="level"``), or the three points around the largest χ
  (``criterion="susceptibility"``), with the boundary's position estimated inside
  (linear interpolation of the crossing, or the vertex of the parabola through the
  peak).

Positions along a row are exact fractions (the refinement's dyadic grid); values are
the control's values at those positions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal, NamedTuple, cast

import numpy as np

from landaulab.late_time import BURN_IN, late_mean

Criterion = Literal["level", "susceptibility"]
Side = Literal["below", "above"]


# ------------------------------------------------------------------- measurements
def run_late_value(
    trajectory: Any, column: str, burn_in: float = BURN_IN, step_col: str = "step"
) -> float:
    """The late-time mean of ``column`` in one run's trajectory (a pandas frame).

    The late part is the run's logged step range after ``burn_in`` (see
    :func:`landaulab.late_time.late_mean`); NaN when the column is missing or nothing
    finite is left.
    """
    if column not in trajectory.columns or step_col not in trajectory.columns:
        return math.nan
    steps = np.asarray(trajectory[step_col].to_numpy(), dtype=float)
    values = np.asarray(trajectory[column].to_numpy(), dtype=float)
    return late_mean(cast("Sequence[float]", steps), cast("Sequence[float]", values), burn_in)


class PointEnsemble(NamedTuple):
    """The ensemble measurement of one control point over seeds.

    Attributes
    ----------
    mean
        Mean of the finite per-seed values (NaN when none).
    standard_error
        Standard error of the mean (``None`` with fewer than two finite values).
    susceptibility
        χ = N·Var(m) with the sample variance (``None`` with fewer than two values).
    """

    mean: float
    standard_error: float | None
    susceptibility: float | None


def ensemble(values: Sequence[float], size: float = 1.0) -> PointEnsemble:
    """Mean, standard error and susceptibility ``size``·Var(m) of per-seed values.

    Non-finite values are left out.
    """
    data = np.asarray([v for v in values if math.isfinite(v)], dtype=float)
    if data.size == 0:
        return PointEnsemble(math.nan, None, None)
    if data.size == 1:
        return PointEnsemble(float(data[0]), None, None)
    var = float(data.var(ddof=1))
    return PointEnsemble(float(data.mean()), math.sqrt(var / data.size), size * var)


#: The noise allowance of :func:`vanishing_threshold`, in standard deviations of the
#: disordered side's per-run values.
NOISE_Z = 3.0
#: The smallest rise above the floor :func:`vanishing_threshold` accepts, as a fraction of
#: the order parameter's range (for noiseless runs).
MIN_RISE = 1e-3


def vanishing_threshold(points: Sequence[Sequence[float]]) -> float:
    """A level just above the noise floor of the disordered side of a row of points.

    ``points`` holds each control point's per-run values (one list per point). The
    disordered side is the point with the lowest mean and every point that cannot be
    told from it (mean within ``NOISE_Z`` of its seeds' standard deviation, plus
    ``MIN_RISE`` of the range); its floor is the mean of their runs and its noise their
    standard deviation σ (pooled over points and seeds). The
    level is ``floor + max(NOISE_Z·σ, MIN_RISE·range)``, capped at half height: where
    the order parameter first rises out of its noise, i.e. the critical point of a
    continuous transition (and inside the jump of a discontinuous one). NaN when no
    value is finite.
    """
    finite = [[float(v) for v in vs if math.isfinite(v)] for vs in points]
    finite = [vs for vs in finite if vs]
    if not finite:
        return math.nan
    means = [float(np.mean(vs)) for vs in finite]
    low, high = min(means), max(means)
    span = high - low
    lowest = finite[means.index(low)]
    spread = float(np.std(lowest, ddof=1)) if len(lowest) > 1 else 0.0
    near = low + NOISE_Z * spread + MIN_RISE * span
    floor_runs = [v for vs, m in zip(finite, means, strict=True) if m <= near for v in vs]
    floor = float(np.mean(floor_runs))
    noise = float(np.std(floor_runs, ddof=1)) if len(floor_runs) > 1 else 0.0
    rise = max(NOISE_Z * noise, MIN_RISE * span)
    return min(floor + rise, low + 0.5 * span)


def level_threshold(means: Sequence[float], level: float) -> float:
    """``low + level·(high − low)`` of the finite ``means`` (NaN when none is finite)."""
    finite = [m for m in means if math.isfinite(m)]
    if not finite:
        return math.nan
    return min(finite) + level * (max(finite) - min(finite))


# ----------------------------------------------------------------------- brackets
@dataclass(frozen=True)
class Bracket:
    """A located boundary on one row.

    Attributes
    ----------
    pairs
        The neighbouring positions that bracket it (one pair per crossing; several when
        noisy points between crossings make them one boundary, two around a peak).
    lower, upper
        The positions spanning the whole bracket.
    estimate
        The boundary's position as a control value (interpolated crossing, or vertex).
    ordered_side
        On which side the order parameter is above the threshold (``None`` for a
        susceptibility peak).
    """

    pairs: tuple[tuple[Fraction, Fraction], ...]
    lower: Fraction
    upper: Fraction
    estimate: float
    ordered_side: Side | None


def level_brackets(
    positions: Sequence[Fraction],
    values: Sequence[float],
    means: Sequence[float],
    threshold: float,
    errors: Sequence[float | None] | None = None,
    z: float = 2.0,
) -> list[Bracket]:
    """Where the ensemble mean crosses ``threshold`` along one row.

    Neighbours on opposite sides of the threshold bracket a crossing. Two crossings are
    one boundary, whose interval spans both, when the points between them are a single
    point or all lie within ``z`` standard errors (``errors``) of the threshold: such
    points flip phase by noise, which must widen the interval rather than split the
    boundary. Points with a non-finite mean are skipped.
    """
    keep = [i for i, m in enumerate(means) if math.isfinite(m)]
    pos = [positions[i] for i in keep]
    val = [float(values[i]) for i in keep]
    above = [means[i] > threshold for i in keep]
    mean = [float(means[i]) for i in keep]
    error = [None if errors is None else errors[i] for i in keep]

    def undecided(i: int) -> bool:
        e = error[i]
        return e is not None and math.isfinite(e) and abs(mean[i] - threshold) <= z * e

    changes = [j for j in range(len(pos) - 1) if above[j] != above[j + 1]]
    groups: list[list[int]] = []
    for j in changes:
        previous = groups[-1][-1] if groups else None
        between = range(previous + 1, j + 1) if previous is not None else range(0)
        if previous is not None and (j - previous == 1 or all(map(undecided, between))):
            groups[-1].append(j)
        else:
            groups.append([j])
    out = []
    for group in groups:
        first, last = group[0], group[-1] + 1
        if len(group) == 1:
            j = group[0]
            m0, m1 = mean[j], mean[j + 1]
            t = (threshold - m0) / (m1 - m0) if m1 != m0 else 0.5
            estimate = val[j] + min(max(t, 0.0), 1.0) * (val[j + 1] - val[j])
        else:
            estimate = (val[first] + val[last]) / 2
        out.append(
            Bracket(
                pairs=tuple((pos[j], pos[j + 1]) for j in group),
                lower=pos[first],
                upper=pos[last],
                estimate=estimate,
                ordered_side="below" if above[first] else "above",
            )
        )
    return out


def susceptibility_bracket(
    positions: Sequence[Fraction],
    values: Sequence[float],
    susceptibilities: Sequence[float | None],
) -> Bracket | None:
    """The interval around the largest susceptibility of one row.

    ``None`` when the largest value sits at an end of the row or fewer than three points
    have a finite susceptibility.
    """
    keep = [i for i, c in enumerate(susceptibilities) if c is not None and math.isfinite(c)]
    if len(keep) < 3:
        return None
    pos = [positions[i] for i in keep]
    val = [float(values[i]) for i in keep]
    chi = [float(susceptibilities[i]) for i in keep]  # type: ignore[arg-type]
    k = int(np.argmax(chi))
    if k == 0 or k == len(chi) - 1:
        return None
    estimate = parabola_vertex(val[k - 1 : k + 2], chi[k - 1 : k + 2])
    return Bracket(
        pairs=((pos[k - 1], pos[k]), (pos[k], pos[k + 1])),
        lower=pos[k - 1],
        upper=pos[k + 1],
        estimate=estimate,
        ordered_side=None,
    )


def parabola_vertex(x: Sequence[float], y: Sequence[float]) -> float:
    """Vertex of the parabola through three points, clipped to their range.

    When the parabola opens upwards (no maximum), the middle point.
    """
    (x0, x1, x2), (y0, y1, y2) = x, y
    denominator = (x0 - x1) * (x0 - x2) * (x1 - x2)
    a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / denominator if denominator else 0
    b = (x2**2 * (y0 - y1) + x1**2 * (y2 - y0) + x0**2 * (y1 - y2)) / denominator if a else 0
    if a >= 0:  # not a maximum: fall back to the largest point
        return float(x1)
    return float(min(max(-b / (2 * a), x0), x2))


def locate_on_row(
    positions: Sequence[Fraction],
    values: Sequence[float],
    means: Sequence[float],
    errors: Sequence[float | None],
    susceptibilities: Sequence[float | None],
    criterion: Criterion,
    threshold: float | None = None,
) -> list[Bracket]:
    """The boundaries of one row of points sorted by position.

    Parameters
    ----------
    positions, values
        Each point's position on the refinement grid and its control value.
    means, errors, susceptibilities
        Each point's ensemble (see :func:`ensemble`).
    criterion
        ``"level"``: crossings of ``threshold`` (see :func:`level_brackets`);
        ``"susceptibility"``: the peak of χ (see :func:`susceptibility_bracket`).
    threshold
        The order-parameter level separating the phases (``level`` only).

    Raises
    ------
    ValueError
        For the ``level`` criterion without a threshold, or an unknown criterion.
    """
    if criterion == "level":
        if threshold is None:
            raise ValueError("the level criterion needs a threshold")
        return level_brackets(positions, values, means, threshold, errors)
    if criterion == "susceptibility":
        peak = susceptibility_bracket(positions, values, susceptibilities)
        return [] if peak is None else [peak]
    raise ValueError(f"criterion {criterion!r}: choose 'level' or 'susceptibility'")


__all__ = [
    "Bracket",
    "Criterion",
    "PointEnsemble",
    "ensemble",
    "level_brackets",
    "level_threshold",
    "locate_on_row",
    "parabola_vertex",
    "run_late_value",
    "susceptibility_bracket",
    "vanishing_threshold",
]
