"""Universality: which class of the table? Where does Landau theory fail?

Measured exponents (β, γ, and where the caller has them ν, δ, α, η) and the Binder crossing
U* are tested against every class of :mod:`landaulab.analyze.classes` (mean field,
tricritical mean field, 2D Ising, 2D 3- and 4-state Potts, 3D Ising, XY, Heisenberg, 2D
percolation, directed percolation, the deep linear network), jointly and one by one:

* each available quantity gives z = (estimate − class value)/σ, with
  σ² = σ_stat² + σ_class² + σ_sys², σ_stat the half-width of the estimate's own 95 %
  interval divided by 1.96 (for an asymmetric interval, such as a percentile bootstrap
  one, the half on the side of the class value: the interval is used as it is), σ_class
  the one-σ uncertainty of a numerically known table value, and σ_sys the finite-size
  systematic term below (zero unless the exponents come from finite-size scaling);
* the joint statistic χ² = Σ z² over the k quantities is referred to the χ² distribution
  with k degrees of freedom (the quantities are treated as independent: an
  :class:`~landaulab.estimate.Estimate` carries no covariance; exponents sharing ν are in
  fact positively correlated, which makes χ² more variable than χ²_k and the joint test
  somewhat liberal);
* a class is **consistent** when the joint test does not reject at 5 % (p ≥ 0.05) *and*
  every quantity lies within its own interval widened only by the class and systematic
  terms (|z| ≤ 1.96). For a true class with k independent quantities the probability of
  being kept is P(max |z| ≤ 1.96 and χ² ≤ χ²_k,0.95): 0.95 for one quantity, ≈ 0.90 for
  two, ≈ 0.856 for three (the per-quantity condition dominates; :func:`acceptance_rate`);
* the consistent classes are listed best first by p-value; ``best`` names one only when
  it is the single consistent class (otherwise the verdict says "cannot distinguish A
  from B"); with none consistent the verdict says "none of the known classes". A
  first-order transition, a crossover or no transition has no class.

Finite-size systematic term (corrections to scaling; Wegner 1972, PRB 5, 4529; Binder 1981,
Z. Phys. B 43, 119). An observable A·L^x·(1 + b·L^(−ω)) has the local log-slope
x − ω·b·L^(−ω)/(1 + b·L^(−ω)), so an exponent ratio read from sizes ≥ L_min is off by at
most s = ω·L_min^(−ω) for a unit amplitude |b| = 1 (the natural scale when b is unknown:
a correction as large as the leading term at L = 1). With 1/ν and β/ν each off by s,
β = (β/ν)·ν is off by ν·s·(1 + β), γ by ν·s·(1 + γ), ν by ν²·s, and the Binder crossing
by L_min^(−ω) (class values of ν, β, γ, ω). For logarithmic corrections (4-state Potts)
s = 1/ln²L_min and the U* term is 1/ln L_min. ν and ω are those of the size column: for a
linear size L as tabulated, for a volume N = L^d (no separate volume column) d·ν and ω/d
(for mean field d = 4: ν_N = 2 and corrections N^(−1/2), as for the Curie–Weiss model).
The term is only applied when finite-size scaling produced the exponents (at least two
sizes) and only for classes with a known ω; direct one-size fits get none. Sizes are taken
in units of the microscopic scale (sites, spins, units of a layer): a size column in other
units (thousands of sites, say) misstates the term.

The Ginzburg-style check (Ginzburg 1960, Sov. Phys. Solid State 2, 1824; Als-Nielsen &
Birgeneau 1977, Am. J. Phys. 45, 554) fits the mean-field form m² = A·|T − T_c| + C·|T − T_c|²
(analytic in T, vanishing at T_c) to the ordered points farthest from T_c and reports the
window around T_c where the data leave it by more than three standard errors: there
fluctuations dominate and Landau theory fails.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from landaulab.analyze.bootstrap import standard_error
from landaulab.analyze.classes import (
    CLASSES,
    ISING_2D,
    MEAN_FIELD,
    QUANTITIES,
    SYMBOLS,
    UniversalityClass,
)
from landaulab.analyze.collapse import FSS_SIZES
from landaulab.analyze.critical_point import CriticalPointSearch, Headline
from landaulab.analyze.curves import SizeCurves, ordered_below
from landaulab.analyze.frame import PreparedData
from landaulab.analyze.records import estimate_from_dict, float_or_nan
from landaulab.errors import DataError
from landaulab.estimate import Estimate, finite
from landaulab.serialize import to_json as clean

#: Two-sided 95 % normal quantile: σ = half-width / Z95 and the per-quantity bound.
Z95 = float(stats.norm.ppf(0.975))
#: Level of the joint test.
LEVEL = 0.05
ORDERS = ("second", "first", "crossover", "none")


@dataclass(frozen=True)
class Comparison:
    """One measured quantity against one class's value.

    ``z`` is (measured − expected)/σ with σ² = σ_stat² + σ_class² + σ_sys²;
    ``systematic`` is σ_sys (0 when none applies).
    """

    universality_class: str
    quantity: str
    measured: float
    expected: float
    z: float
    systematic: float = 0.0

    @property
    def consistent(self) -> bool:
        """Within the estimate's own 95 % interval widened by the class and systematic
        terms (|z| ≤ 1.96)."""
        return bool(abs(self.z) <= Z95)

    def to_dict(self) -> dict:
        """JSON-safe dictionary."""
        return clean(
            {
                "class": self.universality_class,
                "quantity": self.quantity,
                "measured": self.measured,
                "expected": self.expected,
                "z": self.z,
                "systematic": self.systematic,
                "consistent": self.consistent,
            }
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Comparison:
        """The inverse of :meth:`to_dict` (``consistent`` follows from ``z``)."""
        return cls(
            universality_class=data["class"],
            quantity=data["quantity"],
            measured=float_or_nan(data.get("measured")),
            expected=float_or_nan(data.get("expected")),
            z=float_or_nan(data.get("z")),
            systematic=float_or_nan(data.get("systematic", 0.0)),
        )


@dataclass(frozen=True)
class ClassTest:
    """The joint test of all measured quantities against one class."""

    universality_class: str
    chi2: float
    dof: int
    p_value: float
    within_intervals: bool

    @property
    def consistent(self) -> bool:
        """Not rejected at 5 % jointly, and every quantity within its widened interval."""
        return bool(self.dof > 0 and self.p_value >= LEVEL and self.within_intervals)

    def to_dict(self) -> dict:
        """JSON-safe dictionary."""
        return clean(
            {
                "class": self.universality_class,
                "chi2": self.chi2,
                "dof": self.dof,
                "p_value": self.p_value,
                "within_intervals": self.within_intervals,
                "consistent": self.consistent,
            }
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClassTest:
        """The inverse of :meth:`to_dict` (``consistent`` follows from the rest)."""
        return cls(
            universality_class=data["class"],
            chi2=float_or_nan(data.get("chi2")),
            dof=int(data.get("dof") or 0),
            p_value=float_or_nan(data.get("p_value")),
            within_intervals=bool(data.get("within_intervals")),
        )


@dataclass(frozen=True)
class GinzburgWindow:
    """Where the ordered-side data leave the mean-field Landau form (user units)."""

    low: float | None
    high: float | None
    sentence: str

    def to_dict(self) -> dict:
        """JSON-safe dictionary."""
        return clean({"low": self.low, "high": self.high, "sentence": self.sentence})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> GinzburgWindow | None:
        """The inverse of :meth:`to_dict` (None for None)."""
        if data is None:
            return None
        return cls(low=data.get("low"), high=data.get("high"), sentence=data.get("sentence", ""))


@dataclass(frozen=True)
class UniversalityResult:
    """Verdict on the universality class.

    ``consistent_with`` lists the consistent classes best first by p-value (written as
    both ``consistent_with`` and ``consistent_classes``); ``best`` is the single
    consistent class, or None when there are none or several; ``tests`` holds the joint
    test of every class that shares at least one quantity with the measurement.
    """

    verdict: str
    consistent_with_mean_field: bool
    consistent_with: tuple[str, ...]
    binder_crossing: Estimate | None
    comparisons: tuple[Comparison, ...]
    ginzburg: GinzburgWindow | None
    hyperscaling_dimension: Estimate | None
    best: str | None = None
    tests: tuple[ClassTest, ...] = ()

    @property
    def consistent_classes(self) -> tuple[str, ...]:
        """The consistent classes, best first by p-value."""
        return self.consistent_with

    def to_dict(self) -> dict:
        """JSON-safe dictionary (``verdict`` and ``consistent_with_mean_field`` are contract)."""
        return {
            "verdict": self.verdict,
            "consistent_with_mean_field": bool(self.consistent_with_mean_field),
            "consistent_with": list(self.consistent_with),
            "consistent_classes": list(self.consistent_with),
            "best": self.best,
            "tests": [t.to_dict() for t in self.tests],
            "binder_crossing": self.binder_crossing.to_dict() if self.binder_crossing else None,
            "comparisons": [c.to_dict() for c in self.comparisons],
            "ginzburg_window": self.ginzburg.to_dict() if self.ginzburg else None,
            "hyperscaling_dimension": (
                self.hyperscaling_dimension.to_dict() if self.hyperscaling_dimension else None
            ),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UniversalityResult:
        """The inverse of :meth:`to_dict`."""
        listed = data.get("consistent_classes")
        if listed is None:
            listed = data.get("consistent_with")
        return cls(
            verdict=data["verdict"],
            consistent_with_mean_field=bool(data.get("consistent_with_mean_field")),
            consistent_with=tuple(listed or ()),
            binder_crossing=estimate_from_dict(data.get("binder_crossing")),
            comparisons=tuple(Comparison.from_dict(c) for c in data.get("comparisons") or ()),
            ginzburg=GinzburgWindow.from_dict(data.get("ginzburg_window")),
            hyperscaling_dimension=estimate_from_dict(data.get("hyperscaling_dimension")),
            best=data.get("best"),
            tests=tuple(ClassTest.from_dict(t) for t in data.get("tests") or ()),
        )


def _sigma(estimate: Estimate) -> float:
    """σ of an estimate: the half-width of its 95 % interval / 1.96 (NaN without one)."""
    if estimate.ci is None or estimate.value is None:
        return float("nan")
    return (estimate.ci[1] - estimate.ci[0]) / (2 * Z95)


def _side_sigma(estimate: Estimate, expected: float) -> float:
    """σ from the half of the 95 % interval facing ``expected``, divided by 1.96 (the
    plain half-width / 1.96 for a symmetric interval; NaN without an interval)."""
    if estimate.ci is None or estimate.value is None:
        return float("nan")
    low, high = estimate.ci
    value = float(estimate.value)
    side = (high - value) if expected >= value else (value - low)
    return max(side, 0.0) / Z95


def _size_term(
    cls: UniversalityClass, smallest: float, size_is_volume: bool
) -> tuple[float, float]:
    """(slope term s, level term) of the leading correction at the smallest size; (0, 0)
    when the class has no known correction exponent."""
    if cls.log_corrections:
        log = max(math.log(smallest), 1.0) if smallest > 0 else 1.0
        return 1.0 / log**2, 1.0 / log
    omega = cls.size_omega(size_is_volume)
    if omega is None or omega <= 0:
        return 0.0, 0.0
    exponent = -omega * math.log(smallest)
    level = math.exp(exponent) if exponent < 700.0 else math.inf  # sizes ≪ 1: no information
    return omega * level, level


def finite_size_systematic(
    cls: UniversalityClass,
    quantity: str,
    smallest_size: float | None,
    size_is_volume: bool = False,
) -> float:
    """σ_sys of ``quantity`` against ``cls`` for finite-size-scaling estimates whose
    smallest size is ``smallest_size`` (module docstring: ν·s·(1 + β), ν·s·(1 + γ), ν²·s,
    L_min^(−ω) for U*; 0 without a size, a correction exponent or a ν)."""
    size = finite(smallest_size)
    if size is None or size <= 0:
        return 0.0
    slope, level = _size_term(cls, size, size_is_volume)
    if slope == 0.0:
        return 0.0
    if quantity == "binder_crossing":
        return level if cls.binder_crossing is not None else 0.0
    nu = cls.size_nu(size_is_volume)
    value = cls.value(quantity)
    if nu is None or value is None:
        return 0.0
    if quantity in ("beta", "gamma"):
        return nu * slope * (1.0 + abs(value))
    if quantity == "nu":
        return nu**2 * slope
    return 0.0


def class_value(
    cls: UniversalityClass, quantity: str, size_is_volume: bool = False
) -> float | None:
    """The value a measurement of ``quantity`` is compared with (ν in the size column's
    units, :meth:`UniversalityClass.size_nu`)."""
    if quantity == "nu":
        return cls.size_nu(size_is_volume)
    return cls.value(quantity)


def joint_z(
    measured: np.ndarray | float,
    sigma: np.ndarray | float,
    expected: np.ndarray | float,
    widening: np.ndarray | float,
) -> np.ndarray:
    """z = (measured − expected)/√(σ² + widening²), vectorised over leading axes.

    NaN where a quantity is missing (NaN measured, σ or expected, or σ < 0); where the
    total σ is zero, 0 for an exact match and ±inf otherwise.
    """
    m = np.asarray(measured, dtype=float)
    s = np.asarray(sigma, dtype=float)
    e = np.broadcast_to(np.asarray(expected, dtype=float), np.broadcast_shapes(m.shape, s.shape))
    w = np.broadcast_to(np.asarray(widening, dtype=float), e.shape)
    with np.errstate(all="ignore"):  # overflow of hostile inputs: marked missing below
        total = np.sqrt(s**2 + w**2)
        diff = m - e
        z = np.where(total > 0, diff / np.where(total > 0, total, 1.0), np.sign(diff) * np.inf)
    available = np.isfinite(m) & np.isfinite(s) & (s >= 0) & np.isfinite(e) & np.isfinite(total)
    available &= ~np.isnan(z)
    z = np.where((total == 0) & (diff == 0), 0.0, z)
    return np.where(available, z, np.nan)


def joint_test(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(χ², dof, p-value, all within 1.96) over the last axis of ``z`` (NaN = missing).

    χ² = Σ z² is referred to χ² with dof = the number of available quantities; p is NaN
    where dof = 0.
    """
    z = np.asarray(z, dtype=float)
    present = ~np.isnan(z)
    dof = np.sum(present, axis=-1)
    with np.errstate(all="ignore"):  # z² of a huge z is +inf: p = 0
        chi2 = np.sum(np.where(present, z**2, 0.0), axis=-1)
        p = np.where(dof > 0, stats.chi2.sf(chi2, np.maximum(dof, 1)), np.nan)
    within = np.all(np.where(present, np.abs(z) <= Z95, True), axis=-1)
    return chi2, dof, p, within


