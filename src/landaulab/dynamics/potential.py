"""Effective potential, attractors, saddles and barriers from the drift and diffusion.

For ``dm = D1 dt + sqrt(2 D2) dW`` the stationary Fokker–Planck density is
``p(m) ∝ exp(-Phi(m))`` with the effective potential

    Phi(m) = ln D2(m) - int^m D1(y) / D2(y) dy

(Risken 1989, *The Fokker–Planck Equation*, sec. 5.1). For additive noise ``D2 = T``
and drift ``-V'``, ``Phi = V / T``: the Landau free energy in units of the temperature.
When the trajectories carry no resolvable noise (a deterministic flow such as gradient
descent on a smooth loss), the potential reported is the drift potential
``V(m) = -int^m D1``, whose minima are the same attractors.

Attractors are stable zeros of the drift (``D1`` changes from significantly positive to
significantly negative, at two bootstrap standard errors); saddles are unstable zeros.
Their confidence intervals come from the zeros of the bootstrap replicates of the drift.
Barrier heights are differences of ``Phi`` (units of the noise) between an attractor and an
adjacent saddle. The escape time over a barrier is predicted with the exact 1-D
first-passage integral (Gardiner 2009, *Stochastic Methods*, sec. 5.5) evaluated with the
estimated ``D1`` and ``D2``; at high barriers it reduces to Kramers' (1940) rate.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from landaulab.dynamics._bootstrap import expanded_levels, nan_quantiles, percentile_interval
from landaulab.dynamics.estimates import (
    array,
    ci_list,
    describe,
    estimate,
    from_json,
    number,
    value_json,
    value_of,
)
from landaulab.dynamics.kramers_moyal import KramersMoyal
from landaulab.estimate import Estimate, finite
from landaulab.serialize import to_json

#: A drift value counts as signed when it is this many bootstrap standard errors from 0.
#: (2.5 rather than 2 keeps isolated false sign changes among ~100 grid points rare.)
SIGNIFICANCE_Z = 2.5
#: A fixed point must reappear in at least this fraction of bootstrap replicates.
MIN_FOUND_FRACTION = 0.5
#: Median of 2 D2 / (D1^2 dt) below this: the flow is treated as deterministic.
DETERMINISTIC_NOISE_RATIO = 1e-2


@dataclass(frozen=True)
class FixedPoint:
    """A zero of the drift.

    Attributes
    ----------
    position
        Location in units of m with its bootstrap confidence interval.
    kind
        ``"attractor"`` (stable) or ``"saddle"`` (unstable).
    slope
        ``dD1/dm`` at the zero (negative for an attractor); ``-1/slope`` is the linear
        relaxation time of an attractor.
    found_fraction
        Fraction of bootstrap replicates in which this zero was found again.
    one_sided
        True when the drift is only resolved on one side of the zero (data approach it
        from one side).
    """

    position: Estimate
    kind: str
    slope: float
    found_fraction: float
    one_sided: bool = False

    @property
    def location(self) -> float:
        """The position's value (units of m)."""
        return value_of(self.position)

    @property
    def linear_relaxation_time(self) -> float:
        """``-1 / slope`` for an attractor (NaN when the slope is not finite and negative)."""
        return -1.0 / self.slope if -math.inf < self.slope < 0 else float("nan")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        return {
            "position": value_json(self.position),
            "ci": ci_list(self.position),
            "kind": self.kind,
            "slope": finite(self.slope),
            "linear_relaxation_time": finite(self.linear_relaxation_time),
            "found_fraction": finite(self.found_fraction),
            "one_sided": self.one_sided,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FixedPoint:
        """The inverse of :meth:`to_dict` (extra keys such as ``control`` are ignored)."""
        position = from_json(data.get("position"), data.get("ci"))
        return cls(
            position=position if position is not None else Estimate(None),
            kind=str(data.get("kind")),
            slope=number(data.get("slope")),
            found_fraction=number(data.get("found_fraction")),
            one_sided=bool(data.get("one_sided", False)),
        )


@dataclass(frozen=True)
class Barrier:
    """The barrier between an attractor and an adjacent saddle.

    Attributes
    ----------
    attractor, saddle
        Positions of the attractor and the saddle.
    height
        ``Phi(saddle) - Phi(attractor)`` with its bootstrap interval (units of the noise,
        or of the drift potential when the flow is deterministic); ``None`` when unknown.
    escape_time
        Predicted mean time to go from this attractor to the attractor beyond the saddle
        (exact first-passage integral with the estimated D1, D2); ``None`` when there is no
        attractor beyond or the flow is deterministic.
    target
        Position of the attractor beyond the saddle (``None`` if none).
    """

    attractor: float
    saddle: float
    height: Estimate | None
    escape_time: Estimate | None = None
    target: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        return {
            "attractor": finite(self.attractor),
            "saddle": finite(self.saddle),
            "target": finite(self.target),
            "height": value_json(self.height),
            "ci": ci_list(self.height),
            "escape_time": value_json(self.escape_time),
            "escape_time_ci": ci_list(self.escape_time),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Barrier:
        """The inverse of :meth:`to_dict`."""
        return cls(
            attractor=number(data.get("attractor")),
            saddle=number(data.get("saddle")),
            height=from_json(data.get("height"), data.get("ci")),
            escape_time=from_json(data.get("escape_time"), data.get("escape_time_ci")),
            target=finite(data.get("target")),
        )


@dataclass(frozen=True, eq=False)
class EffectivePotential:
    """The effective potential and its fixed points at one control value.

    Attributes
    ----------
    grid, values, low, high
        ``Phi`` on the grid (minimum set to 0) with a pointwise bootstrap band; NaN
        outside the ranges where the drift and diffusion are resolved.
    kind
        ``"fokker_planck"`` (``-ln p_stationary``, units of the noise) or ``"drift"``
        (``-int D1 dm``, for deterministic flows).
    drift_potential
        ``-int D1 dm`` (units of m^2 per unit time) on the same grid.
    attractors, saddles, barriers
        Fixed points and barriers found.
    noise_ratio
        Median of ``2 D2 / (D1^2 dt)`` over the grid: small for deterministic flows.
    notes
        Sentences about what could not be determined.
    """

    grid: np.ndarray
    values: np.ndarray
    low: np.ndarray
    high: np.ndarray
    kind: str
    drift_potential: np.ndarray
    attractors: tuple[FixedPoint, ...]
    saddles: tuple[FixedPoint, ...]
    barriers: tuple[Barrier, ...]
    noise_ratio: float
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        return {
            "grid": to_json(self.grid),
            "values": to_json(self.values),
            "low": to_json(self.low),
            "high": to_json(self.high),
            "kind": self.kind,
            "drift_potential": to_json(self.drift_potential),
            "attractors": [a.to_dict() for a in self.attractors],
            "saddles": [s.to_dict() for s in self.saddles],
            "barriers": [b.to_dict() for b in self.barriers],
            "noise_ratio": finite(self.noise_ratio),
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EffectivePotential:
        """The inverse of :meth:`to_dict`."""
        return cls(
            grid=array(data.get("grid")),
            values=array(data.get("values")),
            low=array(data.get("low")),
            high=array(data.get("high")),
            kind=str(data.get("kind")),
            drift_potential=array(data.get("drift_potential")),
            attractors=tuple(FixedPoint.from_dict(a) for a in data.get("attractors") or ()),
            saddles=tuple(FixedPoint.from_dict(s) for s in data.get("saddles") or ()),
            barriers=tuple(Barrier.from_dict(b) for b in data.get("barriers") or ()),
            noise_ratio=number(data.get("noise_ratio")),
            notes=tuple(data.get("notes") or ()),
        )

    def __str__(self) -> str:
        parts = [f"EffectivePotential ({self.kind}):"]
        parts += [f"  attractor at {describe(a.position)}" for a in self.attractors]
        parts += [f"  saddle at {describe(s.position)}" for s in self.saddles]
        parts += [f"  barrier {describe(b.height)} from {b.attractor:.4g}" for b in self.barriers]
        parts += [f"  {note}" for note in self.notes]
        return "\n".join(parts)


def _segments(mask: np.ndarray, minimum: int = 3) -> list[slice]:
    """Contiguous runs of True in ``mask`` with at least ``minimum`` points."""
    padded = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]]).astype(int)
    edges = np.flatnonzero(np.diff(padded))
    return [
        slice(int(a), int(b))
        for a, b in zip(edges[::2], edges[1::2], strict=True)
        if b - a >= minimum
    ]


