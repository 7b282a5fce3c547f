"""Locating the transition in the control parameter, with bootstrap replicates.

Four estimators, each applied to the data and to every bootstrap replicate:

* the susceptibility peak of one size (parabolic refinement around the largest χ);
  at finite size it is shifted from T_c by O(L^(−1/ν)) (Fisher & Barber 1972, PRL 28, 1516);
* the crossing of the Binder cumulants of two sizes, whose finite-size shift is much
  smaller (Binder 1981, Z. Phys. B 43, 119);
* the zero of the fitted quadratic Landau coefficient a₂(T) (Landau 1937);
* the equal-depth point ΔF(T) = 0 of coexisting minima (first-order transitions).

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
        ),
        False,
    )


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
