"""The susceptibility peak of each size: at finite size it is shifted from T_c by
O(L^(−1/ν)) (Fisher & Barber 1972, Phys. Rev. Lett. 28, 1516).

The peak of one size is a *pseudo-critical* point T*(L) = T_c + a·L^(−1/ν) (Fisher & Barber
1972; Binder 1981, Z. Phys. B 43, 119): a biased estimator of T_c whose bootstrap interval
(the spread of the peak position over resampled runs) does not contain the shift a·L^(−1/ν),
so it looks precise exactly where it is systematically off. The shift is not small against
that interval: it is of the order of the width of the peak itself (both scale as
L^(−1/ν)); for the mean-field χ = N·Var(|m|) of P(m) ∝ exp(−N(a₂m² + a₄m⁴)) the peak lies
at a₂ = −2.16·√(a₄/N), while the peak's full width at half maximum spans a₂ from −4.6 to
+1.0 in the same units. Only sizes can tell whether the peak has reached T_c, so the largest
size's peak stands for T_c only where a smaller size has a critical fluctuation peak too and
the peak does not move significantly between them (:func:`_drifts`); otherwise it is listed
as a pseudo-critical point (:data:`PSEUDO`), still a sign of critical fluctuations
(:func:`is_fluctuation_peak`) but never the headline. The same holds at a first-order
transition, where the χ peak of a finite system is shifted from the transition by O(1/V)
(Challa, Landau & Binder 1986, Phys. Rev. B 34, 1841); there the equal-depth point, located
at every size and extrapolated in 1/V, locates it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from landaulab.analyze.bootstrap import standard_error
from landaulab.analyze.critical_point import (
    Candidate,
    Located,
    Location,
    LocatorContext,
    grid_cell,
    size_detail,
)
from landaulab.analyze.curves import DEEPLY_ORDERED_BINDER, SizeCurves
from landaulab.analyze.locators._numeric import parabola_vertex
from landaulab.estimate import Estimate, percentile_interval


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
    value, height = parabola_vertex(t, chi[None, :], np.array([k]))
    boot = np.where(np.isfinite(chi_boot), chi_boot, -np.inf)
    kb = np.clip(np.argmax(boot, axis=1), 1, t.size - 2)
    values, heights = parabola_vertex(t, chi_boot, kb)
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


def _transient(context: LocatorContext, peak: Located) -> str | None:
    """Why the χ ``peak`` of the largest size is not a critical fluctuation peak
    because of its disordered side, or None.

    Critical fluctuations on the disordered side (the controls past the peak's grid cell)
    are fluctuations of m around zero, with a Binder cumulant near 0 (Gaussian); a strongly
    negative cumulant (below −0.1 by more than two standard errors at every disordered
    control) means m decays within each run: the spread at the peak is the transient of
    slow convergence, not a fluctuation.
    """
    c = context.largest
    low, high = peak.resolution or (peak.value, peak.value)
    beyond = c.t > high if context.ordered_below else c.t < low
    binder = c.binder[beyond]
    if binder.size == 0 or not np.any(np.isfinite(binder)):
        return None
    se = standard_error(c.binder_boot[:, beyond])
    se = np.where(np.isfinite(se), se, 0.0)
    with np.errstate(invalid="ignore"):
        decays = ~(binder >= -0.1 - 2 * se)
    if np.all(decays):
        return (
            "m decays within each run on the disordered side (Binder cumulant well below "
            "zero): the spread at the peak is a transient of slow convergence, not a "
            "critical fluctuation"
        )
    return None


def _flat(c: SizeCurves, peak: Located) -> str | None:
    """Why ``peak`` is not a peak of χ, or None.

    A critical fluctuation peak stands out of the susceptibility on both sides: χ at the
    grid maximum exceeds χ at each end of the control range, the 95 % interval of the
    paired bootstrap difference (same replicate, resampled runs) excluding zero. The
    maximum of a flat χ (noise of similar size everywhere) does not.
    """
    ok = np.flatnonzero(np.isfinite(c.chi))
    if ok.size < 3:
        return None
    k = int(ok[np.argmax(c.chi[ok])])
    for end in (int(ok[0]), int(ok[-1])):
        low, _ = percentile_interval(c.chi_boot[:, k] - c.chi_boot[:, end])
        if not float(low) > 0:
            return (
                "χ does not stand out at its maximum (not significantly above χ at an end of "
                "the control range): not a critical fluctuation peak"
            )
    return None


#: How the reason of a peak that moves with size begins.
MOVES = "the peak moves with size"

#: How the reason of a peak that no smaller size's peak can check begins.
PSEUDO = "a finite-size pseudo-critical point"


def is_fluctuation_peak(candidate: Candidate) -> bool:
    """Whether ``candidate`` is a critical fluctuation peak (valid, or only moving with
    size or unchecked across sizes: finite-size effects of a critical peak)."""
    return candidate.reason is None or candidate.reason.startswith((MOVES, PSEUDO))


def _unchecked(largest: Candidate, n_sizes: int) -> str:
    """Why the χ peak of the largest size, without a smaller size's critical peak to
    compare it with, does not locate T_c."""
    without = "with one size" if n_sizes == 1 else "without a critical χ peak of a smaller size"
    return (
        f"{PSEUDO} (the χ peak of size {largest.sizes[0]:.6g}), shifted from the transition "
        f"by O(L^(−1/ν)) (O(1/V) at first order), a shift that cannot be measured {without}"
    )


def _drifts(smaller: Candidate, largest: Candidate, context: LocatorContext) -> str | None:
    """Why the χ peak of the largest size is a finite-size pseudo-critical point, or None.

    The peak of a finite system is shifted from T_c by O(L^(−1/ν)) (Fisher & Barber 1972):
    where the peak moves significantly between ``smaller`` (the nearest smaller size with a
    critical peak) and the largest size (the 95 % interval of the shift of the parabolic
    vertices, replicate by replicate, excludes zero), the largest size's peak has not
    reached T_c and does not locate it.
    """
    a, b = smaller.located, largest.located
    size = min(np.asarray(a.replicates).size, np.asarray(b.replicates).size)
    shift = Estimate.from_replicates(
        b.value - a.value,
        np.asarray(b.replicates, dtype=float)[:size] - np.asarray(a.replicates, dtype=float)[:size],
    )
    if shift is None or shift.ci is None or shift.ci[0] <= 0 <= shift.ci[1]:
        return None
    to = context.prepared.to_control
    return (
        f"{MOVES} (from {to(a.value):.4g} at size {smaller.sizes[0]:.6g} to "
        f"{to(b.value):.4g} at size {largest.sizes[0]:.6g}): a finite-size pseudo-critical "
        "point, shifted from T_c by O(L^(−1/ν))"
    )


def locate_susceptibility_peak(context: LocatorContext) -> Location:
    """The χ peak of every size; the largest size's stands for the method.

    Validity check: a peak where m is unambiguously ordered (on the ordered run, Binder
    above :data:`~landaulab.analyze.curves.DEEPLY_ORDERED_BINDER`) is where runs converge
    slowest, not a critical fluctuation peak, and does not locate T_c; nor does a peak
    whose disordered side shows no fluctuations around zero (:func:`_transient`), nor a
    maximum of a flat χ (:func:`_flat`). A critical peak of the largest size locates T_c
    only against the nearest smaller size with a critical peak: not where it still moves
    significantly with size (:func:`_drifts`), nor without such a size (one size, or no
    smaller χ that stands out), where it is a pseudo-critical point at an unmeasured shift
    from T_c (:func:`_unchecked`).
    """
    candidates = []
    evidence = []
    largest = context.largest
    run = context.ordered_run
    for s, c in context.curves.items():
        peak, _ = susceptibility_peak(c.t, c.chi, c.chi_boot)
        if peak is None:
            continue
        reason = _flat(c, peak)
        if reason is None and s == largest.size and run.any():
            at = int(np.argmin(np.abs(largest.t - peak.value)))
            if run[at] and largest.binder[at] > DEEPLY_ORDERED_BINDER:
                reason = (
                    f"m is unambiguously ordered at the peak (Binder > "
                    f"{DEEPLY_ORDERED_BINDER:.2f}): not a critical fluctuation peak"
                )
                evidence.append(
                    "The susceptibility peaks at "
                    f"{context.prepared.to_control(peak.value):.4g}, where m is unambiguously "
                    f"ordered (Binder > {DEEPLY_ORDERED_BINDER:.2f}): not a critical fluctuation "
                    "peak, so it does not locate the transition."
                )
        if reason is None and s == largest.size:
            reason = _transient(context, peak)
            if reason is not None:
                evidence.append(
                    "The susceptibility peaks at "
                    f"{context.prepared.to_control(peak.value):.4g}, but {reason}; it does not "
                    "locate the transition."
                )
        candidates.append(Candidate(peak, (s,), size_detail(s), reason))
    chosen = next((c for c in candidates if c.sizes == (largest.size,)), None)
    if chosen is not None and chosen.valid:
        smaller = [c for c in candidates[:-1] if c.valid]
        if smaller:
            reason = _drifts(smaller[-1], chosen, context)
        else:
            reason = _unchecked(chosen, len(context.curves))
        if reason is not None:
            candidates[-1] = chosen = replace(chosen, reason=reason)
    return Location(candidates=tuple(candidates), chosen=chosen, evidence=tuple(evidence))