def _segment_of(grid: np.ndarray, segments: list[slice], *points: float) -> slice | None:
    """The segment whose grid range holds all ``points`` (``None`` if there is none)."""
    for seg in segments:
        lo, hi = grid[seg.start], grid[seg.stop - 1]
        if all(np.isfinite(x) and lo <= x <= hi for x in points):
            return seg
    return None


def _cumulative(grid: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Cumulative trapezoid integral along the last axis, starting at 0."""
    steps = 0.5 * (values[..., 1:] + values[..., :-1]) * np.diff(grid)
    return np.concatenate([np.zeros((*values.shape[:-1], 1)), np.cumsum(steps, axis=-1)], axis=-1)


def _potentials(
    grid: np.ndarray, drift: np.ndarray, diffusion: np.ndarray, kind: str
) -> np.ndarray:
    """``Phi`` (or the drift potential) along the last axis, minimum shifted to 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "fokker_planck":
            phi = np.log(diffusion) - _cumulative(grid, drift / diffusion)
        else:
            phi = -_cumulative(grid, drift)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            phi = phi - np.nanmin(phi, axis=-1, keepdims=True)
    return phi


def _crossings(grid: np.ndarray, drift: np.ndarray, lo: int, hi: int, sign: int) -> list[float]:
    """Zeros of ``drift`` in ``grid[lo:hi+1]`` where it changes sign as ``sign -> -sign``."""
    out = []
    for i in range(max(lo, 0), min(hi, grid.size - 1)):
        a, b = drift[i], drift[i + 1]
        if not (np.isfinite(a) and np.isfinite(b)):
            continue
        if (sign * a > 0 and sign * b <= 0) or (sign * a >= 0 and sign * b < 0):
            out.append(
                float(grid[i] + (grid[i + 1] - grid[i]) * a / (a - b)) if a != b else float(grid[i])
            )
    return out


def _fixed_points(km: KramersMoyal, region: slice) -> list[tuple[str, float, int, int, bool]]:
    """Sign-change zones of the drift: ``(kind, position, lo index, hi index, one_sided)``."""
    grid, drift = km.grid, km.drift
    se = km.drift_se if np.isfinite(km.drift_se[region]).any() else np.zeros_like(drift)
    se = np.where(np.isfinite(se), se, np.inf)
    sign = np.zeros(grid.size, dtype=int)
    idx = np.arange(region.start, region.stop)
    sign[idx] = np.where(drift[idx] > SIGNIFICANCE_Z * se[idx], 1, 0)
    sign[idx] = np.where(drift[idx] < -SIGNIFICANCE_Z * se[idx], -1, sign[idx])
    signed = [i for i in idx if sign[i] != 0]
    found: list[tuple[str, float, int, int, bool]] = []
    for a, b in itertools.pairwise(signed):
        if sign[a] == sign[b]:
            continue
        kind = "attractor" if sign[a] > 0 else "saddle"
        zeros = _crossings(grid, drift, a, b, sign[a])
        if zeros:
            middle = 0.5 * (grid[a] + grid[b])
            found.append((kind, min(zeros, key=lambda z: abs(z - middle)), a, b, False))
    # A zero approached from one side only, in the unresolved tail of the data range.
    if signed:
        first, last = signed[0], signed[-1]
        if sign[last] > 0 and last < region.stop - 1:
            zeros = _crossings(grid, drift, last, region.stop - 1, 1)
            if zeros:
                found.append(("attractor", zeros[0], last, region.stop - 1, True))
        if sign[first] < 0 and first > region.start:
            zeros = _crossings(grid, drift, region.start, first, 1)
            if zeros:
                found.append(("attractor", zeros[-1], region.start, first, True))
    return sorted(found, key=lambda f: f[1])


def _slope_at(grid: np.ndarray, slope: np.ndarray, x: float) -> float:
    ok = np.isfinite(slope)
    if not ok.any():
        return float("nan")
    return float(np.interp(x, grid[ok], slope[ok]))


def _escape_times(
    grid: np.ndarray, phi: np.ndarray, diffusion: np.ndarray, start: float, end: float
) -> np.ndarray:
    """Mean first-passage time from ``start`` to ``end`` for each row of ``phi``."""
    phi = np.atleast_2d(phi)
    diffusion = np.atleast_2d(diffusion)
    if start > end:
        grid, phi, diffusion = -grid[::-1], phi[:, ::-1], diffusion[:, ::-1]
        start, end = -start, -end
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        shift = np.nanmin(phi, axis=1, keepdims=True)
        inner = _cumulative(grid, np.exp(-(phi - shift)))
        outer = np.exp(phi - shift) / diffusion * inner
    out = np.full(phi.shape[0], np.nan)
    mask = (grid >= start) & (grid <= end)
    if mask.sum() < 2:
        return out
    with np.errstate(all="ignore"):
        values = np.trapezoid(outer[:, mask], grid[mask], axis=1)
    finite = np.all(np.isfinite(phi[:, grid <= end]), axis=1)
    out[finite] = values[finite]
    return out


def effective_potential(km: KramersMoyal, *, confidence: float | None = None) -> EffectivePotential:
    """Effective potential, attractors, saddles and barriers from Kramers–Moyal estimates.

    Parameters
    ----------
    km
        Drift and diffusion estimates with bootstrap replicates.
    confidence
        Level of the intervals (defaults to ``km.confidence``).

    Returns
    -------
    EffectivePotential
        Potential on the grid, fixed points with intervals, barriers and predicted escape
        times; ``notes`` say plainly what could not be determined.
    """
    level = km.confidence if confidence is None else confidence
    grid = km.grid
    nan = np.full(grid.size, np.nan)
    if not km.estimable:
        return EffectivePotential(
            grid, nan, nan, nan, "none", nan, (), (), (), float("nan"),
            (f"no potential: {km.reason}",),
        )  # fmt: skip
    segments = _segments(km.valid())
    in_region = np.zeros(grid.size, dtype=bool)
    for seg in segments:
        in_region[seg] = True
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = 2 * km.diffusion / (km.drift**2 * km.time_step)
    noise_ratio = float(np.nanmedian(ratio[in_region])) if in_region.any() else float("nan")
    deterministic = not (noise_ratio >= DETERMINISTIC_NOISE_RATIO) or not np.all(
        km.diffusion[in_region] > 0
    )
    kind = "drift" if deterministic else "fokker_planck"
    notes: list[str] = []
    if deterministic:
        notes.append(
            "no resolvable noise in the increments (a deterministic flow): the potential is "
            "the drift potential -∫D1 dm and barriers are in its units"
        )
    if len(segments) > 1:
        notes.append(
            f"the drift is resolved on {len(segments)} separate ranges of m; the potential is "
            f"set to 0 at its minimum on each, and their relative levels are unknown"
        )

    def potential_rows(drift: np.ndarray, diffusion: np.ndarray, which: str) -> np.ndarray:
        drift, diffusion = np.atleast_2d(drift), np.atleast_2d(diffusion)
        rows = np.full(drift.shape, np.nan)
        for seg in segments:
            rows[:, seg] = _potentials(grid[seg], drift[:, seg], diffusion[:, seg], which)
        return rows

    values = potential_rows(km.drift, km.diffusion, kind)[0]
    drift_potential = potential_rows(km.drift, km.diffusion, "drift")[0]
    boot = km.boot_drift.shape[0] >= 2
    alpha = 1.0 - level
    if boot:
        boot_phi = potential_rows(km.boot_drift, km.boot_diffusion, kind)
        low, high = nan_quantiles(boot_phi, expanded_levels(alpha, km.n_units))
    else:
        boot_phi = np.zeros((0, grid.size))
        low, high = nan.copy(), nan.copy()

    zones = [zone for seg in segments for zone in _fixed_points(km, seg)]
    points: list[FixedPoint] = []
    boot_positions: list[np.ndarray] = []
    dropped: list[str] = []
    for kind_fp, position, lo, hi, one_sided in zones:
        sign = 1 if kind_fp == "attractor" else -1
        reps = np.full(km.boot_drift.shape[0], np.nan)
        for b in range(km.boot_drift.shape[0]):
            zeros = _crossings(grid, km.boot_drift[b], lo, hi, sign)
            if zeros:
                reps[b] = min(zeros, key=lambda z: abs(z - position))
        found = np.isfinite(reps)
        if found.size and found.mean() < MIN_FOUND_FRACTION:
            dropped.append(
                f"a sign change of the drift at m = {position:.4g} was not reproduced in most "
                f"resamples ({found.mean():.0%}) and is not reported as a {kind_fp}"
            )
            continue
        if found.sum() >= 2:
            p_lo, p_hi = percentile_interval(reps[found], alpha, km.n_units)
        else:
            p_lo = p_hi = float("nan")
        points.append(
            FixedPoint(
                position=Estimate(position, (p_lo, p_hi)),
                kind=kind_fp,
                slope=_slope_at(grid, km.drift_slope, position),
                found_fraction=float(found.mean()) if found.size else float("nan"),
                one_sided=one_sided,
            )
        )
        boot_positions.append(reps)

    attractors = tuple(p for p in points if p.kind == "attractor")
    saddles = tuple(p for p in points if p.kind == "saddle")
    barriers: list[Barrier] = []
    order = sorted(range(len(points)), key=lambda i: points[i].location)
    for rank, i in enumerate(order):
        if points[i].kind != "attractor":
            continue
        for step in (-1, 1):
            j = rank + step
            if not 0 <= j < len(order) or points[order[j]].kind != "saddle":
                continue
            a, s = points[i], points[order[j]]
            found_segment = _segment_of(grid, segments, a.location, s.location)
            if found_segment is None:
                continue
            seg = found_segment
            k = rank + 2 * step
            target = (
                points[order[k]].location
                if 0 <= k < len(order) and points[order[k]].kind == "attractor"
                else float("nan")
            )
            if _segment_of(grid, segments, a.location, target) is None:
                target = float("nan")
            height = _interp(grid, values, s.location) - _interp(grid, values, a.location)
            h_lo = h_hi = float("nan")
            if boot_phi.shape[0] >= 2:
                ra, rs = boot_positions[i], boot_positions[order[j]]
                heights = np.array(
                    [
                        _interp(grid, boot_phi[b], rs[b]) - _interp(grid, boot_phi[b], ra[b])
                        for b in range(boot_phi.shape[0])
                        if np.isfinite(ra[b]) and np.isfinite(rs[b])
                    ]
                )
                heights = heights[np.isfinite(heights)]
                if heights.size >= 2:
                    h_lo, h_hi = percentile_interval(heights, alpha, km.n_units)
            escape = e_lo = e_hi = float("nan")
            if np.isfinite(target) and not deterministic:
                escape = float(
                    _escape_times(grid[seg], values[seg], km.diffusion[seg], a.location, target)[0]
                )
                if boot_phi.shape[0] >= 2:
                    times = _escape_times(
                        grid[seg], boot_phi[:, seg], km.boot_diffusion[:, seg], a.location, target
                    )
                    times = times[np.isfinite(times)]
                    if times.size >= 2:
                        e_lo, e_hi = percentile_interval(times, alpha, km.n_units)
            barriers.append(
                Barrier(
                    attractor=a.location,
                    saddle=s.location,
                    height=estimate(height, h_lo, h_hi),
                    escape_time=estimate(escape, e_lo, e_hi),
                    target=finite(target),
                )
            )
    notes += dropped
    if not attractors:
        ok = km.valid()
        if np.all(km.drift[ok] > 0):
            notes.append(
                "the drift is positive over the whole observed range: no attractor inside it"
            )
        elif np.all(km.drift[ok] < 0):
            notes.append(
                "the drift is negative over the whole observed range: no attractor inside it"
            )
        else:
            notes.append("no zero of the drift is statistically resolved: no attractor found")
    return EffectivePotential(
        grid=grid,
        values=values,
        low=low,
        high=high,
        kind=kind,
        drift_potential=drift_potential,
        attractors=attractors,
        saddles=saddles,
        barriers=tuple(barriers),
        noise_ratio=noise_ratio,
        notes=tuple(notes),
    )


def _interp(grid: np.ndarray, values: np.ndarray, x: float) -> float:
    ok = np.isfinite(values)
    if ok.sum() < 2 or not np.isfinite(x) or x < grid[ok].min() or x > grid[ok].max():
        return float("nan")
    return float(np.interp(x, grid[ok], values[ok]))


def first_passage_time(
    km: KramersMoyal, start: float, end: float, *, confidence: float | None = None
) -> Estimate | None:
    """Predicted mean first-passage time from ``start`` to ``end`` with its interval.

    Uses the exact 1-D formula ``T = int_start^end dy e^Phi(y) / D2(y) int_L^y e^-Phi(z) dz``
    (reflecting at the edge ``L`` of the resolved range) with the estimated drift and
    diffusion, and the bootstrap replicates for the interval.

    Returns
    -------
    Estimate or None
        The time with its interval; ``None`` where the points lie outside the resolved
        range.
    """
    if not km.estimable:
        return None
    region = _segment_of(km.grid, _segments(km.valid()), start, end)
    if region is None:
        return None
    sub = km.grid[region]
    phi = _potentials(sub, km.drift[None, region], km.diffusion[None, region], "fokker_planck")
    value = float(_escape_times(sub, phi, km.diffusion[None, region], start, end)[0])
    low = high = float("nan")
    if km.boot_drift.shape[0] >= 2:
        boot_phi = _potentials(
            sub, km.boot_drift[:, region], km.boot_diffusion[:, region], "fokker_planck"
        )
        times = _escape_times(sub, boot_phi, km.boot_diffusion[:, region], start, end)
        times = times[np.isfinite(times)]
        if times.size >= 2:
            alpha = 1 - (km.confidence if confidence is None else confidence)
            low, high = percentile_interval(times, alpha, km.n_units)
    return estimate(value, low, high)