def acceptance_rate(k: int, n: int = 400_000, seed: int = 0) -> float:
    """Probability that a true class is kept with k independent quantities:
    P(max |z| ≤ 1.96 and Σ z² ≤ χ²_k,0.95) for standard normal z (Monte Carlo with ``n``
    draws, standard error ≤ 0.0008)."""
    if k <= 0:
        return float("nan")
    z = np.random.default_rng(seed).standard_normal((n, k))
    _, _, p, within = joint_test(z)
    return float(np.mean((p >= LEVEL) & within))


def compare_with_classes(
    quantities: Mapping[str, Estimate | None],
    *,
    classes: Sequence[UniversalityClass] = CLASSES,
    smallest_size: float | None = None,
    size_is_volume: bool = False,
) -> tuple[Comparison, ...]:
    """z-scores of every measured quantity (keys of :data:`QUANTITIES`) against every
    class that has a value for it; quantities without a value or interval are skipped."""
    comparisons = []
    for cls in classes:
        for name in QUANTITIES:
            estimate = quantities.get(name)
            if estimate is None or estimate.value is None:
                continue
            expected = class_value(cls, name, size_is_volume)
            if expected is None:
                continue
            sigma = _side_sigma(estimate, expected)
            if not np.isfinite(sigma):
                continue
            systematic = finite_size_systematic(cls, name, smallest_size, size_is_volume)
            widening = math.hypot(cls.uncertainty(name), systematic)
            z = float(joint_z(np.array(estimate.value), np.array(sigma), expected, widening))
            if math.isnan(z):
                continue
            comparisons.append(
                Comparison(cls.name, name, float(estimate.value), expected, z, systematic)
            )
    return tuple(comparisons)


