"""The equal-depth point of coexisting minima, ΔF(T) = 0, at every size, extrapolated in
1/V (first-order transitions).

At a first-order transition the ordered and disordered minima of the free energy have equal
depth at T*; at finite volume V the equal-depth (or equal-weight) point is shifted by
O(1/V) (Challa, Landau & Binder 1986, Phys. Rev. B 34, 1841; Borgs & Kotecký 1990,
Phys. Rev. Lett. 65, 1; Lee & Kosterlitz 1991, Phys. Rev. B 43, 3265). The equal-depth
point is located at every size whose fitted F has two minima on both sides of it (see
:func:`~landaulab.analyze.locators._numeric.sign_change`; ΔF = F(outer) − F(inner) > 0
where the disordered minimum is deeper), so a size that never populates both phases does
not prevent the location. With two or more sizes the points are extrapolated by the
weighted least-squares line T*(V) = T* + a/V, replicate by replicate (bootstrap over runs, sizes
resampled independently); with one size, that size's point stands for the method.

Validity check: the sign change of ΔF is significant at its size (fits present next to it,
ΔF significantly positive on the disordered side and negative on the ordered one).
"""

from __future__ import annotations

import numpy as np

from landaulab.analyze.bootstrap import standard_error
from landaulab.analyze.critical_point import (
    Candidate,
    Located,
    Location,
    LocatorContext,
    size_detail,
)
from landaulab.analyze.locators._numeric import sign_change


def extrapolate_in_inverse_volume(
    points: list[tuple[float, Located]],
) -> Located:
    """T*(∞) from T*(V) = T* + a/V: the weighted least-squares line in 1/V at 1/V = 0.

    ``points`` are (volume, location) pairs, weighted by the inverse bootstrap variance of
    each size's point (equally where one is unknown); replicate b uses replicate b of every
    size (NaN when any is missing) with the same weights.
    """
    x = 1.0 / np.array([v for v, _ in points])
    y = np.array([p.value for _, p in points])
    size = min(np.asarray(p.replicates).size for _, p in points)
    yb = np.column_stack([np.asarray(p.replicates, dtype=float)[:size] for _, p in points])
    # weights: inverse bootstrap variances of the sizes (equal where unknown)
    variance = standard_error(yb) ** 2
    usable = np.isfinite(variance) & (variance > 0)
    weight = np.where(usable, 1.0 / np.where(usable, variance, 1.0), 0.0)
    weight = weight / weight.max() if usable.all() else np.ones_like(x)
    design = np.column_stack([np.ones_like(x), x]) * np.sqrt(weight)[:, None]
    projector = np.linalg.pinv(design) * np.sqrt(weight)[None, :]
    intercept = float((projector @ y)[0])
    with np.errstate(all="ignore"):
        replicates = (yb @ projector.T)[:, 0]
    replicates = np.where(np.all(np.isfinite(yb), axis=1), replicates, np.nan)
    return Located(value=intercept, replicates=replicates, method="equal_depth", detail="")


def locate_equal_depth(context: LocatorContext) -> Location:
    """Where coexisting minima of the fitted F have equal depth, at every size, and its
    extrapolation in 1/V when two or more sizes locate it."""
    fit = context.fit
    candidates: list[Candidate] = []
    valid: list[tuple[float, Candidate]] = []
    for s, c in context.curves.items():
        depth, reason = sign_change(
            c.t,
            fit.depth_difference[c.index],
            fit.depth_difference_replicates[:, c.index],
            context.ordered_below,
            method="equal_depth",
            window=1,
            what="ΔF",
        )
        if depth is None:
            continue
        candidate = Candidate(depth, (s,), size_detail(s), reason)
        candidates.append(candidate)
        if reason is None:
            valid.append((c.volume, candidate))
    if not candidates:
        return Location()
    evidence: list[str] = []
    if len(valid) >= 2:
        sizes = tuple(c.sizes[0] for _, c in valid)
        located = extrapolate_in_inverse_volume([(v, c.located) for v, c in valid])
        chosen = Candidate(
            located,
            sizes,
            "extrapolated in 1/V from sizes " + ", ".join(f"{s:.6g}" for s in sizes),
        )
        candidates.append(chosen)
        per_size = ", ".join(
            f"{context.prepared.to_control(c.located.value):.4g} (size {c.sizes[0]:.6g})"
            for _, c in valid
        )
        evidence.append(
            f"Equal depth of the coexisting minima at {per_size}; extrapolated linearly in "
            f"1/V to {context.prepared.to_control(located.value):.4g}."
        )
    elif valid:
        chosen = valid[-1][1]
    else:
        chosen = candidates[-1]
    return Location(candidates=tuple(candidates), chosen=chosen, evidence=tuple(evidence))
