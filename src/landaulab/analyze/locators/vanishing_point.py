"""The vanishing point of the order parameter: m = A·|T_c − T|^β fitted to the ordered
controls (Stanley 1971, "Introduction to Phase Transitions and Critical Phenomena", ch. 1).

It needs no fluctuations: the estimator for nearly deterministic ensembles such as
gradient-descent training (Ziyin & Ueda 2022, arXiv:2205.12510).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from landaulab.analyze.critical_point import Located, Location, LocatorContext, single


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


#: Numbers a time in the profiled fits of :func:`_profile` (8 MB per temporary).
PROFILE_BLOCK = 1 << 20


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
    # the fits of a block of rows at a time (each row's numbers are its own: the same
    # rss as one call), so the temporaries stay near PROFILE_BLOCK numbers
    block = max(1, PROFILE_BLOCK // max(x.size, 1))
    rss = np.concatenate(
        [
            _line(x, yy[low : low + block], w[low : low + block])[0]
            for low in range(0, max(y.shape[0], 1), block)
        ]
    )
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


def widen_by_fit_range(full: Located, reduced: Located | None) -> Located:
    """``full`` with its resolution (and that of β) widened to cover the fit that leaves
    out the ordered control nearest the transition.

    Points next to T_c carry the largest corrections to the power law (finite-size
    rounding, corrections to scaling); where leaving the nearest one out moves T_c or β,
    the difference is a systematic uncertainty the bootstrap cannot see, and the interval
    is widened to cover both fits (varying the fit range, as in Binder & Heermann 2010,
    "Monte Carlo Simulation in Statistical Physics", §2.3).
    """
    if reduced is None or full.resolution is None:
        return full
    low, high = full.resolution
    resolution = (min(low, reduced.value), max(high, reduced.value))
    exponent_resolution = full.exponent_resolution
    if exponent_resolution is not None and np.isfinite(reduced.exponent):
        exponent_resolution = (
            min(exponent_resolution[0], reduced.exponent),
            max(exponent_resolution[1], reduced.exponent),
        )
    return replace(full, resolution=resolution, exponent_resolution=exponent_resolution)


def locate_vanishing_point(context: LocatorContext) -> Location:
    """Where m of the largest size vanishes as a power law of its ordered controls.

    Validity: at least four clearly ordered controls (the ordered run: Binder above
    :data:`~landaulab.analyze.curves.ORDERED_BINDER`, m many standard errors above zero,
    settled), else nothing is located; the interval covers the fit without the ordered
    control nearest the transition (:func:`widen_by_fit_range`).
    """
    m, m_boot = context.order_parameter()
    t, run = context.largest.t, context.ordered_run
    located = vanishing_point(t, m, m_boot, run, context.ordered_below, seed=context.seed)
    if located is not None and run.sum() >= 5:
        inside = np.flatnonzero(run)
        nearest = inside[-1] if context.ordered_below else inside[0]
        reduced_run = run.copy()
        reduced_run[nearest] = False
        reduced = vanishing_point(
            t, m, m_boot, reduced_run, context.ordered_below, seed=context.seed
        )
        located = widen_by_fit_range(located, reduced)
    return single(context.largest, located)