def class_tests(
    comparisons: Sequence[Comparison], classes: Sequence[UniversalityClass] = CLASSES
) -> tuple[ClassTest, ...]:
    """The joint test of each class with at least one comparison, in table order."""
    tests = []
    for cls in classes:
        z = np.array([c.z for c in comparisons if c.universality_class == cls.name], dtype=float)
        if z.size == 0:
            continue
        chi2, dof, p, within = joint_test(z)
        tests.append(ClassTest(cls.name, float(chi2), int(dof), float(p), bool(within)))
    return tuple(tests)


def rank_consistent(tests: Sequence[ClassTest]) -> tuple[str, ...]:
    """The consistent classes, best first by p-value (ties in table order)."""
    order = sorted(range(len(tests)), key=lambda i: (_closeness(tests[i]), i))
    return tuple(tests[i].universality_class for i in order if tests[i].consistent)


def _closeness(test: ClassTest) -> tuple[float, float]:
    """Sort key, closest first: higher p-value, then (where p underflows to 0) smaller
    χ² per quantity; untested classes last."""
    p = test.p_value if np.isfinite(test.p_value) else -1.0
    per_dof = test.chi2 / test.dof if test.dof > 0 and np.isfinite(test.chi2) else math.inf
    return (-p, per_dof)


def _fmt_p(p: float) -> str:
    return "n/a" if not np.isfinite(p) else f"{p:.2g}"


