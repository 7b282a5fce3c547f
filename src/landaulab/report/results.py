"""What a report shows of the analysis and dynamics results, read from their typed fields.

:func:`read_analysis` and :func:`read_dynamics` take an
:class:`~landaulab.analyze.result.AnalysisResult` and a
:class:`~landaulab.dynamics.result.DynamicsResult` (or ``None`` with the reason it is
missing) and gather, attribute by attribute, the pieces the sections, figures and narrative
draw: every number a report shows is read here once, and every sentence, table and figure
reads it from these views.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from landaulab.analyze.result import EXPONENT_NAMES, AnalysisResult, CriticalPoint
from landaulab.dynamics.result import DynamicsResult
from landaulab.estimate import Estimate, finite

#: Exponents a report always lists (β, γ, ν and the finite-size ratios); δ when measured.
EXPONENTS = ("beta", "gamma", "nu", "beta_over_nu", "gamma_over_nu", "delta")


@dataclass(frozen=True)
class Curve:
    """One labelled curve: x and y arrays (and optional fit, error and markers)."""

    x: np.ndarray
    y: np.ndarray
    control: float | None = None
    size: float | None = None
    fit: np.ndarray | None = None
    error: np.ndarray | None = None
    minima: tuple[float, ...] = ()


@dataclass(frozen=True)
class AnalysisView:
    """What a report shows of an analysis result (``available`` False: none was given).

    ``design`` is the kind of control design the analysis saw (``"grid"``,
    ``"irregular"``, or ``None`` for results without it).
    """

    available: bool
    error: str | None = None
    order: str | None = None
    critical_point: Estimate | None = None
    exponents: dict[str, Estimate | None] = field(default_factory=dict)
    coefficients: list[dict[str, Any]] = field(default_factory=list)
    verdict: str | None = None
    consistent_with_mean_field: bool | None = None
    evidence: list[str] = field(default_factory=list)
    table: pd.DataFrame | None = None
    free_energy: list[Curve] = field(default_factory=list)
    collapse: list[Curve] = field(default_factory=list)
    collapse_parameters: dict[str, Estimate] = field(default_factory=dict)
    binder_crossing: Estimate | None = None
    other_critical_points: list[Estimate] = field(default_factory=list)
    not_estimable: dict[str, str] = field(default_factory=dict)
    ginzburg: str | None = None
    notes: list[str] = field(default_factory=list)
    design: str | None = None


@dataclass(frozen=True)
class TransitionTime:
    """One detected transition in one run."""

    run_id: str
    time: float
    control: float | None = None
    low: float | None = None
    high: float | None = None
    label: str | None = None
    main: bool = True


@dataclass(frozen=True)
class DynamicsView:
    """What a report shows of a dynamics result (``available`` False: none was given).

    ``attractors`` and ``relaxation`` are rows ``{"control", "position" | "value", "ci"}``;
    ``transition_summary`` the per-control rows of the transition times (``control``,
    ``median``, ``ci``, ``n_runs``, ``n_with_transition``); ``n_with_transition`` and
    ``n_runs_checked`` are their totals, the one count every sentence and table quotes;
    ``laws`` the law comparison of the transition times (its ``verdict``); ``design`` the
    kind of control design the runs were grouped by (``"grid"``, ``"irregular"``, or
    ``None``).
    """

    available: bool
    error: str | None = None
    attractors: list[dict[str, Any]] = field(default_factory=list)
    relaxation: list[dict[str, Any]] = field(default_factory=list)
    potentials: list[Curve] = field(default_factory=list)
    transition_times: list[TransitionTime] = field(default_factory=list)
    plateaus: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    law_verdict: str | None = None
    best_law: str | None = None
    transition_summary: list[dict[str, Any]] = field(default_factory=list)
    slowing_down: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    looked_for_transitions: bool = False
    design: str | None = None

    @property
    def n_with_transition(self) -> int:
        """Runs with a main transition (the sum over control values)."""
        return sum(int(r.get("n_with_transition") or 0) for r in self.transition_summary)

    @property
    def n_runs_checked(self) -> int:
        """Runs in which transitions were looked for (the sum over control values)."""
        return sum(int(r.get("n_runs") or 0) for r in self.transition_summary)


def _finite_estimate(value: Estimate | None) -> Estimate | None:
    """``value`` when its value is finite, else ``None`` (nothing to show)."""
    if value is None or finite(value.value) is None:
        return None
    return value


# -------------------------------------------------------------------------- analysis
def read_analysis(result: AnalysisResult | None, error: str | None = None) -> AnalysisView:
    """The :class:`AnalysisView` of an analysis result (``None``: missing, for ``error``)."""
    if result is None:
        return AnalysisView(available=False, error=error)
    exponents: dict[str, Estimate | None] = {}
    for name in EXPONENT_NAMES:
        exponents[name] = _finite_estimate(getattr(result.exponents, name, None))
    universality = result.universality
    critical = _finite_estimate(result.critical_point)
    others = [
        e
        for e in (_finite_estimate(c) for c in result.critical_point_estimates if c.valid)
        if e is not None
    ]
    table = result.table.copy() if result.table is not None else None
    if table is not None and len(table.columns) and "control" in table.columns:
        if "size" not in table.columns:
            table["size"] = np.nan
        table = table[np.isfinite(pd.to_numeric(table["control"], errors="coerce"))]
        table = table.sort_values(["size", "control"], kind="stable").reset_index(drop=True)
    else:
        table = None
    ginzburg = universality.ginzburg.sentence if universality.ginzburg is not None else None
    return AnalysisView(
        available=True,
        error=error,
        order=result.order,
        critical_point=critical,
        exponents=exponents,
        coefficients=_coefficients(result),
        verdict=universality.verdict or None,
        consistent_with_mean_field=bool(universality.consistent_with_mean_field),
        evidence=[s for s in result.evidence if s.strip()],
        table=table,
        free_energy=_free_energy_curves(result),
        collapse=_collapse_curves(result),
        collapse_parameters=_collapse_parameters(result),
        binder_crossing=_finite_estimate(universality.binder_crossing),
        other_critical_points=others,
        not_estimable={str(k): str(v) for k, v in result.not_estimable.items() if v is not None},
        ginzburg=ginzburg or None,
        design=_design_kind(result.inputs.get("design")),
    )


def _design_kind(design: Any) -> str | None:
    """``design["kind"]`` of a result's design entry (``None`` when there is none)."""
    kind = design.get("kind") if isinstance(design, dict) else None
    return str(kind) if kind is not None else None


