"""The zero of the fitted quadratic Landau coefficient a₂(T) (Landau 1937, Zh. Eksp. Teor.
Fiz. 7, 19; Landau & Lifshitz, "Statistical Physics", §146): where the curvature of F at
m = 0 changes sign.

At a second-order transition a₂ vanishes at T_c. At a first-order one it vanishes at the
spinodal, where the disordered minimum turns unstable, not at T_c: the locator locates
second-order transitions only.

Validity check: the sign change must be significant (see
:func:`~landaulab.analyze.locators._numeric.sign_change`: fits present next to it, a₂
significantly positive on the disordered side and negative on the ordered one) and the
ensembles next to it must visit m ≈ 0, where a₂ is measured rather than extrapolated.
"""

from __future__ import annotations

import numpy as np

from landaulab.analyze.critical_point import Location, LocatorContext, single
from landaulab.analyze.curves import SizeCurves
from landaulab.analyze.distribution import Histograms
from landaulab.analyze.locators._numeric import sign_change

#: Why the a₂ zero does not locate a first-order transition.
SPINODAL = (
    "at a first-order transition a₂ = 0 marks the spinodal (where the disordered minimum "
    "turns unstable), not T_c"
)


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
    """The significant sign change of the fitted a₂(T) of the largest size, where P(m) was
    sampled at m ≈ 0 (otherwise listed as not valid, with the reason)."""
    fit, largest = context.fit, context.largest
    a2 = fit.term_index("a2")
    if a2 is None:
        return Location()

    def visits_zero(value: float) -> str | None:
        if samples_zero(context.histograms, largest, value):
            return None
        return (
            "the ensembles next to it never visit m ≈ 0: a₂ (the curvature of F at m = 0) is "
            "extrapolated there"
        )

    zero, reason = sign_change(
        largest.t,
        fit.internal[largest.index, a2],
        fit.replicates[:, largest.index, a2],
        context.ordered_below,
        method="quadratic_coefficient_zero",
        what="a₂",
        check=visits_zero,
    )
    if zero is None:
        return Location()
    evidence: tuple[str, ...] = ()
    if reason is not None:
        evidence = (
            f"The fitted a₂ changes sign near {context.prepared.to_control(zero.value):.4g}, "
            f"but {reason}: its zero does not locate T_c.",
        )
    location = single(largest, zero, reason)
    return Location(candidates=location.candidates, chosen=location.chosen, evidence=evidence)
