"""The shared vocabulary of locating the transition, and the choice of the headline point.

A *locator* is one way to estimate the critical point: the susceptibility peak, the Binder
crossing, the zero of the quadratic Landau coefficient, the equal-depth point, the
vanishing point of m, the largest jump, the Binder collapse. Each lives in its own module
of :mod:`landaulab.analyze.locators` and is registered there in
:data:`~landaulab.analyze.locators.LOCATORS`; this module holds what they share and does
not import them:

* :class:`LocatorContext`, what a locator may read (the prepared data, the curves of every
  size, the Landau fit, the histograms, which side is ordered, the seed);
* :class:`Located`, :class:`Candidate` and :class:`Location`, what a locator returns: its
  candidate points with bootstrap replicates and, for each, the outcome of the locator's
  own validity check (``reason`` is None when it passed);
* :class:`Locator`, a registry entry, with the orders of transition it locates;
* :class:`CriticalPoint`, an estimate in the user's units with its validity;
* :func:`choose_critical_point`, the headline choice by evidence.

The headline choice: among the valid estimates of the methods that locate a transition of
the classified order, each with its 95 % interval, the most precise (narrowest interval)
is the headline. Where other valid estimates disagree with it beyond their intervals, the
evidence says so and the headline interval covers all of them, its replicates a mixture of
theirs (so the exponents measured at T_c inherit the disagreement). An estimate that failed
its check never stands for the transition; it stays in the list of estimates with
``valid`` false and its reason.

A grid-located estimate (the χ peak, the largest jump) cannot be more precise than the
control grid: its ``resolution`` is the cell it lies in, which its interval always includes.

All controls are in the standardised internal units of
:class:`~landaulab.analyze.frame.PreparedData`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from landaulab.analyze.curves import (
    SizeCurves,
    order_parameter_curve,
    ordered_below,
    ordered_run,
    settled,
)
from landaulab.analyze.distribution import Histograms
from landaulab.analyze.ensemble import Ensemble
from landaulab.analyze.findings import Findings
from landaulab.analyze.frame import PreparedData
from landaulab.analyze.power_law import direct_power_law
from landaulab.estimate import Estimate

if TYPE_CHECKING:
    from landaulab.analyze.landau import FreeEnergyFit

#: β below every common universality class (2D four-state Potts: 1/12): a jump.
SMALLEST_BETA = 0.05

#: The orders of transition whose critical point a locator may locate.
ORDERS = ("first", "second")


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


@dataclass(frozen=True)
class CriticalPoint(Estimate):
    """A located transition point with the method that found it.

    ``method`` is the name of the locator (``binder_crossing``, ``susceptibility_peak``,
    ``quadratic_coefficient_zero``, ``equal_depth``, ``largest_jump``, ``vanishing_point``,
    ``binder_collapse``); ``detail`` says which sizes. ``valid`` is False when the estimate
    failed its locator's check or does not locate a transition of the classified order;
    ``reason`` then says why (it never stands for the transition).
    """

    method: str | None = ""
    detail: str = ""
    valid: bool = True
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """``{"value", "ci", "method"}`` (the contract of ``transition.critical_point``)."""
        return {**super().to_dict(), "method": self.method}

    def to_full_dict(self) -> dict[str, Any]:
        """As :meth:`to_dict` plus ``detail``, ``valid`` and (when not valid) ``reason``."""
        full = {**self.to_dict(), "detail": self.detail, "valid": self.valid}
        if not self.valid:
            full["reason"] = self.reason
        return full

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> CriticalPoint | None:
        """The inverse of :meth:`to_dict` and :meth:`to_full_dict` (None for None).

        An estimate without a value is kept (with ``value`` None), as the list of
        estimates of an analysis may hold one.
        """
        if data is None:
            return None
        ci = data.get("ci")
        return cls(
            value=data.get("value"),
            ci=tuple(ci) if ci is not None else None,
            method=data.get("method"),
            detail=data.get("detail", ""),
            valid=bool(data.get("valid", True)),
            reason=str(data.get("reason") or ""),
        )

    def __str__(self) -> str:
        text = (
            f"{Estimate.__str__(self)} ({self.method}{', ' + self.detail if self.detail else ''})"
        )
        return text if self.valid else f"{text} [not valid: {self.reason}]"


def to_critical_point(
    prepared: PreparedData, located: Located, detail: str, reason: str | None = None
) -> CriticalPoint:
    """``located`` in the user's units, its interval from the replicates.

    A grid-located estimate is no sharper than the grid cell it lies in: its interval
    always covers its ``resolution``. ``reason`` (when not None) marks it not valid.
    """
    estimate = Estimate.from_replicates(
        float(prepared.to_control(located.value)), prepared.to_control(located.replicates)
    )
    value = estimate.value if estimate else None
    ci = estimate.ci if estimate else None
    if value is not None and located.resolution is not None:
        cell = sorted(float(prepared.to_control(x)) for x in located.resolution)
        ci = (min(ci[0], cell[0]), max(ci[1], cell[1])) if ci is not None else (cell[0], cell[1])
    return CriticalPoint(
        value=value,
        ci=ci,
        method=located.method,
        detail=detail,
        valid=reason is None,
        reason=reason or "",
    )


@dataclass(frozen=True, eq=False)
class LocatorContext:
    """Everything a locator may read.

    Attributes
    ----------
    prepared, ensemble, histograms, fit
        The prepared rows, the ensemble moments with replicates, P(m) and the Landau fits.
    curves
        :class:`~landaulab.analyze.curves.SizeCurves` per size, in increasing size.
    symmetric
        Whether m takes both signs with similar weight.
    ordered_below
        Whether the ordered phase lies at low controls (largest size).
    ordered_run
        Per control of the largest size: the contiguous run from the ordered end where m
        is clearly ordered and settled.
    seed, n_bootstrap
        The analysis' seed and number of bootstrap replicates.
    order
        The order of the transition, for locators that run after the classification
        (None before it).
    found
        The candidate of each locator run so far that stands for its method.
    """

    prepared: PreparedData
    ensemble: Ensemble
    histograms: Histograms
    fit: FreeEnergyFit
    curves: Mapping[float, SizeCurves]
    symmetric: bool
    ordered_below: bool
    ordered_run: np.ndarray
    seed: int
    n_bootstrap: int
    order: str | None = None
    found: Mapping[str, Located] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        prepared: PreparedData,
        ensemble: Ensemble,
        histograms: Histograms,
        fit: FreeEnergyFit,
        curves: Mapping[float, SizeCurves],
        symmetric: bool,
        *,
        seed: int,
        n_bootstrap: int,
    ) -> LocatorContext:
        """The context of an analysis (which side is ordered, and how far, from the data)."""
        largest = curves[max(curves)]
        below = ordered_below(largest)
        m, m_boot = order_parameter_curve(largest, prepared.use_abs, symmetric)
        run = ordered_run(largest, m, m_boot, below, settled(prepared, ensemble)[largest.index])
        return cls(
            prepared=prepared,
            ensemble=ensemble,
            histograms=histograms,
            fit=fit,
            curves=curves,
            symmetric=symmetric,
            ordered_below=below,
            ordered_run=run,
            seed=seed,
            n_bootstrap=n_bootstrap,
        )

    @property
    def sizes(self) -> list[float]:
        """The sizes, increasing."""
        return list(self.curves)

    @property
    def largest(self) -> SizeCurves:
        """The curves of the largest size."""
        return self.curves[max(self.curves)]

    def order_parameter(self) -> tuple[np.ndarray, np.ndarray]:
        """⟨m⟩ (m_rms for a signed symmetric m) of the largest size, with replicates."""
        return order_parameter_curve(self.largest, self.prepared.use_abs, self.symmetric)


@dataclass(frozen=True, eq=False)
class Candidate:
    """One located point: the location, which sizes gave it, how to say so, and the
    outcome of its locator's validity check (``reason`` None: passed)."""

    located: Located
    sizes: tuple[float, ...]
    detail: str
    reason: str | None = None

    @property
    def valid(self) -> bool:
        """Whether it passed its locator's check."""
        return self.reason is None


