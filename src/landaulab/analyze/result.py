"""Typed, frozen result objects of an analysis and their JSON form.

:meth:`AnalysisResult.to_dict` gives the public JSON contract of ``landaulab analyze
--json``: ``transition.order``, ``transition.critical_point`` ({value, ci, method} or
null), ``exponents.{beta, gamma, nu, beta_over_nu, gamma_over_nu, delta}`` ({value, ci} or
null),
``landau.coefficients`` (with uncertainties), ``universality.verdict``,
``universality.consistent_with_mean_field`` and ``evidence`` (a list of sentences), plus
the per-control table, the fitted free-energy curves, the collapse and more.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from landaulab.estimate import Estimate
from landaulab.serialize import to_json

if TYPE_CHECKING:
    from landaulab.analyze.field import CriticalIsotherm
    from landaulab.analyze.hysteresis import HysteresisResult
    from landaulab.analyze.temporal import TemporalResult
    from landaulab.analyze.universality import UniversalityResult


def clean(value: Any) -> Any:
    """Make ``value`` JSON-safe (:func:`landaulab.serialize.to_json`)."""
    return to_json(value)


def _number(value: float | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _fmt(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}g}"


@dataclass(frozen=True)
class CriticalPoint(Estimate):
    """A located transition point with the method that found it.

    ``method`` is one of ``binder_crossing``, ``susceptibility_peak``,
    ``quadratic_coefficient_zero``, ``equal_depth``; ``detail`` says which sizes.
    """

    method: str | None = ""
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """``{"value", "ci", "method"}`` (the contract of ``transition.critical_point``)."""
        return {**super().to_dict(), "method": self.method}

    def to_full_dict(self) -> dict[str, Any]:
        """As :meth:`to_dict` plus ``detail``."""
        return {**self.to_dict(), "detail": self.detail}

    def __str__(self) -> str:
        return (
            f"{Estimate.__str__(self)} ({self.method}{', ' + self.detail if self.detail else ''})"
        )


EXPONENT_NAMES = ("beta", "gamma", "nu", "beta_over_nu", "gamma_over_nu", "delta")


@dataclass(frozen=True)
class Exponents:
    """Critical exponents (None where not estimable) and how they were obtained."""

    beta: Estimate | None = None
    gamma: Estimate | None = None
    nu: Estimate | None = None
    beta_over_nu: Estimate | None = None
    gamma_over_nu: Estimate | None = None
    method: str = ""
    delta: Estimate | None = None

    def to_dict(self) -> dict[str, Any]:
        """The six exponents, each ``{"value", "ci"}`` or None."""
        return {
            name: (getattr(self, name).to_dict() if getattr(self, name) is not None else None)
            for name in EXPONENT_NAMES
        }


@dataclass(frozen=True, eq=False)
class LandauResult:
    """Landau free-energy fits of every (control, size) group.

    Attributes
    ----------
    terms
        Coefficient names (``a2`` is the quadratic coefficient, ``a1`` a field term...).
    powers
        Their powers of m.
    coefficients
        Table: ``control``, ``size``, then ``<name>``, ``<name>_stderr``, ``<name>_ci_low``
        and ``<name>_ci_high`` per term (F per unit volume, m in the user's units).
    quadratic_zero
        Where the fitted a₂(T) changes sign (largest size), or None.
    equal_depth
        Where coexisting minima of the fitted F have equal depth, or None.
    curves
        Per group: ``control``, ``size``, ``m``, ``measured`` and ``fit`` F (shifted so the
        fitted minimum is zero).
    """

    terms: tuple[str, ...]
    powers: tuple[int, ...]
    coefficients: pd.DataFrame
    quadratic_zero: CriticalPoint | None
    equal_depth: CriticalPoint | None
    curves: tuple[dict[str, Any], ...] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary; ``coefficients`` is a list of per-group records."""
        records = []
        for row in self.coefficients.to_dict(orient="records"):
            entry = {"control": row["control"], "size": row["size"]}
            for name in self.terms:
                entry[name] = {
                    "value": row.get(name),
                    "stderr": row.get(f"{name}_stderr"),
                    "ci": [row.get(f"{name}_ci_low"), row.get(f"{name}_ci_high")],
                }
            entry["m_star"] = row.get("m_star")
            records.append(entry)
        return clean(
            {
                "terms": list(self.terms),
                "powers": list(self.powers),
                "coefficients": records,
                "quadratic_zero": self.quadratic_zero.to_dict() if self.quadratic_zero else None,
                "equal_depth": self.equal_depth.to_dict() if self.equal_depth else None,
                "curves": list(self.curves),
            }
        )


@dataclass(frozen=True, eq=False)
class CollapseResult:
    """A finite-size-scaling data collapse of the order parameter.

    Attributes
    ----------
    observable
        What was collapsed (``"rms"``: √⟨m²⟩).
    critical_point, nu, ratio
        T_c (held at the analysis' critical point, replicate by replicate), and the fitted ν
        and exponent ratio ρ (here β/ν), with bootstrap intervals.
    ratio_name
        The name of ρ.
    quality
        Houdayer–Hartmann S at the optimum (≈ 1 for a collapse within errors).
    curves
        Per size: ``size``, ``x`` = (T − T_c)·L^(1/ν), ``y`` = m·L^ρ, ``dy``.
    """

    observable: str
    critical_point: Estimate | None
    nu: Estimate | None
    ratio: Estimate | None
    ratio_name: str
    quality: float
    curves: tuple[dict[str, Any], ...] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        return clean(
            {
                "observable": self.observable,
                "critical_point": self.critical_point.to_dict() if self.critical_point else None,
                "nu": self.nu.to_dict() if self.nu else None,
                "ratio": {
                    "name": self.ratio_name,
                    **(self.ratio.to_dict() if self.ratio else {"value": None, "ci": None}),
                },
                "quality": self.quality,
                "curves": list(self.curves),
            }
        )


@dataclass(frozen=True, eq=False)
class AnalysisResult:
    """Everything :func:`landaulab.analyze.analyze` found, with the evidence behind it.

    Attributes
    ----------
    order
        ``"first"``, ``"second"``, ``"crossover"`` or ``"none"``.
    critical_point
        The headline transition point, or None (no transition / not estimable).
    critical_point_estimates
        Every estimate of the transition point (each method, each size or pair of sizes).
    exponents
        β, γ, ν, β/ν, γ/ν and δ (None where not estimable).
    landau
        The free-energy fits.
    universality
        The universality verdict.
    evidence
        Sentences supporting the verdicts (and stating what could not be estimated).
    table
        Per (control, size): ``control``, ``size``, ``volume``, ``n_runs``, ``n_samples``,
        ``mean``, ``rms``, ``susceptibility``, ``binder`` (and standard errors) and
        ``m_star`` (minimiser of the fitted Landau F).
    collapse, hysteresis, temporal, critical_isotherm
        Optional parts (None where not applicable).
    not_estimable
        Quantity → reason, for everything that could not be estimated.
    inputs
        The settings of the analysis.
    """

    order: str
    critical_point: CriticalPoint | None
    critical_point_estimates: tuple[CriticalPoint, ...]
    exponents: Exponents
    landau: LandauResult
    universality: UniversalityResult
    evidence: tuple[str, ...]
    table: pd.DataFrame = field(repr=False)
    collapse: CollapseResult | None = None
    hysteresis: HysteresisResult | None = None
    temporal: TemporalResult | None = None
    critical_isotherm: CriticalIsotherm | None = None
    not_estimable: Mapping[str, str] = field(default_factory=dict)
    inputs: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (see the module docstring for the contract keys)."""
        return clean(
            {
                "transition": {
                    "order": self.order,
                    "critical_point": (
                        self.critical_point.to_dict() if self.critical_point else None
                    ),
                    "estimates": [e.to_full_dict() for e in self.critical_point_estimates],
                },
                "exponents": self.exponents.to_dict(),
                "exponents_method": self.exponents.method,
                "landau": self.landau.to_dict(),
                "universality": self.universality.to_dict(),
                "evidence": list(self.evidence),
                "not_estimable": dict(self.not_estimable),
                "table": self.table.to_dict(orient="records"),
                "collapse": self.collapse.to_dict() if self.collapse else None,
                "hysteresis": self.hysteresis.to_dict() if self.hysteresis else None,
                "temporal": self.temporal.to_dict() if self.temporal else None,
                "critical_isotherm": (
                    self.critical_isotherm.to_dict() if self.critical_isotherm else None
                ),
                "inputs": dict(self.inputs),
            }
        )

    def __str__(self) -> str:
        inputs = self.inputs
        sizes = sorted(set(self.table["size"].tolist())) if len(self.table) else []
        lines = [
            f"Landau analysis of {inputs.get('order_parameter')!r} against "
            f"{inputs.get('control')!r}: {inputs.get('n_runs', '?')} runs, "
            f"{self.table['control'].nunique() if len(self.table) else 0} control values, "
            f"{len(sizes)} size(s)"
            + (f" ({', '.join(f'{s:.4g}' for s in sizes)})" if len(sizes) > 1 else ""),
            f"  transition       {self.order} order"
            if self.order in ("first", "second")
            else f"  transition       {self.order}",
            f"  critical point   {self.critical_point if self.critical_point else 'none'}",
        ]
        labels = {
            "beta": "β",
            "gamma": "γ",
            "nu": "ν",
            "beta_over_nu": "β/ν",
            "gamma_over_nu": "γ/ν",
            "delta": "δ",
        }
        shown = [
            f"{labels[name]} = {getattr(self.exponents, name)}"
            for name in EXPONENT_NAMES
            if getattr(self.exponents, name) is not None
        ]
        lines.append(f"  exponents        {'; '.join(shown) if shown else 'not estimable'}")
        if self.landau.quadratic_zero:
            lines.append(f"  Landau a₂ = 0 at {Estimate.__str__(self.landau.quadratic_zero)}")
        if self.collapse:
            lines.append(
                f"  data collapse    ν = {self.collapse.nu}, {self.collapse.ratio_name} = "
                f"{self.collapse.ratio} at T_c = {self.collapse.critical_point} "
                f"(Houdayer–Hartmann quality S = {self.collapse.quality:.2f})"
            )
        lines.append(f"  universality     {self.universality.verdict}")
        if self.universality.ginzburg:
            lines.append(f"  Ginzburg         {self.universality.ginzburg.sentence}")
        lines.append("  evidence:")
        lines.extend(f"    - {sentence}" for sentence in self.evidence)
        if self.not_estimable:
            lines.append("  not estimable:")
            lines.extend(f"    - {k}: {v}" for k, v in self.not_estimable.items())
        return "\n".join(lines)
