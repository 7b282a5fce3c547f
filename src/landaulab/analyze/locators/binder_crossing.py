"""The crossing of the Binder cumulants of two sizes, whose finite-size shift is much
smaller than that of the susceptibility peak (Binder 1981, Z. Phys. B 43, 119)."""

from __future__ import annotations

import itertools

import numpy as np

from landaulab.analyze.bootstrap import standard_error
from landaulab.analyze.critical_point import Candidate, Located, Location, LocatorContext
from landaulab.analyze.locators._numeric import bracket_root


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
    root, _ = bracket_root(t, diff[None, :], np.array([best]))
    value = float(root[0])
    _, height = bracket_root(t, mean_u[None, :], np.array([best]), at=root)
    ob = boot if ordered_below else -boot
    crosses = (ob[:, :-1] > 0) & (ob[:, 1:] <= 0)
    distance = np.where(crosses, np.abs(np.arange(crosses.shape[1]) - best)[None, :], np.inf)
    nearest = np.argmin(distance, axis=1)
    found = distance[np.arange(distance.shape[0]), nearest] <= 3
    replicates, _ = bracket_root(t, boot, nearest)
    _, heights = bracket_root(t, mean_boot, nearest, at=replicates)
    return Located(
        value=value,
        replicates=np.where(found, replicates, np.nan),
        method="binder_crossing",
        detail="",
        height=float(height[0]),
        height_replicates=np.where(found, heights, np.nan),
    )


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