@dataclass(frozen=True, eq=False, kw_only=True)
class Location(Findings):
    """What one locator found.

    Attributes
    ----------
    candidates
        Every point it located (one per size or pair of sizes, or extrapolated), each an
        estimate of the analysis (valid or not).
    chosen
        The candidate that stands for the method (None when it located nothing); it
        competes for the headline only when valid.
    """

    candidates: tuple[Candidate, ...] = ()
    chosen: Candidate | None = None


def size_detail(size: float) -> str:
    """How a candidate of one size is described."""
    return f"size {size:.6g}"


def single(c: SizeCurves, located: Located | None, reason: str | None = None) -> Location:
    """A location of the largest size (one candidate, chosen), or an empty one."""
    if located is None:
        return Location()
    candidate = Candidate(located, (c.size,), size_detail(c.size), reason)
    return Location(candidates=(candidate,), chosen=candidate)


@dataclass(frozen=True)
class Locator:
    """A way to locate T_c: one module of :mod:`landaulab.analyze.locators` and one entry
    of its registry.

    Attributes
    ----------
    name
        The method's name (``CriticalPoint.method`` of its estimates).
    locate
        The locator: a :class:`LocatorContext` in, a :class:`Location` out.
    after_classification
        Whether it needs the order of the transition (``context.order``) and the earlier
        locations (``context.found``).
    orders
        The orders of transition whose critical point it locates; at another order its
        estimates are listed as not valid, with ``elsewhere`` as the reason.
    elsewhere
        Why it does not locate the transition at other orders.
    """

    name: str
    locate: Callable[[LocatorContext], Location]
    after_classification: bool = False
    orders: tuple[str, ...] = ORDERS
    elsewhere: str = "it does not locate a transition of this order"


