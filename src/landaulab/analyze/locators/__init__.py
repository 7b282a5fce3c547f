"""The ways to locate the transition, one module each, and the registry that runs them.

Each locator is a function of a :class:`~landaulab.analyze.critical_point.LocatorContext`
returning a :class:`~landaulab.analyze.critical_point.Location`: its candidate points with
bootstrap replicates and the outcome of its own validity check. Adding a way to locate T_c
is one new module here (the function, with the paper behind it and its validity check) and
one :class:`~landaulab.analyze.critical_point.Locator` entry in :data:`LOCATORS`; the
headline choice (:func:`~landaulab.analyze.critical_point.choose_critical_point`) weighs
every valid estimate by its interval, so no ranking needs editing.

:func:`find_critical_points` runs the locators that precede the classification of the
order and applies the check that needs several of them (a flat ordered side makes the
vanishing point invalid); :func:`refine_critical_points` runs those that need the order and
marks the estimates of methods that do not locate a transition of that order.
"""

from __future__ import annotations

from dataclasses import replace

from landaulab.analyze.critical_point import (
    CriticalPoint,
    CriticalPointSearch,
    Location,
    Locator,
    LocatorContext,
    sharper_than_grid,
    to_critical_point,
)
from landaulab.analyze.locators.binder_collapse import locate_binder_collapse
from landaulab.analyze.locators.binder_crossing import locate_binder_crossing
from landaulab.analyze.locators.equal_depth import locate_equal_depth
from landaulab.analyze.locators.largest_jump import locate_largest_jump
from landaulab.analyze.locators.quadratic_coefficient_zero import (
    SPINODAL,
    locate_quadratic_coefficient_zero,
)
from landaulab.analyze.locators.susceptibility_peak import (
    is_fluctuation_peak,
    locate_susceptibility_peak,
)
from landaulab.analyze.locators.vanishing_point import locate_vanishing_point

__all__ = ["LOCATORS", "find_critical_points", "refine_critical_points"]

_SECOND = ("second",)
_FIRST = ("first",)

#: Every locator, in the order their estimates are listed.
LOCATORS: tuple[Locator, ...] = (
    Locator("susceptibility_peak", locate_susceptibility_peak),
    Locator(
        "binder_crossing",
        locate_binder_crossing,
        orders=_SECOND,
        elsewhere="Binder cumulants cross at a second-order transition (at a first-order one "
        "they dip instead)",
    ),
    Locator(
        "quadratic_coefficient_zero",
        locate_quadratic_coefficient_zero,
        orders=_SECOND,
        elsewhere=SPINODAL,
    ),
    Locator(
        "equal_depth",
        locate_equal_depth,
        orders=_FIRST,
        elsewhere="equal depth of coexisting minima locates a first-order transition",
    ),
    Locator(
        "largest_jump",
        locate_largest_jump,
        orders=_FIRST,
        elsewhere="a continuous transition has no jump to locate",
    ),
    Locator(
        "vanishing_point",
        locate_vanishing_point,
        orders=_SECOND,
        elsewhere="m does not vanish continuously at a first-order transition",
    ),
    Locator(
        "binder_collapse",
        locate_binder_collapse,
        after_classification=True,
        orders=_SECOND,
        elsewhere="the Binder collapse assumes a second-order transition",
    ),
)


def _run(
    context: LocatorContext, after_classification: bool
) -> tuple[dict[str, Location], list[str]]:
    locations: dict[str, Location] = {}
    evidence: list[str] = []
    for locator in LOCATORS:
        if locator.after_classification != after_classification:
            continue
        location = locator.locate(context)
        locations[locator.name] = location
        evidence.extend(location.evidence)
    return locations, evidence


def _estimates(context: LocatorContext, locations: dict[str, Location]) -> list[CriticalPoint]:
    return [
        to_critical_point(context.prepared, c.located, c.detail, c.reason)
        for location in locations.values()
        for c in location.candidates
    ]


