"""Power laws fitted to the data and to every bootstrap replicate at once.

The fitting routines of the critical exponents (:mod:`landaulab.analyze.exponents`), the
critical isotherm (:mod:`landaulab.analyze.field`) and the sharpness test of a vanishing
order parameter (:mod:`landaulab.analyze.critical_point`): the slope of log y against
log x, a value interpolated at T_c replicate by replicate, and m ∝ |T − T_c|^β.
"""

from __future__ import annotations

import numpy as np


def loglog_slope(log_x: np.ndarray, y: np.ndarray, y_boot: np.ndarray) -> tuple[float, np.ndarray]:
    """Least-squares slope of log y against log x, for the data and every replicate."""
    with np.errstate(all="ignore"):
        ly = np.log(y)
        lyb = np.log(np.where(y_boot > 0, y_boot, np.nan))
    return _slope(log_x, ly[None, :])[0], _slope(log_x, lyb)


def _slope(x: np.ndarray, y: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Row-wise least-squares slope of y on x (rows of y are separate fits)."""
    if mask is None:
        mask = np.isfinite(y)
    w = mask.astype(float)
    y = np.where(mask, y, 0.0)
    with np.errstate(all="ignore"):
        n = w.sum(axis=1)
        xm = (w * x).sum(axis=1) / n
        ym = (w * y).sum(axis=1) / n
        dx = x[None, :] - xm[:, None]
        sxx = (w * dx**2).sum(axis=1)
        sxy = (w * dx * (y - ym[:, None])).sum(axis=1)
        slope = sxy / sxx
    return np.where((n >= 2) & (sxx > 0), slope, np.nan)


def value_at(
    t: np.ndarray, y: np.ndarray, y_boot: np.ndarray, tc: float, tc_boot: np.ndarray
) -> tuple[float, np.ndarray]:
    """y(T_c) by linear interpolation; replicate b is evaluated at its own T_c.

    Replicates are paired by index (the same resampled runs); when fewer T_c replicates
    exist than y replicates, the first ones are used.
    """
    y_boot = y_boot[: tc_boot.size]
    full = float(np.interp(tc, t, y)) if t[0] <= tc <= t[-1] else np.nan
    index = np.clip(np.searchsorted(t, tc_boot) - 1, 0, t.size - 2)
    with np.errstate(all="ignore"):
        frac = (tc_boot - t[index]) / (t[index + 1] - t[index])
        rows = np.arange(y_boot.shape[0])
        boot = y_boot[rows, index] + frac * (y_boot[rows, index + 1] - y_boot[rows, index])
    inside = (tc_boot >= t[0]) & (tc_boot <= t[-1])
    return full, np.where(inside, boot, np.nan)


def direct_power_law(
    t: np.ndarray,
    y: np.ndarray,
    y_boot: np.ndarray,
    selected: np.ndarray,
    tc: float,
    tc_boot: np.ndarray,
) -> tuple[float, np.ndarray]:
    """Exponent e of y ∝ |T − T_c|^e fitted on the selected controls.

    Replicate b uses its own T_c (paired by index; the first ``len(tc_boot)`` replicates of
    y); selected points that fall on the other side of that T_c are left out of that
    replicate's fit.
    """
    y_boot = y_boot[: tc_boot.size]
    if selected.sum() < 2:
        return float("nan"), np.full(y_boot.shape[0], np.nan)
    ts = t[selected]
    with np.errstate(all="ignore"):
        side = np.sign(np.median(ts - tc))
        distance = side * (ts - tc)
        full_ok = distance > 0
        slope_full = _slope(
            np.log(np.where(full_ok, distance, 1.0)),
            np.log(y[selected])[None, :],
            (full_ok & (y[selected] > 0))[None, :],
        )[0]
        boot_distance = side * (ts[None, :] - tc_boot[:, None])
        ys = y_boot[:, selected]
        mask = (boot_distance > 0) & (ys > 0) & np.isfinite(ys)
        lx = np.log(np.where(boot_distance > 0, boot_distance, 1.0))
        ly = np.log(np.where(mask, ys, 1.0))
        slopes = _slope_varying_x(lx, ly, mask)
    return float(slope_full), slopes


def _slope_varying_x(x: np.ndarray, y: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Row-wise least-squares slope when x also differs per row."""
    w = mask.astype(float)
    with np.errstate(all="ignore"):
        n = w.sum(axis=1)
        xm = (w * x).sum(axis=1) / n
        ym = (w * y).sum(axis=1) / n
        dx = x - xm[:, None]
        sxx = (w * dx**2).sum(axis=1)
        sxy = (w * dx * (y - ym[:, None])).sum(axis=1)
        slope = sxy / sxx
    return np.where((n >= 2) & (sxx > 0), slope, np.nan)
