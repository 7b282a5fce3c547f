"""Finite-size-scaling data collapse by minimising the Houdayer–Hartmann quality.

For an observable y(T, L) = L^(−ρ)·f((T − T_c)·L^(1/ν)) the points of all sizes fall on one
master curve when plotted as Y = y·L^ρ against x = (T − T_c)·L^(1/ν). The quality of a
trial (T_c, ν, ρ) is (Houdayer & Hartmann 2004, Phys. Rev. B 70, 014418,
arXiv:cond-mat/0402036; the same measure as Melchert 2009, arXiv:0910.5403, "autoScale"):

    S = (1/𝒩) Σ_(L,j) (Y_Lj − Ŷ_Lj)² / (dY_Lj² + dŶ_Lj²),

where Ŷ_Lj and dŶ_Lj come from a weighted straight line through the points of the *other*
sizes whose x brackets x_Lj. S ≈ 1 for a collapse within errors.

S is minimised by Nelder–Mead (Nelder & Mead 1965, Comput. J. 7, 308) run on many problems
at once: the data (from several starting values of ν) and every bootstrap replicate
(resampling runs, started from the optimum), with S evaluated for all of them in one
vectorised call. The spread of the replicate optima gives the confidence intervals.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from landaulab.analyze.bootstrap import standard_error
from landaulab.analyze.curves import SizeCurves
from landaulab.analyze.findings import Findings, warn
from landaulab.analyze.frame import PreparedData
from landaulab.analyze.records import estimate_from_dict, float_or_nan
from landaulab.errors import FitWarning
from landaulab.estimate import Estimate
from landaulab.serialize import to_json

#: Most bootstrap replicates refitted by the (costlier) data collapse.
MAX_COLLAPSE_REPLICATES = 200
#: Finite-size scaling uses at most this many of the largest sizes.
FSS_SIZES = 3


@dataclass(frozen=True, eq=False)
class CollapseData:
    """Points of one observable on the (control, size) grid, sorted by size then control.

    Attributes
    ----------
    t, y, dy
        Control (internal units), value and standard error of every point.
    size_index
        Which size each point belongs to (0 … S − 1).
    sizes
        The sizes, ascending.
    """

    t: np.ndarray
    y: np.ndarray
    dy: np.ndarray
    size_index: np.ndarray
    sizes: np.ndarray

    @property
    def relative_log_size(self) -> np.ndarray:
        """log(L / L_min) of every point (collapses do not depend on the unit of L)."""
        return np.log(self.sizes / self.sizes[0])[self.size_index]


def collapse_quality_batch(
    data: CollapseData,
    critical_point: np.ndarray,
    nu: np.ndarray,
    ratio: np.ndarray,
    y: np.ndarray,
) -> np.ndarray:
    """Houdayer–Hartmann quality S for P parameter sets at once.

    Parameters
    ----------
    data
        The points (``data.y`` is ignored in favour of ``y``).
    critical_point, nu, ratio
        Arrays (P,): trial T_c (internal units), ν > 0 and ρ.
    y
        Values, shape (P, n) (one row per trial, e.g. bootstrap replicates).

    Returns
    -------
    numpy.ndarray
        S for each trial (inf where fewer than two points overlap other sizes).
    """
    log_l = data.relative_log_size
    rows, n = y.shape
    with np.errstate(all="ignore"):
        x = (data.t[None, :] - critical_point[:, None]) * np.exp(log_l[None, :] / nu[:, None])
        factor = np.exp(ratio[:, None] * log_l[None, :])
        big_y = y * factor
        big_dy2 = (data.dy[None, :] * factor) ** 2
        w = 1.0 / big_dy2
        finite_x = np.where(np.isfinite(x), x, 0.0)
        low = finite_x.min()
        spread = float(finite_x.max() - low) + 1.0
        # rows are made globally ordered by a per-row offset: one searchsorted serves all
        shifted = (finite_x - low + spread * np.arange(rows)[:, None]).ravel()
        x_flat, y_flat, w_flat = x.ravel(), big_y.ravel(), w.ravel()
        offset = (np.arange(rows) * n)[:, None]
        sums = np.zeros((5, rows, n))
        bounds = np.r_[0, np.cumsum(np.bincount(data.size_index))]
        for k in range(bounds.size - 1):
            lo, hi = int(bounds[k]), int(bounds[k + 1])
            size_k = hi - lo
            if size_k < 2:
                continue
            keys = shifted.reshape(rows, n)[:, lo:hi].ravel()
            j = np.searchsorted(keys, shifted).reshape(rows, n)
            j -= (np.arange(rows) * size_k)[:, None]
            valid = (j >= 1) & (j <= size_k - 1)
            valid[:, lo:hi] = False
            right = np.where(valid, j, 1) + (lo + offset)
            both = np.stack([right - 1, right])
            wi = np.where(valid[None], w_flat[both], 0.0)
            xi = x_flat[both]
            wx = wi * xi
            sums[0] += wi.sum(axis=0)
            sums[1] += wx.sum(axis=0)
            sums[2] += (wi * y_flat[both]).sum(axis=0)
            sums[3] += (wx * xi).sum(axis=0)
            sums[4] += (wx * y_flat[both]).sum(axis=0)
        s0, sx, sy, sxx, sxy = sums
        delta = s0 * sxx - sx * sx
        prediction = (sxx * sy - sx * sxy + x * (s0 * sxy - sx * sy)) / delta
        variance = (sxx - 2.0 * x * sx + x * x * s0) / delta
        terms = (big_y - prediction) ** 2 / (big_dy2 + variance)
        good = (s0 > 0) & np.isfinite(terms)
        count = good.sum(axis=1)
        quality = np.where(good, terms, 0.0).sum(axis=1) / count
    return np.where(count >= 2, quality, np.inf)


def collapse_quality(data: CollapseData, critical_point: float, nu: float, ratio: float) -> float:
    """Houdayer–Hartmann quality S of the collapse at (T_c, ν, ρ) (lower is better)."""
    return float(
        collapse_quality_batch(
            data, np.array([critical_point]), np.array([nu]), np.array([ratio]), data.y[None, :]
        )[0]
    )


def nelder_mead_batch(
    objective: Callable[[np.ndarray, np.ndarray], np.ndarray],
    simplex: np.ndarray,
    *,
    iterations: int = 200,
    tolerance: float = 1e-6,
) -> tuple[np.ndarray, np.ndarray]:
    """Minimise P independent problems with Nelder–Mead, evaluating them together.

    Parameters
    ----------
    objective
        ``objective(points, problems)`` maps points (k, d), row i belonging to problem
        ``problems[i]``, to values (k,). Only problems still running are evaluated.
    simplex
        Initial simplices, shape (P, d + 1, d).
    iterations
        Most iterations.
    tolerance
        A problem stops once the spread of its simplex values is below this (relative).

    Returns
    -------
    best_points, best_values
        Arrays (P, d) and (P,).
    """
    problems, vertices, _ = simplex.shape
    points = simplex.copy()
    everyone = np.arange(problems)
    values = np.stack([_safe(objective(points[:, v], everyone)) for v in range(vertices)], axis=1)
    for _ in range(iterations):
        order = np.argsort(values, axis=1, kind="stable")
        points = np.take_along_axis(points, order[:, :, None], axis=1)
        values = np.take_along_axis(values, order, axis=1)
        spread = values[:, -1] - values[:, 0]
        running = np.isfinite(values[:, 0]) & (spread > tolerance * (1 + np.abs(values[:, 0])))
        rows = np.flatnonzero(running)
        if rows.size == 0:
            break
        pts, vals = points[rows], values[rows]
        centroid = pts[:, :-1].mean(axis=1)
        worst = pts[:, -1]
        reflected = centroid + (centroid - worst)
        f_reflected = _safe(objective(reflected, rows))
        expand = f_reflected < vals[:, 0]
        accept_reflected = (f_reflected >= vals[:, 0]) & (f_reflected < vals[:, -2])
        contract = f_reflected >= vals[:, -2]
        outside = contract & (f_reflected < vals[:, -1])
        candidate = np.where(
            expand[:, None],
            centroid + 2.0 * (reflected - centroid),
            np.where(
                outside[:, None],
                centroid + 0.5 * (reflected - centroid),
                centroid + 0.5 * (worst - centroid),
            ),
        )
        need = expand | contract
        f_candidate = np.full(rows.size, np.inf)
        if need.any():
            f_candidate[need] = _safe(objective(candidate[need], rows[need]))
        new_point = worst.copy()
        new_value = vals[:, -1].copy()
        take_e = expand & (f_candidate < f_reflected)
        take_r = (expand & ~take_e) | accept_reflected
        threshold = np.where(outside, f_reflected, vals[:, -1])
        take_c = contract & (f_candidate < threshold)
        shrink = contract & ~take_c
        new_point[take_e], new_value[take_e] = candidate[take_e], f_candidate[take_e]
        new_point[take_r], new_value[take_r] = reflected[take_r], f_reflected[take_r]
        new_point[take_c], new_value[take_c] = candidate[take_c], f_candidate[take_c]
        keep = ~shrink
        points[rows[keep], -1] = new_point[keep]
        values[rows[keep], -1] = new_value[keep]
        if shrink.any():
            shrunk = rows[shrink]
            best = points[shrunk, :1]
            points[shrunk, 1:] = best + 0.5 * (points[shrunk, 1:] - best)
            for v in range(1, vertices):
                values[shrunk, v] = _safe(objective(points[shrunk, v], shrunk))
    best = np.argmin(values, axis=1)
    return points[everyone, best], values[everyone, best]


REPLICATE_SIMPLEX = 0.25
REPLICATE_ITERATIONS = 120
REPLICATE_TOLERANCE = 1e-3


def _safe(values: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(values), values, np.inf)


@dataclass(frozen=True, eq=False)
class CollapseFit:
    """Optimum of the collapse and its bootstrap replicates (internal control units).

    ``replicates`` has one row (T_c, ν, ρ) per bootstrap replicate.
    """

    critical_point: float
    nu: float
    ratio: float
    quality: float
    replicates: np.ndarray


def fit_collapse(
    data: CollapseData,
    *,
    start_critical_point: float,
    start_ratio: float = 0.0,
    fit_ratio: bool = True,
    fixed_critical_point: bool = False,
    critical_point_replicates: np.ndarray | None = None,
    replicate_y: np.ndarray | None = None,
) -> CollapseFit | None:
    """Minimise S over (T_c, ν, ρ); refit each row of ``replicate_y`` from the optimum.

    Parameters
    ----------
    data
        The points to collapse.
    start_critical_point
        Starting T_c (internal units), e.g. a Binder crossing; the value used when
        ``fixed_critical_point``.
    start_ratio
        Starting exponent ratio ρ.
    fit_ratio
        Fit ρ (False keeps it at ``start_ratio``, e.g. 0 for the Binder cumulant).
    fixed_critical_point
        Keep T_c at ``start_critical_point`` (and replicate r at
        ``critical_point_replicates[r]``), fitting ν and ρ only: T_c, ν and ρ are strongly
        correlated in a collapse, so a T_c known from elsewhere sharpens the exponents.
    critical_point_replicates
        T_c of each bootstrap replicate, paired with the rows of ``replicate_y``.
    replicate_y
        Bootstrap replicates of ``data.y``, shape (R, n); None for no replicates.

    Returns
    -------
    CollapseFit or None
        None when the points of different sizes never overlap.
    """
    if np.unique(data.size_index).size < 2:
        return None
    span = float(np.ptp(data.t)) or 1.0
    free = [not fixed_critical_point, True, fit_ratio]
    full_steps = np.array([0.1 * span, 0.4, 0.1])
    steps = np.diag(full_steps)[free][:, free]
    defaults = np.array([start_critical_point, 0.0, start_ratio])

    def make_objective(
        y: np.ndarray, critical: np.ndarray
    ) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        def objective(points: np.ndarray, problems: np.ndarray) -> np.ndarray:
            full = np.repeat(defaults[None, :], points.shape[0], axis=0)
            full[:, free] = points
            if fixed_critical_point:
                full[:, 0] = critical[problems]
            return collapse_quality_batch(
                data, full[:, 0], np.exp(np.clip(full[:, 1], -5, 5)), full[:, 2], y[problems]
            )

        return objective

    starts = np.log([0.5, 1.0, 2.0, 4.0])
    x0 = np.repeat(defaults[None, :], starts.size, axis=0)
    x0[:, 1] = starts
    x0 = x0[:, free]
    simplex = np.concatenate([x0[:, None, :], x0[:, None, :] + steps[None, :, :]], axis=1)
    y_starts = np.repeat(data.y[None, :], starts.size, axis=0)
    critical_starts = np.full(starts.size, start_critical_point)
    points, values = nelder_mead_batch(
        make_objective(y_starts, critical_starts), simplex, iterations=200, tolerance=1e-4
    )
    best = int(np.argmin(values))
    if not np.isfinite(values[best]):
        return None
    optimum = points[best]
    # polish from the best start
    polish = np.concatenate(
        [optimum[None, None, :], optimum[None, None, :] + 0.1 * steps[None]], axis=1
    )
    points, values = nelder_mead_batch(
        make_objective(data.y[None, :], np.array([start_critical_point])),
        polish,
        iterations=80,
        tolerance=1e-5,
    )
    optimum = points[0]
    quality = float(values[0])
    full_optimum = defaults.copy()
    full_optimum[free] = optimum
    reps = np.full((0, 3), np.nan)
    if replicate_y is not None and replicate_y.shape[0] > 0:
        rows = replicate_y.shape[0]
        critical = np.full(rows, start_critical_point)
        if critical_point_replicates is not None:
            given = np.asarray(critical_point_replicates, dtype=float)[:rows]
            critical[: given.size] = given
        finite = np.all(np.isfinite(replicate_y), axis=1) & np.isfinite(critical)
        fill = np.where(finite[:, None], replicate_y, data.y[None, :])
        critical = np.where(np.isfinite(critical), critical, start_critical_point)
        simplex = np.repeat(
            np.concatenate(
                [optimum[None, :], optimum[None, :] + REPLICATE_SIMPLEX * steps], axis=0
            )[None],
            rows,
            axis=0,
        )
        points, values = nelder_mead_batch(
            make_objective(fill, critical),
            simplex,
            iterations=REPLICATE_ITERATIONS,
            tolerance=REPLICATE_TOLERANCE,
        )
        reps = np.repeat(defaults[None, :], rows, axis=0)
        reps[:, free] = points
        if fixed_critical_point:
            reps[:, 0] = critical
        reps[:, 1] = np.exp(reps[:, 1])
        reps[~finite | ~np.isfinite(values)] = np.nan
    return CollapseFit(
        critical_point=float(full_optimum[0]),
        nu=float(np.exp(full_optimum[1])),
        ratio=float(full_optimum[2]),
        quality=quality,
        replicates=reps,
    )


def critical_window(curves: Mapping[float, SizeCurves], keys: list[float]) -> tuple[float, float]:
    """Controls in the critical region: where χ of the largest size exceeds a quarter of
    its peak (at least five controls around the peak).

    The peak of the largest size is the narrowest (width ∝ L^(−1/ν)), so inside this window
    every size is within its scaling region; far from T_c corrections to scaling would bias
    a collapse. Without an interior peak the whole range is used.
    """
    c = curves[keys[-1]]
    ok = np.isfinite(c.chi)
    t, chi = c.t[ok], c.chi[ok]
    everything = (-np.inf, np.inf)
    if t.size < 5:
        return everything
    k = int(np.argmax(chi))
    if k == 0 or k == t.size - 1:
        return everything
    inside = chi >= 0.25 * chi[k]
    lo, hi = k, k
    while lo > 0 and inside[lo - 1]:
        lo -= 1
    while hi < t.size - 1 and inside[hi + 1]:
        hi += 1
    while hi - lo + 1 < 5:
        if lo > 0 and (hi == t.size - 1 or chi[lo - 1] >= chi[hi + 1]):
            lo -= 1
        elif hi < t.size - 1:
            hi += 1
        else:
            break
    return float(t[lo]), float(t[hi])


def collapse_data(
    curves: Mapping[float, SizeCurves], keys: list[float], observable: str
) -> tuple[CollapseData, np.ndarray] | None:
    """Points of ``observable`` (an attribute of :class:`SizeCurves`) for the given sizes,
    inside the critical window, with their bootstrap replicates (None with fewer than two
    sizes of resolved errors)."""
    low, high = critical_window(curves, keys)
    t, y, dy, size_index, boot = [], [], [], [], []
    for i, k in enumerate(keys):
        c = curves[k]
        values = getattr(c, observable)
        replicates = getattr(c, f"{observable}_boot")
        se = standard_error(replicates)
        ok = np.isfinite(values) & np.isfinite(se) & (se > 0) & (c.t >= low) & (c.t <= high)
        if ok.sum() < 2:
            continue
        t.append(c.t[ok])
        y.append(values[ok])
        dy.append(se[ok])
        size_index.append(np.full(int(ok.sum()), i))
        boot.append(replicates[:, ok])
    if len(t) < 2:
        return None
    index = np.concatenate(size_index)
    used = np.unique(index)
    data = CollapseData(
        t=np.concatenate(t),
        y=np.concatenate(y),
        dy=np.concatenate(dy),
        size_index=np.searchsorted(used, index),
        sizes=np.array(keys)[used],
    )
    return data, np.concatenate(boot, axis=1)


def fit_binder_collapse(
    curves: Mapping[float, SizeCurves], keys: list[float], start: float, n_bootstrap: int
) -> CollapseFit | None:
    """T_c and ν from the collapse of the Binder cumulant, U = f((T − T_c)·L^(1/ν)).

    U is dimensionless, so only T_c and ν are fitted: a crossing of all sizes at once,
    weighted by the errors of every point. None when the collapse fails or its T_c lies
    more than a tenth of the collapsed range outside it.
    """
    prepared_data = collapse_data(curves, keys, "binder")
    if prepared_data is None:
        return None
    data, boot = prepared_data
    fit = fit_collapse(
        data,
        start_critical_point=start,
        start_ratio=0.0,
        fit_ratio=False,
        replicate_y=boot[: min(n_bootstrap, MAX_COLLAPSE_REPLICATES)],
    )
    if fit is None or not np.isfinite(fit.critical_point):
        return None
    span = float(np.ptp(data.t))
    if not (data.t.min() - 0.1 * span <= fit.critical_point <= data.t.max() + 0.1 * span):
        return None
    return fit


def _estimate_dict(estimate: Estimate | None) -> dict[str, Any] | None:
    return estimate.to_dict() if estimate is not None else None


@dataclass(frozen=True, eq=False)
class CollapseResult:
    """A finite-size-scaling data collapse of the order parameter.

    Attributes
    ----------
    observable
        What was collapsed (``"rms"``: √⟨m²⟩).
    critical_point, nu, ratio
        T_c (held at the analysis' critical point, replicate by replicate), and the fitted ν
        and exponent ratio ρ (here β/ν), with bootstrap intervals.
    ratio_name
        The name of ρ.
    quality
        Houdayer–Hartmann S at the optimum (≈ 1 for a collapse within errors).
    curves
        Per size: ``size``, ``x`` = (T − T_c)·L^(1/ν), ``y`` = m·L^ρ, ``dy``.
    """

    observable: str
    critical_point: Estimate | None
    nu: Estimate | None
    ratio: Estimate | None
    ratio_name: str
    quality: float
    curves: tuple[dict[str, Any], ...] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        return to_json(
            {
                "observable": self.observable,
                "critical_point": _estimate_dict(self.critical_point),
                "nu": _estimate_dict(self.nu),
                "ratio": {
                    "name": self.ratio_name,
                    **(self.ratio.to_dict() if self.ratio else {"value": None, "ci": None}),
                },
                "quality": self.quality,
                "curves": list(self.curves),
            }
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CollapseResult:
        """The inverse of :meth:`to_dict` (curves as lists, a missing quality as NaN)."""
        ratio = dict(data.get("ratio") or {})
        has_ratio = any(ratio.get(k) is not None for k in ("value", "ci")) or "method" in ratio
        return cls(
            observable=data["observable"],
            critical_point=estimate_from_dict(data.get("critical_point")),
            nu=estimate_from_dict(data.get("nu")),
            ratio=estimate_from_dict(ratio) if has_ratio else None,
            ratio_name=ratio.get("name", ""),
            quality=float_or_nan(data.get("quality")),
            curves=tuple(dict(c) for c in data.get("curves") or ()),
        )


@dataclass(frozen=True, kw_only=True)
class CollapseStep(Findings):
    """The collapse of m_rms at a fixed T_c: the result and the raw fit (or None)."""

    result: CollapseResult | None = None
    fit: CollapseFit | None = None


def collapse_order_parameter(
    prepared: PreparedData,
    curves: Mapping[float, SizeCurves],
    keys: list[float],
    critical_point: float,
    critical_point_replicates: np.ndarray,
    start_ratio: float,
    n_bootstrap: int,
) -> CollapseStep:
    """Collapse m_rms of the sizes ``keys`` with T_c held at ``critical_point`` (internal
    units; replicate r at ``critical_point_replicates[r]``), fitting ν and β/ν.

    A collapse that cannot be made (fewer than two sizes with resolved errors, or ranges
    that never overlap) is reported under ``not_estimable["collapse"]``; the second case
    also raises a :class:`~landaulab.errors.FitWarning`.
    """
    collapse_input = collapse_data(curves, keys, "rms")
    if collapse_input is None:
        return CollapseStep(not_estimable={"collapse": "fewer than two sizes with resolved errors"})
    data, boot = collapse_input
    replicates = boot[: min(n_bootstrap, MAX_COLLAPSE_REPLICATES)]
    fit = fit_collapse(
        data,
        start_critical_point=critical_point,
        start_ratio=start_ratio,
        fixed_critical_point=True,
        critical_point_replicates=critical_point_replicates,
        replicate_y=replicates,
    )
    if fit is None:
        reason = "the sizes' control ranges do not overlap after scaling"
        warn(f"The data collapse of m_rms failed and was dropped: {reason}.", FitWarning)
        return CollapseStep(not_estimable={"collapse": reason})
    reps = fit.replicates
    critical = Estimate.from_replicates(
        float(prepared.to_control(fit.critical_point)), prepared.to_control(reps[:, 0])
    )
    curves_out = []
    with np.errstate(all="ignore"):
        for i, s in enumerate(data.sizes):
            sel = data.size_index == i
            x = prepared.control_distance(data.t[sel] - fit.critical_point) * s ** (1 / fit.nu)
            factor = s**fit.ratio
            curves_out.append(
                {
                    "size": float(s),
                    "x": np.asarray(x),
                    "y": data.y[sel] * prepared.scale * factor,
                    "dy": data.dy[sel] * prepared.scale * factor,
                }
            )
    result = CollapseResult(
        observable="rms",
        critical_point=critical,
        nu=Estimate.from_replicates(fit.nu, reps[:, 1]),
        ratio=Estimate.from_replicates(fit.ratio, reps[:, 2]),
        ratio_name="beta_over_nu",
        quality=fit.quality,
        curves=tuple(curves_out),
    )
    return CollapseStep(result=result, fit=fit)