def _invalidate(locations: dict[str, Location], name: str, reason: str) -> None:
    """Mark every candidate of ``name`` not valid (keeping an earlier reason)."""
    old = locations.get(name)
    if old is None:
        return
    candidates = tuple(replace(c, reason=c.reason or reason) for c in old.candidates)
    chosen = None
    if old.chosen is not None:
        chosen = candidates[old.candidates.index(old.chosen)]
    locations[name] = Location(candidates=candidates, chosen=chosen, evidence=old.evidence)


def find_critical_points(context: LocatorContext) -> CriticalPointSearch:
    """Run the locators that precede the classification, then the joint checks of the
    vanishing point (listed as not valid when one fails):

    * when m is flat on the ordered side of its largest jump (see
      :func:`~landaulab.analyze.critical_point.sharper_than_grid`) it is not a location;
    * when the susceptibility has a valid (critical fluctuation) peak, m of the finite
      system is rounded near T_c and its vanishing point biased by O(L^(−1/ν)) (Fisher &
      Barber 1972, Phys. Rev. Lett. 28, 1516): the vanishing point is the estimator of
      nearly deterministic ensembles, whose fluctuations carry no critical peak.
    """
    prepared, largest = context.prepared, context.largest
    locations, evidence = _run(context, after_classification=False)
    valid = {
        n: loc.chosen for n, loc in locations.items() if loc.chosen is not None and loc.chosen.valid
    }
    jump, vanishing = valid.get("largest_jump"), valid.get("vanishing_point")
    m, m_boot = context.order_parameter()
    sharper = sharper_than_grid(
        prepared,
        largest,
        context.ordered_run,
        jump.located if jump is not None else None,
        vanishing.located if vanishing is not None else None,
        m,
        m_boot,
    )
    if sharper is not None and "vanishing_point" in locations:
        # A power law fitted to a flat ordered side (β ≈ 0) does not locate a vanishing
        # point: the change lies somewhere between two grid points, as the jump says.
        reason = "m is flat on the ordered side: the transition is sharper than the grid"
        _invalidate(locations, "vanishing_point", reason)
        valid.pop("vanishing_point", None)
    peak = locations["susceptibility_peak"].chosen if "susceptibility_peak" in locations else None
    critical = peak is not None and is_fluctuation_peak(peak)
    if critical and "vanishing_point" in valid:
        # critical fluctuations round m of a finite system near T_c: its vanishing point is
        # biased by the rounding, and the fluctuation-based locators apply instead
        reason = (
            "m fluctuates critically (the susceptibility has a critical peak): m of a finite "
            "system is rounded near T_c, so its vanishing point is biased"
        )
        _invalidate(locations, "vanishing_point", reason)
        valid.pop("vanishing_point", None)
    return CriticalPointSearch(
        locations=locations,
        located=valid,
        estimates=tuple(_estimates(context, locations)),
        sharper_than_grid=sharper,
        evidence=tuple(evidence),
        orders={locator.name: (locator.orders, locator.elsewhere) for locator in LOCATORS},
        critical_fluctuations=critical,
    )


def refine_critical_points(
    search: CriticalPointSearch, context: LocatorContext, order: str
) -> CriticalPointSearch:
    """Run the locators that need the order of the transition and add what they find;
    at a first- or second-order transition, the estimates of methods that do not locate a
    transition of that order are marked not valid (with the reason).

    The returned search holds every location and estimate so far, but only the evidence
    of this step (that of ``search`` was already reported).
    """
    context = replace(context, order=order, found={n: c.located for n, c in search.located.items()})
    locations, evidence = _run(context, after_classification=True)
    merged = {**search.locations, **locations}
    located = dict(search.located)
    located.update(
        {
            n: loc.chosen
            for n, loc in locations.items()
            if loc.chosen is not None and loc.chosen.valid
        }
    )
    estimates = list(search.estimates) + _estimates(context, locations)
    if order in ("first", "second"):
        marked = []
        for estimate in estimates:
            orders, elsewhere = search.orders.get(str(estimate.method), ((order,), ""))
            if estimate.valid and order not in orders:
                estimate = replace(estimate, valid=False, reason=elsewhere)
            marked.append(estimate)
        estimates = marked
    return replace(
        search,
        locations=merged,
        located=located,
        estimates=tuple(estimates),
        evidence=tuple(evidence),
        not_estimable={},
    )
