"""Numerical helpers shared by the locators: parabola vertices, straight-line roots and
sign changes with their significance (internal units, row-wise over replicates)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from landaulab.analyze.critical_point import Located
from landaulab.estimate import percentile_interval


def parabola_vertex(t: np.ndarray, y: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def line_root(t: np.ndarray, f: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Zero of the least-squares line through (t[index], f[:, index]), row-wise."""
    x = t[index]
    y = f[:, index]
    with np.errstate(all="ignore"):
        xm = x.mean()
        ym = np.nanmean(y, axis=1) if np.isnan(y).any() else y.mean(axis=1)
        slope = ((x - xm)[None, :] * (y - ym[:, None])).sum(axis=1) / ((x - xm) ** 2).sum()
        return xm - ym / slope


def bracket_root(
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


def sign_change(
    t: np.ndarray,
    f: np.ndarray,
    f_boot: np.ndarray,
    ordered_below: bool,
    *,
    method: str,
    window: int = 2,
    what: str = "f",
    check: Callable[[float], str | None] | None = None,
) -> tuple[Located | None, str | None]:
    """Where f changes sign from > 0 on the disordered side to ≤ 0 on the ordered one.

    The root is that of a straight line fitted to ``window`` points on each side of a
    sign change of the point estimates; replicates use the same points. A sign change is
    *significant* when the fits next to it are present (no missing control between its
    bracketing points), at least one control on the disordered side has its 95 % bootstrap
    interval above zero and one on the ordered side below zero, no
    control on the disordered side is significantly negative nor one on the ordered side
    significantly positive (one change of sign separates the phases), and the root lies
    within the points it was fitted to. The sign changes are tried from the
    disordered end; the first significant one is returned with reason None, else the first
    one with the reason it is not significant (``what`` names f in that sentence).
    ``check`` (value → reason or None) is a further check of the locator.

    Returns
    -------
    located, reason
        (None, None) without any sign change.
    """
    present = np.isfinite(f)
    if present.sum() < 2:
        return None, None
    position = np.flatnonzero(present)
    t, f, f_boot = t[present], f[present], f_boot[:, present]
    # orient so that index increases from the disordered end toward the ordered one
    if ordered_below:
        t, f, f_boot = t[::-1], f[::-1], f_boot[:, ::-1]
        position = position[::-1]
    low, high = percentile_interval(f_boot, axis=0)
    flips = np.flatnonzero((f[:-1] > 0) & (f[1:] <= 0)) + 1
    first: tuple[Located, str] | None = None
    for flip in flips:
        k = int(flip)
        lo = max(k - window, 0)
        hi = min(k + window, t.size)
        index = np.arange(lo, hi)
        value = float(line_root(t, f[None, :], index)[0])
        located = Located(
            value=value, replicates=line_root(t, f_boot, index), method=method, detail=""
        )
        reason = None
        if abs(int(position[k]) - int(position[k - 1])) != 1:
            reason = f"the {what} fits next to its sign change are missing"
        elif not np.any(low[:k] > 0):
            reason = (
                f"{what} is not significantly positive on the disordered side of its sign "
                "change (its 95 % intervals there include zero or are missing)"
            )
        elif not np.any(high[k:] < 0):
            reason = (
                f"{what} is not significantly negative on the ordered side of its sign "
                "change (its 95 % intervals there include zero or are missing)"
            )
        elif np.any(high[:k] < 0) or np.any(low[k:] > 0):
            reason = (
                f"{what} changes sign significantly more than once (negative at a control on "
                "the disordered side or positive on the ordered side of its sign change)"
            )
        elif not (min(t[lo:hi]) <= value <= max(t[lo:hi])):
            reason = f"the zero of the line through the {what} fits lies outside them"
        elif check is not None:
            reason = check(value)
        if reason is None:
            return located, None
        if first is None:
            first = (located, reason)
    if first is None:
        return None, None
    return first
