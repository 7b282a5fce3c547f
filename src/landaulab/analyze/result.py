"""The typed, frozen result of an analysis and its JSON form.

:meth:`AnalysisResult.to_dict` gives the public JSON contract of ``landaulab analyze
--json``: ``transition.order``, ``transition.critical_point`` ({value, ci, method} or
null), ``exponents.{beta, gamma, nu, beta_over_nu, gamma_over_nu, delta}`` ({value, ci} or
null),
``landau.coefficients`` (with uncertainties), ``universality.verdict``,
``universality.consistent_with_mean_field`` and ``evidence`` (a list of sentences), plus
the per-control table, the fitted free-energy curves, the collapse and more.
:meth:`AnalysisResult.from_dict` reads it back: ``AnalysisResult.from_dict(r.to_dict())``
has the same typed attributes and the same ``to_dict()``.

Each part's type lives with its concept: :class:`CriticalPoint` in
:mod:`.critical_point`, :class:`Exponents` in :mod:`.exponents`, :class:`LandauResult` in
:mod:`.landau`, :class:`CollapseResult` in :mod:`.collapse`, and the hysteresis, temporal,
critical-isotherm and universality results in their modules; they are re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from landaulab.analyze.collapse import CollapseResult
from landaulab.analyze.critical_point import CriticalPoint
from landaulab.analyze.exponents import EXPONENT_NAMES, Exponents
from landaulab.analyze.field import CriticalIsotherm
from landaulab.analyze.hysteresis import HysteresisResult
from landaulab.analyze.landau_result import LandauResult
from landaulab.analyze.records import estimate_from_dict, table_from_records
from landaulab.analyze.temporal import TemporalResult
from landaulab.analyze.universality import UniversalityResult
from landaulab.estimate import Estimate
from landaulab.serialize import to_json

__all__ = [
    "EXPONENT_NAMES",
    "AnalysisResult",
    "CollapseResult",
    "CriticalIsotherm",
    "CriticalPoint",
    "Estimate",
    "Exponents",
    "HysteresisResult",
    "LandauResult",
    "TemporalResult",
    "UniversalityResult",
    "clean",
]


#: The JSON cleaner of every result (:func:`landaulab.serialize.to_json`).
clean = to_json


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
        Every estimate of the transition point (each method, each size or pair of sizes,
        the 1/V extrapolation of the equal-depth point), each with ``valid`` and, when
        not valid, the ``reason`` (it then never stands for the transition).
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
    jump, latent_heat
        At a first-order transition: the jump of m and of the mean energy column across
        the located T* (``transition.jump``, ``transition.latent_heat``), else None.
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
    jump: Estimate | None = None
    latent_heat: Estimate | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (see the module docstring for the contract keys)."""
        return to_json(
            {
                "transition": {
                    "order": self.order,
                    "critical_point": (
                        self.critical_point.to_dict() if self.critical_point else None
                    ),
                    "critical_point_detail": (
                        self.critical_point.detail if self.critical_point else None
                    ),
                    "estimates": [e.to_full_dict() for e in self.critical_point_estimates],
                    "jump": self.jump.to_dict() if self.jump is not None else None,
                    "latent_heat": (
                        self.latent_heat.to_dict() if self.latent_heat is not None else None
                    ),
                },
                "exponents": self.exponents.to_dict(),
                "exponents_method": self.exponents.method,
                "landau": self.landau.to_dict(),
                "universality": self.universality.to_dict(),
                "evidence": list(self.evidence),
                "not_estimable": dict(self.not_estimable),
                "table": self.table.to_dict(orient="records"),
                "table_columns": [str(c) for c in self.table.columns],
                "collapse": self.collapse.to_dict() if self.collapse else None,
                "hysteresis": self.hysteresis.to_dict() if self.hysteresis else None,
                "temporal": self.temporal.to_dict() if self.temporal else None,
                "critical_isotherm": (
                    self.critical_isotherm.to_dict() if self.critical_isotherm else None
                ),
                "inputs": dict(self.inputs),
            }
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AnalysisResult:
        """The inverse of :meth:`to_dict`: ``from_dict(r.to_dict()).to_dict() == r.to_dict()``.

        Every part comes back as its type (estimates, exponents, the Landau fits and their
        coefficient table, the per-control table as a DataFrame, ...); arrays and curves
        come back as lists, and NaN written as null comes back as NaN in tables and arrays.
        """
        transition = data.get("transition") or {}
        critical_point = CriticalPoint.from_dict(transition.get("critical_point"))
        if critical_point is not None:
            detail = transition.get("critical_point_detail") or ""
            critical_point = CriticalPoint(
                critical_point.value, critical_point.ci, critical_point.method, detail
            )
        estimates = tuple(
            e
            for e in (CriticalPoint.from_dict(d) for d in transition.get("estimates") or ())
            if e is not None
        )
        collapse, hysteresis = data.get("collapse"), data.get("hysteresis")
        temporal, isotherm = data.get("temporal"), data.get("critical_isotherm")
        return cls(
            order=transition.get("order", "none"),
            critical_point=critical_point,
            critical_point_estimates=estimates,
            exponents=Exponents.from_dict(
                data.get("exponents") or {}, method=data.get("exponents_method", "")
            ),
            landau=LandauResult.from_dict(data.get("landau") or {}),
            universality=UniversalityResult.from_dict(data["universality"]),
            evidence=tuple(data.get("evidence") or ()),
            table=table_from_records(data.get("table"), data.get("table_columns")),
            collapse=CollapseResult.from_dict(collapse) if collapse is not None else None,
            hysteresis=HysteresisResult.from_dict(hysteresis) if hysteresis is not None else None,
            temporal=TemporalResult.from_dict(temporal) if temporal is not None else None,
            critical_isotherm=(
                CriticalIsotherm.from_dict(isotherm) if isotherm is not None else None
            ),
            not_estimable=dict(data.get("not_estimable") or {}),
            inputs=dict(data.get("inputs") or {}),
            jump=estimate_from_dict(transition.get("jump")),
            latent_heat=estimate_from_dict(transition.get("latent_heat")),
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
