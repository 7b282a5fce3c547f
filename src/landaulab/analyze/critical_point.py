"""Locating the transition in the control parameter, with bootstrap replicates.

Six estimators, each applied to the data and to every bootstrap replicate:

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
* the largest jump of m between neighbouring controls.

A grid-located estimate (the χ peak, the largest jump) cannot be more precise than the
control grid: its ``resolution`` is the cell it lies in, which its interval always includes.

All controls are in the standardised internal units of
:class:`~landaulab.analyze.frame.PreparedData`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landaulab.analyze.bootstrap import standard_error


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
