"""Locating the transition in the control parameter, with bootstrap replicates.

Seven estimators, each applied to the data and to every bootstrap replicate:

* the susceptibility peak of one size (parabolic refinement around the largest χ);
  at finite size it is shifted from T_c by O(L^(−1/ν)) (Fisher & Barber 1972, PRL 28, 1516);
* the crossing of the Binder cumulants of two sizes, whose finite-size shift is much
  smaller (Binder 1981, Z. Phys. B 43, 119);
* the zero of the fitted quadratic Landau coefficient a₂(T) (Landau 1937);
* the equal-depth point ΔF(T) = 0 of coexisting minima (first-order transitions);
* the vanishing point of the order parameter, m = A·|T_c − T|^β fitted to the ordered
  controls (Stanley 1971, "Introduction to Phase Transitions and Critical Phenomena",
  ch. 1), which needs no fluctuations: the estimator for nearly deterministic ensembles
  such as gradient-descent training (Ziyin & Ueda 2022, arXiv:2205.12510);
* the largest jump of m between neighbouring controls;
* the collapse of the Binder cumulants of all sizes (second-order transitions).

Each estimator is a *locator* in :data:`LOCATORS`: a function of a :class:`LocatorContext`
(the prepared data, the curves of every size, the Landau fit, the histograms, which side
is ordered, the seed) that returns a :class:`Location`, its candidate points with the
evidence it found. Adding a way to locate T_c is one function and one entry in
:data:`LOCATORS`. :func:`find_critical_points` runs them and applies the vetoes that need
several of them; :func:`choose_critical_point` picks the headline point by the order of
the transition.

A grid-located estimate (the χ peak, the largest jump) cannot be more precise than the
control grid: its ``resolution`` is the cell it lies in, which its interval always includes.

All controls are in the standardised internal units of
:class:`~landaulab.analyze.frame.PreparedData`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from landaulab.analyze.bootstrap import standard_error
from landaulab.analyze.collapse import FSS_SIZES, fit_binder_collapse
from landaulab.analyze.curves import (
    DEEPLY_ORDERED_BINDER,
    SizeCurves,
    order_parameter_curve,
    ordered_below,
    ordered_run,
    settled,
)
from landaulab.analyze.distribution import Histograms
from landaulab.analyze.ensemble import Ensemble
from landaulab.analyze.findings import Findings
from landaulab.analyze.frame import PreparedData
from landaulab.analyze.power_law import direct_power_law
from landaulab.estimate import Estimate

if TYPE_CHECKING:
    from landaulab.analyze.landau import FreeEnergyFit

#: β below every common universality class (2D four-state Potts: 1/12): a jump.
SMALLEST_BETA = 0.05


@dataclass(frozen=True, eq=False)
class Located:
    """A located control value with its bootstrap replicates (internal units)."""

    value: float
    replicates: np.ndarray
    method: str
    detail: str
    height: float = float("nan")
    height_replicates: np.ndarray | None = None
    resolution: tuple[float, float] | None = None
    exponent: float = float("nan")
    exponent_replicates: np.ndarray | None = None
    exponent_resolution: tuple[float, float] | None = None


def grid_cell(t: np.ndarray, k: int) -> tuple[float, float]:
    """The half-intervals around grid point ``k``: where a maximum at t[k] can truly lie."""
    low = 0.5 * (t[k - 1] + t[k]) if k > 0 else float(t[k])
    high = 0.5 * (t[k] + t[k + 1]) if k < t.size - 1 else float(t[k])
    return float(low), float(high)


def susceptibility_peak(
    t: np.ndarray, chi: np.ndarray, chi_boot: np.ndarray
) -> tuple[Located | None, bool]:
    """Position and height of the χ peak of one size.

    The grid maximum is refined by the vertex of the parabola through it and its two
    neighbours. Returns (None, True) when the maximum lies at the edge of the control range.

    Returns
    -------
    located, at_edge
    """
    ok = np.isfinite(chi)
    if ok.sum() < 3:
        return None, False
    t, chi, chi_boot = t[ok], chi[ok], chi_boot[:, ok]
    k = int(np.argmax(chi))
    if k == 0 or k == t.size - 1:
        return None, True
    value, height = _vertex(t, chi[None, :], np.array([k]))
    boot = np.where(np.isfinite(chi_boot), chi_boot, -np.inf)
    kb = np.clip(np.argmax(boot, axis=1), 1, t.size - 2)
    values, heights = _vertex(t, chi_boot, kb)
    return (
        Located(
            value=float(value[0]),
            replicates=values,
            method="susceptibility_peak",
            detail="",
            height=float(height[0]),
            height_replicates=heights,
            resolution=grid_cell(t, k),
        ),
        False,
    )


def largest_jump(t: np.ndarray, m: np.ndarray, m_boot: np.ndarray) -> Located | None:
    """The largest change of m between neighbouring controls, located at their midpoint.

    The jump can lie anywhere between the two controls: that interval is its resolution.
    Replicates take the midpoint of their own largest step.
    """
    ok = np.isfinite(m)
    if ok.sum() < 3:
        return None
    t, m, m_boot = t[ok], m[ok], m_boot[:, ok]
    steps = np.abs(np.diff(m))
    if not np.any(steps > 0):
        return None
    k = int(np.argmax(steps))
    boot_steps = np.abs(np.diff(m_boot, axis=1))
    kb = np.argmax(np.where(np.isfinite(boot_steps), boot_steps, -np.inf), axis=1)
    middle = 0.5 * (t[:-1] + t[1:])
    return Located(
        value=float(middle[k]),
        replicates=middle[kb],
        method="largest_jump",
        detail="",
        height=float(steps[k]),
        resolution=(float(t[k]), float(t[k + 1])),
    )


def vanishing_point(
    t: np.ndarray,
    m: np.ndarray,
    m_boot: np.ndarray,
    selected: np.ndarray,
    ordered_below: bool,
    *,
    n_grid: int = 400,
    seed: int = 0,
) -> Located | None:
    """Where m vanishes: m = A·(s·(T_c − T))^β fitted to the ordered controls.

    ``selected`` marks the controls where m is significantly non-zero (ordered); s = +1
    when the ordered phase lies below T_c. For each trial T_c beyond the last ordered
    control the fit is linear in log m (slope β), so T_c is profiled over a grid reaching
    one ordered span past the last ordered control (refined by a parabola through the
    best grid point) and the data and every replicate are fitted at once.

    Uncertainty: replicate b refits its own resampled m (runs resampled) with the
    residuals of the data fit added back in random order (a residual bootstrap,
    Efron & Tibshirani 1993, ch. 9), so a deterministic ensemble whose points do not
    lie exactly on a power law still gets an honest interval.

    Returns None with fewer than four ordered controls (three parameters and at least one
    residual, without which the residual bootstrap cannot see a misfit) or when the best
    T_c falls on the edge of the profile grid (no power law vanishing beyond the data).
    """
    ok = selected & np.isfinite(m) & (m > 0)
    if ok.sum() < 4:
        return None
    sign = 1.0 if ordered_below else -1.0
    ts, ys = t[ok], np.log(m[ok])
    edge = float(ts.max() if ordered_below else ts.min())
    span = float(np.ptp(ts))
    if span <= 0:
        return None
    # trial T_c from just beyond the last ordered control to one ordered span further,
    # uniform in log(T_c − edge)
    log_offsets = np.linspace(np.log(1e-4 * span), np.log(span), n_grid)
    _, beta, amplitude, position = _profile(log_offsets, ts, ys[None, :], sign, edge)
    if not (0 < position[0] < n_grid - 1):
        return None
    tc = edge + sign * float(np.exp(np.interp(position[0], np.arange(n_grid), log_offsets)))
    fitted = np.log(amplitude[0]) + beta[0] * np.log(sign * (tc - ts))
    residuals = ys - fitted
    rng = np.random.default_rng(seed)
    boot = m_boot[:, ok]
    with np.errstate(all="ignore"):
        yb = np.log(np.where(boot > 0, boot, np.nan))
    order = rng.permuted(np.tile(np.arange(ys.size), (yb.shape[0], 1)), axis=1)
    yb = yb - residuals[None, :] + residuals[order]
    _, beta_b, _, position_b = _profile(log_offsets, ts, yb, sign, edge)
    tc_b = edge + sign * np.exp(np.interp(position_b, np.arange(n_grid), log_offsets))
    interior = (position_b > 0) & (position_b < n_grid - 1) & np.isfinite(beta_b)
    # the profile grid limits the precision of T_c: one grid step on either side
    cell = edge + sign * np.exp(
        np.interp(position[0] + np.array([-1.0, 1.0]), np.arange(n_grid), log_offsets)
    )
    _, beta_cell, _ = _line(np.log(sign * (cell[:, None] - ts[None, :])), ys, np.ones(ys.size))
    return Located(
        value=tc,
        replicates=np.where(interior, tc_b, np.nan),
        method="vanishing_point",
        detail="",
        height=float(amplitude[0]),
        resolution=(float(cell.min()), float(cell.max())),
        exponent=float(beta[0]),
        exponent_replicates=np.where(interior, beta_b, np.nan),
        exponent_resolution=(float(beta_cell.min()), float(beta_cell.max())),
    )


def _line(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, ...]:
    """Weighted least-squares line y = c + β·x along the last axis: (rss, β, c)."""
    with np.errstate(all="ignore"):
        n = w.sum(axis=-1)
        xm = (w * x).sum(axis=-1) / n
        ym = (w * y).sum(axis=-1) / n
        dx = (x - xm[..., None]) * w
        dy = (y - ym[..., None]) * w
        sxx = (dx**2).sum(axis=-1)
        slope = (dx * dy).sum(axis=-1) / sxx
        rss = ((dy - slope[..., None] * dx) ** 2).sum(axis=-1)
        rss = np.where((n >= 3) & (sxx > 0), rss, np.inf)
    return rss, slope, ym - slope * xm


def _profile(
    log_offsets: np.ndarray, ts: np.ndarray, y: np.ndarray, sign: float, edge: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Least squares of y = log A + β·log(s(T_c − T)) profiled over trial T_c.

    ``y`` holds one fit per row (data or replicates; NaN entries are left out). The best
    grid point is refined by the vertex of the parabola through its neighbours (in grid
    index); β and A are refitted there. Returns rss, β, A and the fractional grid index.
    """
    mask = np.isfinite(y)
    w = mask.astype(float)[:, None, :]
    yy = np.where(mask, y, 0.0)[:, None, :]
    tc = edge + sign * np.exp(log_offsets)
    x = np.log(sign * (tc[:, None] - ts[None, :]))[None, :, :]  # (1, n_grid, n)
    rss, _, _ = _line(x, yy, w)
    k = np.argmin(rss, axis=1)
    rows = np.arange(y.shape[0])
    kk = np.clip(k, 1, log_offsets.size - 2)
    r0, r1, r2 = rss[rows, kk - 1], rss[rows, kk], rss[rows, kk + 1]
    with np.errstate(all="ignore"):
        curvature = r0 - 2 * r1 + r2
        shift = np.where(curvature > 0, 0.5 * (r0 - r2) / curvature, 0.0)
    shift = np.where(np.isfinite(shift), np.clip(shift, -1.0, 1.0), 0.0)
    position = np.where((k > 0) & (k < log_offsets.size - 1), kk + shift, k.astype(float))
    best = edge + sign * np.exp(np.interp(position, np.arange(log_offsets.size), log_offsets))
    xb = np.log(sign * (best[:, None] - ts[None, :]))
    rss_b, beta, intercept = _line(xb, yy[:, 0, :], w[:, 0, :])
    return rss_b, beta, np.exp(intercept), position


