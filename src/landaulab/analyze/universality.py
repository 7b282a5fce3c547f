"""Universality: mean field or 2D Ising? Where does Landau theory fail? Do analyses agree?

Measured exponents β, γ and the Binder crossing value U* are compared with

* mean field (Landau theory): β = 1/2, γ = 1, U* = 1 − Γ(1/4)²/(12Γ(3/4)²) ≈ 0.2705
  (Brézin & Zinn-Justin 1985, Nucl. Phys. B 257, 867);
* the 2D Ising class: β = 1/8, γ = 7/4 (Onsager 1944; Yang 1952), U* ≈ 0.61 on periodic
  square lattices (Kamieniarz & Blöte 1993, J. Phys. A 26, 201).

A quantity is consistent with a class when |measured − expected| < 2σ, where σ combines
the statistical error (from the 95 % interval) and an allowance for corrections to scaling
at the sizes used (20 % of the exponent; 0.05 for U*).

The Ginzburg-style check (Ginzburg 1960, Sov. Phys. Solid State 2, 1824; Als-Nielsen &
Birgeneau 1977, Am. J. Phys. 45, 554) fits the mean-field form m² = A·|T − T_c| + C·|T − T_c|²
(analytic in T, vanishing at T_c) to the ordered points farthest from T_c and reports the
window around T_c where the data leave it by more than three standard errors: there
fluctuations dominate and Landau theory fails.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from landaulab.analyze.bootstrap import standard_error
from landaulab.analyze.critical_point import CriticalPointSearch, Headline
from landaulab.analyze.curves import SizeCurves, ordered_below
from landaulab.analyze.frame import PreparedData
from landaulab.analyze.records import estimate_from_dict, float_or_nan
from landaulab.estimate import Estimate
from landaulab.serialize import to_json as clean


@dataclass(frozen=True)
class UniversalityClass:
    """Critical exponents and Binder crossing value of a universality class."""

    name: str
    beta: float
    gamma: float
    binder_crossing: float


MEAN_FIELD = UniversalityClass("mean field", 0.5, 1.0, 0.2705)
ISING_2D = UniversalityClass("2D Ising", 0.125, 1.75, 0.61)
CLASSES = (MEAN_FIELD, ISING_2D)
_RELATIVE_ALLOWANCE = 0.20
_BINDER_ALLOWANCE = 0.05


@dataclass(frozen=True)
class Comparison:
    """One measured quantity against one class's value."""

    universality_class: str
    quantity: str
    measured: float
    expected: float
    z: float

    @property
    def consistent(self) -> bool:
        """Within two combined standard deviations."""
        return bool(abs(self.z) < 2.0)

    def to_dict(self) -> dict:
        """JSON-safe dictionary."""
        return clean(
            {
                "class": self.universality_class,
                "quantity": self.quantity,
                "measured": self.measured,
                "expected": self.expected,
                "z": self.z,
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
    """Verdict on the universality class."""

    verdict: str
    consistent_with_mean_field: bool
    consistent_with: tuple[str, ...]
    binder_crossing: Estimate | None
    comparisons: tuple[Comparison, ...]
    ginzburg: GinzburgWindow | None
    hyperscaling_dimension: Estimate | None

    def to_dict(self) -> dict:
        """JSON-safe dictionary (``verdict`` and ``consistent_with_mean_field`` are contract)."""
        return {
            "verdict": self.verdict,
            "consistent_with_mean_field": bool(self.consistent_with_mean_field),
            "consistent_with": list(self.consistent_with),
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
        return cls(
            verdict=data["verdict"],
            consistent_with_mean_field=bool(data.get("consistent_with_mean_field")),
            consistent_with=tuple(data.get("consistent_with") or ()),
            binder_crossing=estimate_from_dict(data.get("binder_crossing")),
            comparisons=tuple(Comparison.from_dict(c) for c in data.get("comparisons") or ()),
            ginzburg=GinzburgWindow.from_dict(data.get("ginzburg_window")),
            hyperscaling_dimension=estimate_from_dict(data.get("hyperscaling_dimension")),
        )


def _sigma(estimate: Estimate) -> float:
    if estimate.ci is None or estimate.value is None:
        return float("nan")
    return (estimate.ci[1] - estimate.ci[0]) / (2 * 1.959964)


def compare_with_classes(
    quantities: Mapping[str, Estimate | None],
) -> tuple[Comparison, ...]:
    """z-scores of the measured β, γ, U* against every class."""
    comparisons = []
    for cls in CLASSES:
        for name, expected, allowance in (
            ("beta", cls.beta, _RELATIVE_ALLOWANCE * cls.beta),
            ("gamma", cls.gamma, _RELATIVE_ALLOWANCE * cls.gamma),
            ("binder_crossing", cls.binder_crossing, _BINDER_ALLOWANCE),
        ):
            estimate = quantities.get(name)
            if estimate is None or estimate.value is None:
                continue
            sigma = float(np.hypot(_sigma(estimate), allowance))
            if not np.isfinite(sigma):
                continue
            comparisons.append(
                Comparison(
                    cls.name,
                    name,
                    float(estimate.value),
                    expected,
                    (float(estimate.value) - expected) / sigma,
                )
            )
    return tuple(comparisons)


def judge(
    order: str,
    beta: Estimate | None,
    gamma: Estimate | None,
    binder_crossing: Estimate | None,
    *,
    ginzburg: GinzburgWindow | None = None,
    hyperscaling_dimension: Estimate | None = None,
) -> UniversalityResult:
    """The universality verdict for one analysis."""
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
    comparisons = compare_with_classes(
        {"beta": beta, "gamma": gamma, "binder_crossing": binder_crossing}
    )
    if not comparisons:
        return UniversalityResult(
            "Not estimable: neither β, γ nor a Binder crossing could be measured, so the "
            "universality class cannot be judged.",
            False,
            (),
            binder_crossing,
            (),
            ginzburg,
            hyperscaling_dimension,
        )
    consistent = tuple(
        cls.name
        for cls in CLASSES
        if all(c.consistent for c in comparisons if c.universality_class == cls.name)
    )
    measured = "; ".join(
        f"{name} = {est}"
        for name, est in (("β", beta), ("γ", gamma), ("U*", binder_crossing))
        if est is not None and est.value is not None
    )
    if len(consistent) == 1:
        verdict = f"Consistent with {consistent[0]} ({measured})."
    elif len(consistent) > 1:
        verdict = (
            f"Consistent with both {' and '.join(consistent)} within the uncertainties "
            f"({measured}): too imprecise to decide."
        )
    else:
        worst = max(comparisons, key=lambda c: abs(c.z))
        verdict = (
            f"Consistent with neither mean field nor 2D Ising ({measured}); e.g. {worst.quantity} "
            f"differs from {worst.universality_class} by {abs(worst.z):.1f} σ."
        )
    return UniversalityResult(
        verdict,
        MEAN_FIELD.name in consistent,
        consistent,
        binder_crossing,
        comparisons,
        ginzburg,
        hyperscaling_dimension,
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
) -> UniversalityResult:
    """The universality verdict of an analysis: β, γ and U* (the Binder crossing of the
    two largest sizes) against the classes, with the Ginzburg window of a second-order
    transition (largest size)."""
    binder_star = None
    crossings = search.crossings()
    if crossings:
        _, _, loc = crossings[-1]
        binder_star = Estimate.from_replicates(loc.height, loc.height_replicates)
    window = None
    if order == "second" and headline.located is not None:
        window = ginzburg(prepared, curves[max(curves)], headline.located.value, symmetric)
    return judge(
        order,
        beta,
        gamma,
        binder_star,
        ginzburg=window,
        hyperscaling_dimension=hyperscaling_dimension,
    )