@dataclass(frozen=True, eq=False, kw_only=True)
class CriticalPointSearch(Findings):
    """What every locator found.

    Attributes
    ----------
    locations
        Method name → its :class:`Location`, in registry order.
    located
        Method name → the valid candidate standing for it.
    estimates
        Every candidate in the user's units (each method, each size or pair of sizes),
        valid or not.
    sharper_than_grid
        A sentence when m jumps between neighbouring controls with a flat ordered side,
        else None (then the vanishing point is not valid).
    orders
        Method name → the orders of transition it locates, and why not at others.
    critical_fluctuations
        Whether χ of the largest size has a critical fluctuation peak, whether or not that
        peak locates T_c (a pseudo-critical point of a finite size does not).
    """

    locations: Mapping[str, Location] = field(default_factory=dict)
    located: Mapping[str, Candidate] = field(default_factory=dict)
    estimates: tuple[CriticalPoint, ...] = ()
    sharper_than_grid: str | None = None
    orders: Mapping[str, tuple[tuple[str, ...], str]] = field(default_factory=dict)
    critical_fluctuations: bool = False

    def candidates(self, name: str) -> tuple[Candidate, ...]:
        """Every candidate of method ``name`` (none when it did not run)."""
        location = self.locations.get(name)
        return location.candidates if location is not None else ()

    def peaks(self) -> dict[float, Located]:
        """The susceptibility peak of each size that has one."""
        return {c.sizes[0]: c.located for c in self.candidates("susceptibility_peak")}

    def crossings(self) -> list[tuple[float, float, Located]]:
        """The Binder crossing of each pair of neighbouring sizes: (small, large, crossing)."""
        return [(c.sizes[0], c.sizes[1], c.located) for c in self.candidates("binder_crossing")]

    def estimate(self, name: str, prepared: PreparedData) -> CriticalPoint | None:
        """The estimate standing for method ``name`` (valid or not), or None."""
        location = self.locations.get(name)
        if location is None or location.chosen is None:
            return None
        chosen = location.chosen
        return to_critical_point(prepared, chosen.located, chosen.detail, chosen.reason)

    def applies(self, name: str, order: str) -> bool:
        """Whether method ``name`` locates a transition of ``order`` (any method does for
        an order without a critical point, whose estimates are only listed)."""
        orders, _ = self.orders.get(name, (ORDERS, ""))
        return order in orders or order not in ORDERS

    def valid_estimate(self, name: str, prepared: PreparedData, order: str) -> CriticalPoint | None:
        """The estimate of method ``name`` when it is valid and locates a transition of
        ``order``, else None."""
        if name not in self.located or not self.applies(name, order):
            return None
        return self.estimate(name, prepared)


