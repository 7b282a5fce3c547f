"""The largest change of m between neighbouring controls (a jump located to the grid)."""

from __future__ import annotations

import numpy as np

from landaulab.analyze.critical_point import Located, Location, LocatorContext, single


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


def locate_largest_jump(context: LocatorContext) -> Location:
    """The largest change of m between neighbouring controls of the largest size."""
    m, m_boot = context.order_parameter()
    return single(context.largest, largest_jump(context.largest.t, m, m_boot))