def judge(
    order: str,
    beta: Estimate | None,
    gamma: Estimate | None,
    binder_crossing: Estimate | None,
    *,
    ginzburg: GinzburgWindow | None = None,
    hyperscaling_dimension: Estimate | None = None,
    nu: Estimate | None = None,
    delta: Estimate | None = None,
    alpha: Estimate | None = None,
    eta: Estimate | None = None,
    smallest_size: float | None = None,
    size_is_volume: bool = False,
    classes: Sequence[UniversalityClass] = CLASSES,
) -> UniversalityResult:
    """The universality verdict for one analysis.

    Parameters
    ----------
    order
        ``"second"``, ``"first"``, ``"crossover"`` or ``"none"``; only a second-order
        transition is compared with the classes.
    beta, gamma, binder_crossing, nu, delta, alpha, eta
        The measured quantities (None where not measured). ν is in the units of the size
        column (see ``size_is_volume``).
    smallest_size
        The smallest size used by finite-size scaling, which switches on the systematic
        term (module docstring); None for direct one-size fits.
    size_is_volume
        Whether the size column is a volume N = L^d rather than a linear size L.
    classes
        The table to compare with (default: all of :data:`~landaulab.analyze.classes.CLASSES`).
    """
    if order not in ORDERS:
        raise DataError(f"order must be one of {', '.join(ORDERS)}; got {order!r}")
    if order != "second":
        reason = {
            "first": "A first-order transition has no critical exponents, so no universality "
            "class applies.",
            "crossover": "A crossover has no critical point, so no universality class applies.",
            "none": "No transition was found, so no universality class applies.",
        }[order]
        return UniversalityResult(
            reason, False, (), binder_crossing, (), ginzburg, hyperscaling_dimension
        )
    quantities = {
        "alpha": alpha,
        "beta": beta,
        "gamma": gamma,
        "delta": delta,
        "nu": nu,
        "eta": eta,
        "binder_crossing": binder_crossing,
    }
    comparisons = compare_with_classes(
        quantities, classes=classes, smallest_size=smallest_size, size_is_volume=size_is_volume
    )
    measured = "; ".join(
        f"{SYMBOLS[name]} = {est}"
        for name, est in quantities.items()
        if est is not None and est.value is not None
    )
    if not comparisons:
        return UniversalityResult(
            "Not estimable: no critical exponent or Binder crossing with a confidence interval "
            "was measured"
            + (f" ({measured}, without intervals)" if measured else "")
            + ", so the universality class cannot be judged.",
            False,
            (),
            binder_crossing,
            (),
            ginzburg,
            hyperscaling_dimension,
        )
    tests = class_tests(comparisons, classes)
    consistent = rank_consistent(tests)
    by_name = {t.universality_class: t for t in tests}
    best: str | None = None
    if len(consistent) == 1:
        single = consistent[0]
        best = single
        others = sorted((t for t in tests if t.universality_class != single), key=_closeness)
        nearest = (
            f"; every other class in the table is excluded (nearest: "
            f"{others[0].universality_class}, p = {_fmt_p(others[0].p_value)})"
            if others
            else ""
        )
        verdict = (
            f"Consistent with {single} ({measured}; joint p = {_fmt_p(by_name[single].p_value)})"
            f"{nearest}."
        )
    elif len(consistent) > 1:
        first, second = consistent[0], consistent[1]
        also = f"; also consistent: {', '.join(consistent[2:])}" if len(consistent) > 2 else ""
        verdict = (
            f"Consistent with several classes: cannot distinguish {first} from {second} "
            f"(p = {_fmt_p(by_name[first].p_value)} and {_fmt_p(by_name[second].p_value)}"
            f"{also}; {measured}): too imprecise to decide."
        )
    else:
        nearest_test = min(tests, key=_closeness)
        own = [c for c in comparisons if c.universality_class == nearest_test.universality_class]
        worst = max(own, key=lambda c: abs(c.z) if np.isfinite(c.z) or np.isinf(c.z) else 0.0)
        if nearest_test.within_intervals:
            reason = (
                f"every quantity lies within its interval but jointly they do not fit "
                f"(χ² = {nearest_test.chi2:.1f} for {nearest_test.dof} quantities)"
            )
        else:
            reason = (
                f"{SYMBOLS[worst.quantity]} lies {abs(worst.z):.1f} σ from its value "
                f"{worst.expected:.4g}"
            )
        verdict = (
            f"Consistent with none of the known classes ({measured}); the nearest, "
            f"{nearest_test.universality_class} (joint p = {_fmt_p(nearest_test.p_value)}), "
            f"is excluded: {reason}."
        )
    return UniversalityResult(
        verdict,
        MEAN_FIELD.name in consistent,
        consistent,
        binder_crossing,
        comparisons,
        ginzburg,
        hyperscaling_dimension,
        best,
        tests,
    )