def _coefficients(result: AnalysisResult) -> list[dict[str, Any]]:
    """Landau coefficients as rows ``{"name", "value", "low", "high", "control", "size"}``."""
    rows: list[dict[str, Any]] = []
    table = result.landau.coefficients
    for record in table.to_dict(orient="records"):
        for name in result.landau.terms:
            value = finite(record.get(name))
            if value is None:
                continue
            rows.append(
                {
                    "name": name,
                    "value": value,
                    "low": finite(record.get(f"{name}_ci_low")),
                    "high": finite(record.get(f"{name}_ci_high")),
                    "control": finite(record.get("control")),
                    "size": finite(record.get("size")),
                }
            )
    return rows


def _array(values: Any) -> np.ndarray | None:
    if values is None:
        return None
    array = np.asarray(values, dtype=float).ravel()
    return array if array.size else None


def _free_energy_curves(result: AnalysisResult) -> list[Curve]:
    minima: dict[tuple[float | None, float | None], float] = {}
    table = result.landau.coefficients
    if "m_star" in table.columns:
        for record in table.to_dict(orient="records"):
            m_star = finite(record.get("m_star"))
            if m_star is not None:
                minima[(finite(record.get("control")), finite(record.get("size")))] = m_star
    curves: list[Curve] = []
    for item in result.landau.curves:
        x, y = _array(item.get("m")), _array(item.get("measured"))
        if x is None or y is None or x.size != y.size:
            continue
        fit = _array(item.get("fit"))
        key = (finite(item.get("control")), finite(item.get("size")))
        curves.append(
            Curve(
                x=x,
                y=y,
                control=key[0],
                size=key[1],
                fit=fit if fit is not None and fit.size == x.size else None,
                minima=(minima[key],) if key in minima else (),
            )
        )
    return curves