@dataclass(frozen=True, eq=False, kw_only=True)
class Headline(Findings):
    """The headline critical point of an analysis.

    Attributes
    ----------
    critical_point
        In the user's units, or None.
    name
        The method that gave it (None without one).
    located
        Its location in internal units, with replicates (None without one). Where valid
        estimates disagree, its replicates mix theirs and its exponent fields are NaN.
    agreed
        Whether every valid estimate agrees with it within the intervals.
    """

    critical_point: CriticalPoint | None = None
    name: str | None = None
    located: Located | None = None
    agreed: bool = True


def _consensus(intervals: list[tuple[float, float]]) -> list[int]:
    """The indices of the largest set of intervals with a common point (in 1D: pairwise
    overlapping), in increasing index; among sets of that size, the one whose first
    member comes first (``intervals`` are sorted by width, so it holds the most precise)."""
    for k in range(len(intervals), 0, -1):
        for subset in itertools.combinations(range(len(intervals)), k):
            if max(intervals[i][0] for i in subset) <= min(intervals[i][1] for i in subset):
                return list(subset)
    return [0]


def choose_critical_point(
    order: str, search: CriticalPointSearch, prepared: PreparedData
) -> Headline:
    """The headline critical point, chosen by evidence.

    The pool: the valid candidate standing for each method that locates a transition of
    ``order``, with a finite value and a 95 % interval. The estimates that agree are the
    largest set whose intervals share a point (:func:`_consensus`); the most precise of
    them (narrowest interval, in the user's units) is the headline. Valid estimates outside
    that set disagree with it: the evidence names them and the headline interval covers
    all of them; replicate b of the headline then comes from estimate
    (b mod k) of the k disagreeing ones (an equal-weight mixture), so whatever is measured
    at T_c carries the disagreement into its interval.
    """
    evidence: list[str] = []
    not_estimable: dict[str, str] = {}
    if order not in ORDERS:
        if order == "crossover":
            where = ""
            peak = search.locations.get("susceptibility_peak")
            if peak is not None and peak.chosen is not None and search.critical_fluctuations:
                peak_at = float(prepared.to_control(peak.chosen.located.value))
                where = f"; the susceptibility peaks at {peak_at:.4g}"
            evidence.append(f"No critical point for a crossover{where}.")
        return Headline(evidence=tuple(evidence))
    pool: list[tuple[float, int, str, Candidate, CriticalPoint]] = []
    for rank, (name, candidate) in enumerate(search.located.items()):
        if not search.applies(name, order) or not np.isfinite(candidate.located.value):
            continue
        point = to_critical_point(prepared, candidate.located, candidate.detail)
        if point.value is None or point.ci is None:
            continue
        pool.append((point.ci[1] - point.ci[0], rank, name, candidate, point))
    if not pool:
        not_estimable["critical_point"] = (
            "no estimator located the transition inside the control range with an interval "
            "and a passed validity check"
        )
        return Headline(not_estimable=not_estimable)
    pool.sort(key=lambda entry: (entry[0], entry[1]))
    consensus = _consensus([entry[4].ci for entry in pool])  # type: ignore[misc]
    _, _, name, best, point = pool[consensus[0]]
    assert point.ci is not None
    others = [pool[k] for k in consensus[1:]]
    disagree = [pool[k] for k in range(len(pool)) if k not in consensus]
    located = best.located
    if not disagree:
        listed = "; ".join(f"{e[4]}" for e in others)
        evidence.append(
            f"T_c = {point.value:.4g} from {name} ({best.detail}), the most precise of the "
            f"valid estimates"
            + (f"; the others agree within their intervals: {listed}." if others else ".")
        )
        return Headline(critical_point=point, name=name, located=located, evidence=tuple(evidence))
    group = [pool[consensus[0]], *disagree]
    low = min(e[4].ci[0] for e in group)  # type: ignore[index]
    high = max(e[4].ci[1] for e in group)  # type: ignore[index]
    evidence.append(
        f"Valid estimates of T_c disagree beyond their intervals: {point} against "
        + "; ".join(str(e[4]) for e in disagree)
        + f". T_c is given as the most precise, {point.value:.4g}, with an interval "
        f"[{low:.4g}, {high:.4g}] that covers the disagreement."
    )
    reps = [np.asarray(e[3].located.replicates, dtype=float) for e in group]
    size = min(r.size for r in reps)
    mixture = np.array([reps[b % len(reps)][b] for b in range(size)])
    located = Located(
        value=best.located.value,
        replicates=mixture,
        method=best.located.method,
        detail=best.located.detail,
    )
    critical_point = CriticalPoint(
        value=point.value,
        ci=(low, high),
        method=point.method,
        detail=(point.detail + "; " if point.detail else "")
        + "interval covers the disagreeing "
        + ", ".join(str(e[2]) for e in disagree),
    )
    return Headline(
        critical_point=critical_point,
        name=name,
        located=located,
        agreed=False,
        evidence=tuple(evidence),
    )