#: Fluctuation corrections "dominate" where they change m² by at least this fraction of
#: the mean-field value (Levanyuk–Ginzburg: corrections comparable with the mean-field
#: value); smaller, merely significant departures are finite-size corrections.
GINZBURG_FRACTION = 0.25


def ginzburg_window(
    distance: np.ndarray,
    m: np.ndarray,
    m_se: np.ndarray,
    to_user: Callable[[float], tuple[float, float]],
    *,
    spread: np.ndarray | None = None,
) -> GinzburgWindow | None:
    """Where the ordered points leave the mean-field form m² = A·d + C·d².

    The form is fitted (weighted least squares) to the half of the points farthest from
    T_c; a point departs when it differs from the fit by more than three standard errors
    *and* by more than :data:`GINZBURG_FRACTION` of the fitted value. The window reaches
    from T_c to the farthest departing point of the run of departures next to T_c.

    Parameters
    ----------
    distance
        |T − T_c| of the ordered-side points (internal units), > 0.
    m, m_se
        The order parameter there and its standard error.
    to_user
        Converts an internal distance d into the user's (low, high) window around T_c.
    spread
        Standard deviation of m across the ensemble at each point (optional). When it is
        zero everywhere the data have no fluctuations, so a departure from the form is a
        property of the free energy itself, not a Ginzburg window.
    """
    ok = np.isfinite(distance) & np.isfinite(m) & np.isfinite(m_se) & (distance > 0)
    d, q = distance[ok], m[ok] ** 2
    se = np.maximum(2.0 * np.abs(m[ok]) * m_se[ok], 1e-12 * np.max(np.abs(q), initial=1.0))
    if d.size < 4:
        return None
    quiet = spread is not None and bool(
        np.all(np.abs(spread[ok]) <= 1e-9 * np.maximum(np.abs(m[ok]), 1e-300))
    )
    order = np.argsort(d)
    d, q, se = d[order], q[order], se[order]
    outer = np.arange(d.size) >= d.size // 2
    columns = [d, d**2] if outer.sum() >= 3 else [d]
    design = np.column_stack(columns)
    w = 1.0 / se**2
    a = design[outer] * np.sqrt(w[outer])[:, None]
    b = q[outer] * np.sqrt(w[outer])
    coef, *_ = np.linalg.lstsq(a, b, rcond=None)
    cov = np.linalg.pinv(a.T @ a)
    dof = max(int(outer.sum()) - design.shape[1], 1)
    prediction = design @ coef
    pred_se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", design, cov, design), 0.0))
    z = (q - prediction) / np.hypot(se, pred_se)
    relative = np.abs(q - prediction) / np.maximum(np.abs(prediction), 1e-300)
    deviating = (np.abs(z) > 3.0) & (relative > GINZBURG_FRACTION)
    residual = (q[outer] - prediction[outer]) / np.hypot(se[outer], pred_se[outer])
    chi2 = float(np.sum((a @ coef - b) ** 2)) / dof
    fails_far = chi2 > 9.0 and bool(np.any(deviating[outer] | (np.abs(residual) > 3.0)))
    if quiet and (fails_far or deviating[0]):
        return GinzburgWindow(
            None,
            None,
            "Every run gives the same m (no fluctuations), so where the data leave the "
            "mean-field form m² ∝ |T − T_c| the free energy itself has another form: no "
            "Ginzburg window.",
        )
    if fails_far:
        low, high = to_user(float(d.max()))
        return GinzburgWindow(
            low,
            high,
            f"The mean-field form m² ∝ |T − T_c| fails across the whole ordered range sampled "
            f"(reduced χ² = {chi2:.1f} even far from T_c): either fluctuations dominate "
            "throughout, or m follows a different law (compare β with 1/2); no window closer "
            "to T_c can be separated.",
        )
    if not deviating[0]:
        return GinzburgWindow(
            None,
            None,
            "The ordered-side data follow the mean-field Landau form m² ∝ |T − T_c| down to the "
            f"closest control to T_c (within {GINZBURG_FRACTION:.0%} or 3 standard errors): "
            "no Ginzburg window resolved.",
        )
    edge = int(np.argmin(deviating)) if not deviating.all() else d.size
    reach = float(d[edge - 1])
    low, high = to_user(reach)
    return GinzburgWindow(
        low,
        high,
        f"The data leave the mean-field Landau form m² ∝ |T − T_c| (by more than "
        f"{GINZBURG_FRACTION:.0%}) within {high - low:.3g} (control {low:.4g}–{high:.4g}) "
        "around T_c: there fluctuations dominate (a Ginzburg-style window; not resolved "
        "below the uncertainty of T_c).",
    )