def _collapse_curves(result: AnalysisResult) -> list[Curve]:
    if result.collapse is None:
        return []
    curves: list[Curve] = []
    for item in result.collapse.curves:
        x, y = _array(item.get("x")), _array(item.get("y"))
        if x is None or y is None or x.size != y.size:
            continue
        error = _array(item.get("dy"))
        curves.append(
            Curve(
                x=x,
                y=y,
                size=finite(item.get("size")),
                error=error if error is not None and error.size == x.size else None,
            )
        )
    return curves


def _collapse_parameters(result: AnalysisResult) -> dict[str, Estimate]:
    collapse = result.collapse
    if collapse is None:
        return {}
    out: dict[str, Estimate] = {}
    for name, value in (
        ("critical_point", collapse.critical_point),
        ("nu", collapse.nu),
        (collapse.ratio_name or "ratio", collapse.ratio),
    ):
        checked = _finite_estimate(value)
        if checked is not None:
            out[name] = checked
    quality = finite(collapse.quality)
    if quality is not None:
        out["quality"] = Estimate(quality)
    return out


# -------------------------------------------------------------------------- dynamics
def read_dynamics(result: DynamicsResult | None, error: str | None = None) -> DynamicsView:
    """The :class:`DynamicsView` of a dynamics result (``None``: missing, for ``error``)."""
    if result is None:
        return DynamicsView(available=False, error=error)
    attractors: list[dict[str, Any]] = []
    relaxation: list[dict[str, Any]] = []
    potentials: list[Curve] = []
    for cd in result.controls:
        control = finite(cd.control)
        positions = []
        for point in cd.potential.attractors:
            position = finite(point.position.value)
            if position is None:
                continue
            positions.append(position)
            attractors.append({"control": control, "position": position, "ci": point.position.ci})
        tau = cd.relaxation.tau
        if tau is not None and finite(tau.value) is not None:
            relaxation.append({"control": control, "value": tau.value, "ci": tau.ci})
        x, y = _array(cd.potential.grid), _array(cd.potential.values)
        if x is not None and y is not None and x.size == y.size:
            potentials.append(Curve(x=x, y=y, control=control, minima=tuple(positions)))
    transitions = result.transitions
    main = {(str(t.run), t.time) for t in transitions.main}
    times = [
        TransitionTime(
            run_id=str(t.run),
            time=float(t.time),
            control=finite(t.control),
            main=(str(t.run), t.time) in main,
        )
        for t in transitions.transitions
        if finite(t.time) is not None
    ]
    laws = transitions.laws
    best = laws.best if laws is not None else None
    slowing = result.slowing_down
    return DynamicsView(
        available=True,
        error=error,
        attractors=attractors,
        relaxation=relaxation,
        potentials=potentials,
        transition_times=times,
        plateaus=[p.to_dict() for p in result.plateaus],
        evidence=[s for s in result.evidence if s.strip()],
        law_verdict=laws.verdict if laws is not None and laws.verdict else None,
        best_law=best.law if best is not None else None,
        transition_summary=[c.to_dict() for c in transitions.by_control],
        slowing_down=slowing.to_dict() if slowing is not None else None,
        notes=[s for s in result.notes if s.strip()],
        looked_for_transitions=True,
        design=_design_kind(dict(result.design) if result.design is not None else None),
    )


__all__ = [
    "EXPONENTS",
    "AnalysisView",
    "CriticalPoint",
    "Curve",
    "DynamicsView",
    "Estimate",
    "TransitionTime",
    "read_analysis",
    "read_dynamics",
]