def _vertex(t: np.ndarray, y: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertex of the parabola through (t, y) at indices k−1, k, k+1 (row-wise)."""
    rows = np.arange(y.shape[0])
    x0, x1, x2 = t[k - 1], t[k], t[k + 1]
    y0, y1, y2 = y[rows, k - 1], y[rows, k], y[rows, k + 1]
    with np.errstate(all="ignore"):
        d01 = (y1 - y0) / (x1 - x0)
        d12 = (y2 - y1) / (x2 - x1)
        curvature = (d12 - d01) / (x2 - x0)
        vertex = 0.5 * (x0 + x1) - d01 / (2 * curvature)
        vertex = np.where((curvature < 0) & (vertex >= x0) & (vertex <= x2), vertex, x1)
        # Newton form: p(x) = y0 + d01 (x − x0) + c (x − x0)(x − x1)
        height = y0 + d01 * (vertex - x0) + curvature * (vertex - x0) * (vertex - x1)
    return vertex, np.maximum(height, y1)


def _root(t: np.ndarray, f: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Zero of the least-squares line through (t[index], f[:, index]), row-wise."""
    x = t[index]
    y = f[:, index]
    with np.errstate(all="ignore"):
        xm = x.mean()
        ym = np.nanmean(y, axis=1) if np.isnan(y).any() else y.mean(axis=1)
        slope = ((x - xm)[None, :] * (y - ym[:, None])).sum(axis=1) / ((x - xm) ** 2).sum()
        return xm - ym / slope


def _bracket_root(
    t: np.ndarray, y: np.ndarray, left: np.ndarray, at: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise linear interpolation between t[left] and t[left + 1].

    Returns where the line through (t[left], y[r, left]) and (t[left+1], y[r, left+1])
    crosses zero, clipped to the bracket, and, if ``at`` is given, the line's value there.
    """
    rows = np.arange(y.shape[0])
    x0, x1 = t[left], t[left + 1]
    y0, y1 = y[rows, left], y[rows, left + 1]
    with np.errstate(all="ignore"):
        fraction = np.clip(y0 / (y0 - y1), 0.0, 1.0)
        root = x0 + fraction * (x1 - x0)
        if at is None:
            return root, np.full(rows.size, np.nan)
        position = np.clip((at - x0) / (x1 - x0), 0.0, 1.0)
        return root, y0 + position * (y1 - y0)


def binder_crossing(
    t: np.ndarray,
    u_small: np.ndarray,
    u_large: np.ndarray,
    boot_small: np.ndarray,
    boot_large: np.ndarray,
    ordered_below: bool,
    *,
    z: float = 2.0,
    reach: int = 4,
) -> Located | None:
    """Crossing of the Binder cumulants of two sizes on their common controls.

    On the ordered side the larger size has the larger cumulant, on the disordered side
    the smaller one. A candidate crossing is a sign change of U_large − U_small in that
    orientation. Its evidence on each side is the mean difference over up to ``reach``
    controls in units of its bootstrap standard error; the candidate counts when both sides
    exceed ``z``, and the one with the strongest evidence wins. The crossing is linear
    interpolation of the difference between the bracketing controls (the least biased
    choice on a coarse grid); U* is the mean cumulant there. Each replicate uses its own
    nearest crossing (within three intervals; otherwise it is left out).
    """
    diff = u_large - u_small
    boot = boot_large - boot_small
    ok = np.isfinite(diff)
    if ok.sum() < 2:
        return None
    t, diff, boot = t[ok], diff[ok], boot[:, ok]
    mean_u = 0.5 * (u_small[ok] + u_large[ok])
    mean_boot = 0.5 * (boot_small[:, ok] + boot_large[:, ok])
    oriented = diff if ordered_below else -diff
    candidates = np.flatnonzero((oriented[:-1] > 0) & (oriented[1:] <= 0))
    if candidates.size == 0:
        return None
    se = standard_error(boot)
    se = np.where(np.isfinite(se), se, np.inf)
    scores = []
    for c in candidates:
        left = slice(max(c + 1 - reach, 0), c + 1)
        right = slice(c + 1, min(c + 1 + reach, oriented.size))
        with np.errstate(all="ignore"):
            z_left = oriented[left].sum() / np.sqrt(np.sum(se[left] ** 2))
            z_right = -oriented[right].sum() / np.sqrt(np.sum(se[right] ** 2))
        scores.append(min(z_left, z_right))
    k = int(np.argmax(scores))
    if not scores[k] >= z:
        return None
    best = int(candidates[k])
    root, _ = _bracket_root(t, diff[None, :], np.array([best]))
    value = float(root[0])
    _, height = _bracket_root(t, mean_u[None, :], np.array([best]), at=root)
    ob = boot if ordered_below else -boot
    crosses = (ob[:, :-1] > 0) & (ob[:, 1:] <= 0)
    distance = np.where(crosses, np.abs(np.arange(crosses.shape[1]) - best)[None, :], np.inf)
    nearest = np.argmin(distance, axis=1)
    found = distance[np.arange(distance.shape[0]), nearest] <= 3
    replicates, _ = _bracket_root(t, boot, nearest)
    _, heights = _bracket_root(t, mean_boot, nearest, at=replicates)
    return Located(
        value=value,
        replicates=np.where(found, replicates, np.nan),
        method="binder_crossing",
        detail="",
        height=float(height[0]),
        height_replicates=np.where(found, heights, np.nan),
    )


def sign_change(
    t: np.ndarray,
    f: np.ndarray,
    f_boot: np.ndarray,
    ordered_below: bool,
    *,
    method: str,
    window: int = 2,
) -> Located | None:
    """Where f changes sign, scanning from the disordered end (where f must be > 0).

    The root is that of a straight line fitted to ``window`` points on each side of the
    first sign change; replicates use the same points.
    """
    ok = np.isfinite(f)
    if ok.sum() < 2:
        return None
    t, f, f_boot = t[ok], f[ok], f_boot[:, ok]
    # orient so that index increases from the disordered end toward the ordered one
    if ordered_below:
        t, f, f_boot = t[::-1], f[::-1], f_boot[:, ::-1]
    if not f[0] > 0:
        return None
    negative = np.flatnonzero(f <= 0)
    if negative.size == 0:
        return None
    first = int(negative[0])
    lo = max(first - window, 0)
    hi = min(first + window, t.size)
    index = np.arange(lo, hi)
    value = float(_root(t, f[None, :], index)[0])
    replicates = _root(t, f_boot, index)
    return Located(value=value, replicates=replicates, method=method, detail="")


@dataclass(frozen=True)
class CriticalPoint(Estimate):
    """A located transition point with the method that found it.

    ``method`` is the name of the locator (``binder_crossing``, ``susceptibility_peak``,
    ``quadratic_coefficient_zero``, ``equal_depth``, ``largest_jump``, ``vanishing_point``,
    ``binder_collapse``); ``detail`` says which sizes.
    """

    method: str | None = ""
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """``{"value", "ci", "method"}`` (the contract of ``transition.critical_point``)."""
        return {**super().to_dict(), "method": self.method}

    def to_full_dict(self) -> dict[str, Any]:
        """As :meth:`to_dict` plus ``detail``."""
        return {**self.to_dict(), "detail": self.detail}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> CriticalPoint | None:
        """The inverse of :meth:`to_dict` and :meth:`to_full_dict` (None for None).

        An estimate without a value is kept (with ``value`` None), as the list of
        estimates of an analysis may hold one.
        """
        if data is None:
            return None
        ci = data.get("ci")
        return cls(
            value=data.get("value"),
            ci=tuple(ci) if ci is not None else None,
            method=data.get("method"),
            detail=data.get("detail", ""),
        )

    def __str__(self) -> str:
        return (
            f"{Estimate.__str__(self)} ({self.method}{', ' + self.detail if self.detail else ''})"
        )


def to_critical_point(prepared: PreparedData, located: Located, detail: str) -> CriticalPoint:
    """``located`` in the user's units, its interval from the replicates.

    A grid-located estimate is no sharper than the grid cell it lies in: its interval
    always covers its ``resolution``.
    """
    estimate = Estimate.from_replicates(
        float(prepared.to_control(located.value)), prepared.to_control(located.replicates)
    )
    value = estimate.value if estimate else None
    ci = estimate.ci if estimate else None
    if value is not None and located.resolution is not None:
        cell = sorted(float(prepared.to_control(x)) for x in located.resolution)
        ci = (min(ci[0], cell[0]), max(ci[1], cell[1])) if ci is not None else (cell[0], cell[1])
    return CriticalPoint(value=value, ci=ci, method=located.method, detail=detail)


@dataclass(frozen=True, eq=False)
class LocatorContext:
    """Everything a locator may read.

    Attributes
    ----------
    prepared, ensemble, histograms, fit
        The prepared rows, the ensemble moments with replicates, P(m) and the Landau fits.
    curves
        :class:`~landaulab.analyze.curves.SizeCurves` per size, in increasing size.
    symmetric
        Whether m takes both signs with similar weight.
    ordered_below
        Whether the ordered phase lies at low controls (largest size).
    ordered_run
        Per control of the largest size: the contiguous run from the ordered end where m
        is clearly ordered and settled.
    seed, n_bootstrap
        The analysis' seed and number of bootstrap replicates.
    order
        The order of the transition, for locators that run after the classification
        (None before it).
    found
        The candidate of each locator run so far that stands for its method.
    """

    prepared: PreparedData
    ensemble: Ensemble
    histograms: Histograms
    fit: FreeEnergyFit
    curves: Mapping[float, SizeCurves]
    symmetric: bool
    ordered_below: bool
    ordered_run: np.ndarray
    seed: int
    n_bootstrap: int
    order: str | None = None
    found: Mapping[str, Located] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        prepared: PreparedData,
        ensemble: Ensemble,
        histograms: Histograms,
        fit: FreeEnergyFit,
        curves: Mapping[float, SizeCurves],
        symmetric: bool,
        *,
        seed: int,
        n_bootstrap: int,
    ) -> LocatorContext:
        """The context of an analysis (which side is ordered, and how far, from the data)."""
        largest = curves[max(curves)]
        below = ordered_below(largest)
        m, m_boot = order_parameter_curve(largest, prepared.use_abs, symmetric)
        run = ordered_run(largest, m, m_boot, below, settled(prepared, ensemble)[largest.index])
        return cls(
            prepared=prepared,
            ensemble=ensemble,
            histograms=histograms,
            fit=fit,
            curves=curves,
            symmetric=symmetric,
            ordered_below=below,
            ordered_run=run,
            seed=seed,
            n_bootstrap=n_bootstrap,
        )

    @property
    def sizes(self) -> list[float]:
        """The sizes, increasing."""
        return list(self.curves)

    @property
    def largest(self) -> SizeCurves:
        """The curves of the largest size."""
        return self.curves[max(self.curves)]

    def order_parameter(self) -> tuple[np.ndarray, np.ndarray]:
        """⟨m⟩ (m_rms for a signed symmetric m) of the largest size, with replicates."""
        return order_parameter_curve(self.largest, self.prepared.use_abs, self.symmetric)


@dataclass(frozen=True, eq=False)
class Candidate:
    """One located point: the location, which sizes gave it, and how to say so."""

    located: Located
    sizes: tuple[float, ...]
    detail: str


@dataclass(frozen=True, eq=False, kw_only=True)
class Location(Findings):
    """What one locator found.

    Attributes
    ----------
    candidates
        Every point it located (one per size or pair of sizes), each an estimate of the
        analysis.
    chosen
        The candidate that stands for the method in the headline choice (None when it
        located nothing usable).
    """

    candidates: tuple[Candidate, ...] = ()
    chosen: Candidate | None = None


def _size_detail(size: float) -> str:
    return f"size {size:.6g}"


def _single(c: SizeCurves, located: Located | None) -> Location:
    """A location of the largest size (one candidate, chosen), or an empty one."""
    if located is None:
        return Location()
    candidate = Candidate(located, (c.size,), _size_detail(c.size))
    return Location(candidates=(candidate,), chosen=candidate)


def locate_susceptibility_peak(context: LocatorContext) -> Location:
    """The χ peak of every size; the largest size's stands for the method."""
    candidates = []
    for s, c in context.curves.items():
        peak, _ = susceptibility_peak(c.t, c.chi, c.chi_boot)
        if peak is not None:
            candidates.append(Candidate(peak, (s,), _size_detail(s)))
    largest = max(context.curves)
    chosen = next((c for c in candidates if c.sizes == (largest,)), None)
    return Location(candidates=tuple(candidates), chosen=chosen)


def locate_binder_crossing(context: LocatorContext) -> Location:
    """The Binder crossing of every pair of neighbouring sizes; the largest pair's stands
    for the method (said to be fragile when many replicates do not cross near it)."""
    candidates = []
    for small, large in itertools.pairwise(context.sizes):
        a, b = context.curves[small], context.curves[large]
        common, ia, ib = np.intersect1d(a.t, b.t, return_indices=True)
        if common.size < 2:
            continue
        crossing = binder_crossing(
            common,
            a.binder[ia],
            b.binder[ib],
            a.binder_boot[:, ia],
            b.binder_boot[:, ib],
            context.ordered_below,
        )
        if crossing is not None:
            detail = f"sizes {small:.6g} and {large:.6g}"
            candidates.append(Candidate(crossing, (small, large), detail))
    if not candidates:
        return Location()
    chosen = candidates[-1]
    evidence = []
    missing = float(np.mean(~np.isfinite(chosen.located.replicates)))
    if missing > 0.2:
        evidence.append(
            f"The Binder crossing is fragile: {missing:.0%} of bootstrap replicates show no "
            "crossing near it (its interval uses the others)."
        )
    return Location(candidates=tuple(candidates), chosen=chosen, evidence=tuple(evidence))


def samples_zero(histograms: Histograms, c: SizeCurves, value: float) -> bool:
    """Whether an ensemble next to ``value`` (one control on either side) visits m ≈ 0.

    The quadratic Landau coefficient is the curvature of −log P(m) at m = 0; it is
    measured, not extrapolated, only where P(m) has been sampled there: a populated bin
    within one bin of zero.
    """
    below = np.flatnonzero(c.t <= value)
    above = np.flatnonzero(c.t >= value)
    neighbours = [c.index[i[k]] for i, k in ((below, -1), (above, 0)) if i.size]
    for group in neighbours:
        centres = histograms.centres(int(group))
        near = np.abs(centres) <= 1.5 * histograms.width[group]
        if np.any(near & (histograms.full[group] > 0)):
            return True
    return False


def locate_quadratic_coefficient_zero(context: LocatorContext) -> Location:
    """The sign change of the fitted a₂(T) of the largest size, where P(m) was sampled
    at m ≈ 0 (elsewhere a₂ is extrapolated and its zero is not used)."""
    fit, largest = context.fit, context.largest
    a2 = fit.term_index("a2")
    if a2 is None:
        return Location()
    zero = sign_change(
        largest.t,
        fit.internal[largest.index, a2],
        fit.replicates[:, largest.index, a2],
        context.ordered_below,
        method="quadratic_coefficient_zero",
    )
    if zero is not None and not samples_zero(context.histograms, largest, zero.value):
        return Location(
            evidence=(
                f"The fitted a₂ changes sign near {context.prepared.to_control(zero.value):.4g}, "
                "but the ensembles on either side never visit m ≈ 0: a₂ (the curvature of F at "
                "m = 0) is extrapolated there, so its zero is not used to locate T_c.",
            )
        )
    return _single(largest, zero)


def locate_equal_depth(context: LocatorContext) -> Location:
    """Where coexisting minima of the fitted F of the largest size have equal depth."""
    largest, fit = context.largest, context.fit
    depth = sign_change(
        largest.t,
        fit.depth_difference[largest.index],
        fit.depth_difference_replicates[:, largest.index],
        context.ordered_below,
        method="equal_depth",
        window=1,
    )
    return _single(largest, depth)


def locate_largest_jump(context: LocatorContext) -> Location:
    """The largest change of m between neighbouring controls of the largest size."""
    m, m_boot = context.order_parameter()
    return _single(context.largest, largest_jump(context.largest.t, m, m_boot))


def locate_vanishing_point(context: LocatorContext) -> Location:
    """Where m of the largest size vanishes as a power law of its ordered controls."""
    m, m_boot = context.order_parameter()
    located = vanishing_point(
        context.largest.t,
        m,
        m_boot,
        context.ordered_run,
        context.ordered_below,
        seed=context.seed,
    )
    return _single(context.largest, located)


def locate_binder_collapse(context: LocatorContext) -> Location:
    """T_c from the collapse of the Binder cumulants of the largest sizes (a second-order
    transition with at least two sizes), started from the best earlier location."""
    if context.order != "second" or len(context.curves) < 2:
        return Location()
    start = next(
        (
            context.found[k].value
            for k in ("binder_crossing", "quadratic_coefficient_zero", "susceptibility_peak")
            if k in context.found
        ),
        float(np.median(context.largest.t)),
    )
    keys = context.sizes[-FSS_SIZES:]
    fit = fit_binder_collapse(context.curves, keys, start, context.n_bootstrap)
    if fit is None:
        return Location()
    located = Located(
        value=fit.critical_point,
        replicates=fit.replicates[:, 0],
        method="binder_collapse",
        detail="",
    )
    candidate = Candidate(located, tuple(keys), "sizes " + ", ".join(f"{k:.6g}" for k in keys))
    return Location(candidates=(candidate,), chosen=candidate)


@dataclass(frozen=True)
class Locator:
    """A way to locate T_c.

    Attributes
    ----------
    name
        The method's name (``CriticalPoint.method`` of its estimates).
    locate
        The locator: a :class:`LocatorContext` in, a :class:`Location` out.
    after_classification
        Whether it needs the order of the transition (``context.order``) and the earlier
        locations (``context.found``).
    """

    name: str
    locate: Callable[[LocatorContext], Location]
    after_classification: bool = False


#: Every locator, in the order their estimates are listed.
LOCATORS: tuple[Locator, ...] = (
    Locator("susceptibility_peak", locate_susceptibility_peak),
    Locator("binder_crossing", locate_binder_crossing),
    Locator("quadratic_coefficient_zero", locate_quadratic_coefficient_zero),
    Locator("equal_depth", locate_equal_depth),
    Locator("largest_jump", locate_largest_jump),
    Locator("vanishing_point", locate_vanishing_point),
    Locator("binder_collapse", locate_binder_collapse, after_classification=True),
)

#: Which located method gives the headline critical point, by order, best first.
HEADLINE_PREFERENCE: Mapping[str, tuple[str, ...]] = {
    "first": (
        "equal_depth",
        "susceptibility_peak",
        "quadratic_coefficient_zero",
        "largest_jump",
    ),
    "second": (
        "binder_collapse",
        "binder_crossing",
        "quadratic_coefficient_zero",
        "vanishing_point",
        "susceptibility_peak",
    ),
}


@dataclass(frozen=True, eq=False, kw_only=True)
class CriticalPointSearch(Findings):
    """What every locator found, after the vetoes.

    Attributes
    ----------
    locations
        Method name → its :class:`Location`, in :data:`LOCATORS` order.
    located
        Method name → the location standing for it, where it was not vetoed.
    estimates
        Every candidate in the user's units (each method, each size or pair of sizes).
    sharper_than_grid
        A sentence when m jumps between neighbouring controls with a flat ordered side,
        else None (then the vanishing point is vetoed).
    """

    locations: Mapping[str, Location] = field(default_factory=dict)
    located: Mapping[str, Candidate] = field(default_factory=dict)
    estimates: tuple[CriticalPoint, ...] = ()
    sharper_than_grid: str | None = None

    def candidates(self, name: str) -> tuple[Candidate, ...]:
        """Every candidate of method ``name`` (none when it did not run)."""
        location = self.locations.get(name)
        return location.candidates if location is not None else ()

    def peaks(self) -> dict[float, Located]:
        """The susceptibility peak of each size that has one."""
        return {c.sizes[0]: c.located for c in self.candidates("susceptibility_peak")}

    def crossings(self) -> list[tuple[float, float, Located]]:
        """The Binder crossing of each pair of neighbouring sizes: (small, large, crossing)."""
        return [(c.sizes[0], c.sizes[1], c.located) for c in self.candidates("binder_crossing")]

    def estimate(self, name: str, prepared: PreparedData) -> CriticalPoint | None:
        """The estimate standing for method ``name`` (vetoed or not), or None."""
        location = self.locations.get(name)
        if location is None or location.chosen is None:
            return None
        return to_critical_point(prepared, location.chosen.located, location.chosen.detail)


def _run(
    context: LocatorContext, after_classification: bool
) -> tuple[dict[str, Location], list[str]]:
    locations: dict[str, Location] = {}
    evidence: list[str] = []
    for locator in LOCATORS:
        if locator.after_classification != after_classification:
            continue
        location = locator.locate(context)
        locations[locator.name] = location
        evidence.extend(location.evidence)
    return locations, evidence


def find_critical_points(context: LocatorContext) -> CriticalPointSearch:
    """Run the locators that precede the classification, then the vetoes.

    * A susceptibility peak where m is unambiguously ordered (Binder above
      :data:`~landaulab.analyze.curves.DEEPLY_ORDERED_BINDER` on the ordered run) is where
      runs converge slowest, not a critical fluctuation peak: it does not locate T_c.
    * When m is flat on the ordered side of its largest jump (see
      :func:`sharper_than_grid`), the vanishing point is not a location.
    """
    prepared, largest = context.prepared, context.largest
    locations, evidence = _run(context, after_classification=False)
    located = {n: loc.chosen for n, loc in locations.items() if loc.chosen is not None}
    peak = located.get("susceptibility_peak")
    run = context.ordered_run
    if peak is not None and run.any():
        at = int(np.argmin(np.abs(largest.t - peak.located.value)))
        if run[at] and largest.binder[at] > DEEPLY_ORDERED_BINDER:
            # runs spread most where they converge slowest, at the edge of the ordered
            # region: not a critical fluctuation peak
            del located["susceptibility_peak"]
            evidence.append(
                f"The susceptibility peaks at {prepared.to_control(peak.located.value):.4g}, "
                f"where m is unambiguously ordered (Binder > {DEEPLY_ORDERED_BINDER:.2f}): not "
                "a critical fluctuation peak, so it does not locate the transition."
            )
    jump, vanishing = located.get("largest_jump"), located.get("vanishing_point")
    m, m_boot = context.order_parameter()
    sharper = sharper_than_grid(
        prepared,
        largest,
        run,
        jump.located if jump is not None else None,
        vanishing.located if vanishing is not None else None,
        m,
        m_boot,
    )
    estimates = [
        to_critical_point(prepared, c.located, c.detail)
        for location in locations.values()
        for c in location.candidates
    ]
    if sharper is not None:
        # A power law fitted to a flat ordered side (β ≈ 0) does not locate a vanishing
        # point: the change lies somewhere between two grid points, as the jump says.
        estimates = [e for e in estimates if e.method != "vanishing_point"]
        located.pop("vanishing_point", None)
        if "vanishing_point" in locations:
            locations["vanishing_point"] = Location()
    return CriticalPointSearch(
        locations=locations,
        located=located,
        estimates=tuple(estimates),
        sharper_than_grid=sharper,
        evidence=tuple(evidence),
    )


def refine_critical_points(
    search: CriticalPointSearch, context: LocatorContext, order: str
) -> CriticalPointSearch:
    """Run the locators that need the order of the transition and add what they find.

    The returned search holds every location and estimate so far, but only the evidence
    of this step (that of ``search`` was already reported).
    """
    context = replace(context, order=order, found={n: c.located for n, c in search.located.items()})
    locations, evidence = _run(context, after_classification=True)
    added = [
        to_critical_point(context.prepared, c.located, c.detail)
        for location in locations.values()
        for c in location.candidates
    ]
    located = dict(search.located)
    located.update({n: loc.chosen for n, loc in locations.items() if loc.chosen is not None})
    return replace(
        search,
        locations={**search.locations, **locations},
        located=located,
        estimates=search.estimates + tuple(added),
        evidence=tuple(evidence),
        not_estimable={},
    )


@dataclass(frozen=True, eq=False, kw_only=True)
class Headline(Findings):
    """The headline critical point of an analysis.

    Attributes
    ----------
    critical_point
        In the user's units, or None.
    name
        The method that gave it (None without one).
    located
        Its location in internal units, with replicates (None without one).
    """

    critical_point: CriticalPoint | None = None
    name: str | None = None
    located: Located | None = None


def choose_critical_point(
    order: str, search: CriticalPointSearch, prepared: PreparedData
) -> Headline:
    """The first finite location of :data:`HEADLINE_PREFERENCE` for ``order``."""
    evidence: list[str] = []
    not_estimable: dict[str, str] = {}
    name = candidate = None
    for method in HEADLINE_PREFERENCE.get(order, ()):
        found = search.located.get(method)
        if found is not None and np.isfinite(found.located.value):
            name, candidate = method, found
            break
    critical_point = None
    if candidate is not None:
        critical_point = to_critical_point(prepared, candidate.located, candidate.detail)
        if critical_point.value is None:
            critical_point = None
    if critical_point is None and order in ("first", "second"):
        not_estimable["critical_point"] = (
            "no estimator located the transition inside the control range"
        )
    if order == "crossover":
        where = ""
        peak = search.located.get("susceptibility_peak")
        if peak is not None:
            peak_at = float(prepared.to_control(peak.located.value))
            where = f"; the susceptibility peaks at {peak_at:.4g}"
        evidence.append(f"No critical point for a crossover{where}.")
    return Headline(
        critical_point=critical_point,
        name=name,
        located=candidate.located if candidate is not None else None,
        evidence=tuple(evidence),
        not_estimable=not_estimable,
    )


def sharper_than_grid(
    prepared: PreparedData,
    c: SizeCurves,
    run: np.ndarray,
    jump: Located | None,
    vanishing: Located | None,
    m: np.ndarray,
    m_boot: np.ndarray,
) -> str | None:
    """A sentence when m jumps between neighbouring controls with a flat ordered side.

    The exponent β of m ∝ |T − T_c|^β on the ordered controls (``run``) comes from the
    vanishing-point fit, or (fewer than four ordered controls) from a power law with T_c
    at the largest jump. When its 95 % interval reaches zero, m does not decrease toward
    the transition at the resolved distances: a discontinuous jump and a continuous
    transition sharper than the grid cannot be told apart. So it is when the whole
    interval lies below :data:`SMALLEST_BETA` = 0.05, under the smallest exponent of the
    common universality classes (2D four-state Potts, β = 1/12; Baxter 1982, "Exactly
    Solved Models").
    """
    if vanishing is not None:
        beta, beta_boot = vanishing.exponent, vanishing.exponent_replicates
    elif jump is not None and run.sum() >= 2:
        beta, beta_boot = direct_power_law(c.t, m, m_boot, run, jump.value, jump.replicates)
    else:
        return None
    estimate = Estimate.from_replicates(beta, beta_boot)
    if estimate is None or jump is None or jump.resolution is None:
        return None
    # Without a usable bootstrap interval (e.g. seeds that agree exactly) the point
    # value decides.
    low_beta, high_beta = estimate.ci if estimate.ci is not None else (beta, beta)
    if low_beta > 0 and high_beta >= SMALLEST_BETA:
        return None
    low, high = (float(prepared.to_control(x)) for x in jump.resolution)
    return (
        f"m jumps by {jump.height * prepared.scale:.3g} between {low:.4g} and {high:.4g} and "
        f"is flat on the ordered side (β = {estimate}, consistent with 0 or below "
        f"{SMALLEST_BETA}): the data cannot "
        "distinguish a discontinuous jump from a continuous transition sharper than the "
        "control grid."
    )