def sharper_than_grid(
    prepared: PreparedData,
    c: SizeCurves,
    run: np.ndarray,
    jump: Located | None,
    vanishing: Located | None,
    m: np.ndarray,
    m_boot: np.ndarray,
) -> str | None:
    """A sentence when m jumps between neighbouring controls with a flat ordered side.

    The exponent β of m ∝ |T − T_c|^β on the ordered controls (``run``) comes from the
    vanishing-point fit, or (fewer than four ordered controls) from a power law with T_c
    at the largest jump. When its 95 % interval reaches zero, m does not decrease toward
    the transition at the resolved distances: a discontinuous jump and a continuous
    transition sharper than the grid cannot be told apart. So it is when the whole
    interval lies below :data:`SMALLEST_BETA` = 0.05, under the smallest exponent of the
    common universality classes (2D four-state Potts, β = 1/12; Baxter 1982, "Exactly
    Solved Models").
    """
    if vanishing is not None:
        beta, beta_boot = vanishing.exponent, vanishing.exponent_replicates
    elif jump is not None and run.sum() >= 2:
        beta, beta_boot = direct_power_law(c.t, m, m_boot, run, jump.value, jump.replicates)
    else:
        return None
    estimate = Estimate.from_replicates(beta, beta_boot)
    if estimate is None or jump is None or jump.resolution is None:
        return None
    # Without a usable bootstrap interval (e.g. seeds that agree exactly) the point
    # value decides.
    low_beta, high_beta = estimate.ci if estimate.ci is not None else (beta, beta)
    if low_beta > 0 and high_beta >= SMALLEST_BETA:
        return None
    low, high = (float(prepared.to_control(x)) for x in jump.resolution)
    return (
        f"m jumps by {jump.height * prepared.scale:.3g} between {low:.4g} and {high:.4g} and "
        f"is flat on the ordered side (β = {estimate}, consistent with 0 or below "
        f"{SMALLEST_BETA}): the data cannot "
        "distinguish a discontinuous jump from a continuous transition sharper than the "
        "control grid."
    )