def ginzburg(
    prepared: PreparedData, c: SizeCurves, tc: float, symmetric: bool
) -> GinzburgWindow | None:
    """The Ginzburg window of the ordered side of size ``c`` around T_c (internal units):
    :func:`ginzburg_window` on ⟨|m|⟩ (or m_rms of a signed m), in the user's units."""
    side = (c.t < tc) if ordered_below(c) else (c.t > tc)
    m = c.mean if prepared.use_abs else c.rms
    boot = c.mean_boot if prepared.use_abs else c.rms_boot
    se = standard_error(boot)
    distance = np.abs(c.t - tc)
    tc_user = float(prepared.to_control(tc))

    def to_user(d: float) -> tuple[float, float]:
        width = float(prepared.control_distance(d))
        return tc_user - width, tc_user + width

    spread = None
    if prepared.use_abs or not symmetric:  # the spread of |m| is unknown for signed m
        spread = np.sqrt(c.variance)[side]
    return ginzburg_window(distance[side], m[side], se[side], to_user, spread=spread)


def judge_universality(
    prepared: PreparedData,
    order: str,
    curves: Mapping[float, SizeCurves],
    symmetric: bool,
    search: CriticalPointSearch,
    headline: Headline,
    beta: Estimate | None,
    gamma: Estimate | None,
    hyperscaling_dimension: Estimate | None,
    *,
    nu: Estimate | None = None,
    delta: Estimate | None = None,
) -> UniversalityResult:
    """The universality verdict of an analysis: β, γ (and ν, δ when given) and U* (the
    Binder crossing of the two largest sizes) against the table of classes, with the
    Ginzburg window of a second-order transition (largest size).

    With several sizes the exponents come from finite-size scaling over the largest
    :data:`~landaulab.analyze.collapse.FSS_SIZES` sizes, so the finite-size systematic term
    uses the smallest of them; the size column is a volume unless a separate volume column
    was given.
    """
    binder_star = None
    crossings = search.crossings()
    if crossings:
        _, _, loc = crossings[-1]
        binder_star = Estimate.from_replicates(loc.height, loc.height_replicates)
    window = None
    if order == "second" and headline.located is not None:
        window = ginzburg(prepared, curves[max(curves)], headline.located.value, symmetric)
    sizes = sorted(curves)
    smallest = float(sizes[-FSS_SIZES:][0]) if len(sizes) >= 2 else None
    return judge(
        order,
        beta,
        gamma,
        binder_star,
        ginzburg=window,
        hyperscaling_dimension=hyperscaling_dimension,
        nu=nu,
        delta=delta,
        smallest_size=smallest,
        size_is_volume=prepared.columns.volume is None,
    )


__all__ = [
    "CLASSES",
    "ISING_2D",
    "LEVEL",
    "MEAN_FIELD",
    "Z95",
    "ClassTest",
    "Comparison",
    "GinzburgWindow",
    "UniversalityClass",
    "UniversalityResult",
    "acceptance_rate",
    "class_tests",
    "class_value",
    "compare_with_classes",
    "finite_size_systematic",
    "ginzburg",
    "ginzburg_window",
    "joint_test",
    "joint_z",
    "judge",
    "judge_universality",
    "rank_consistent",
]
