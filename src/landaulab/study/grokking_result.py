"""The grokking study's result: typed, frozen, and round-tripping through JSON exactly.

Every number the report shows is a field here; the report reads this result (through
its :class:`~landaulab.report.ExtraSection` s and ``report.json``) and recomputes nothing.
Missing numbers are ``None`` (never NaN), so ``from_dict(to_dict(r)) == r`` holds exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def _interval(data: Any) -> tuple[float, float] | None:
    if data is None:
        return None
    lo, hi = data
    return (float(lo), float(hi))


def _opt(value: Any) -> float | None:
    return None if value is None else float(value)


def _ci_json(ci: tuple[float, float] | None) -> list[float] | None:
    return None if ci is None else [ci[0], ci[1]]


@dataclass(frozen=True)
class Boundary:
    """Where the generalisation boundary lies along the training fraction.

    ``value`` is the training fraction at which the seed-averaged generalisation crosses
    one half, at training budget ``budget`` (steps), for modulus ``size``; ``ci`` its
    interval (the refinement's bracket at the full budget, a bootstrap interval over
    seeds at shorter budgets). ``method`` says which.
    """

    size: int
    budget: int
    value: float
    ci: tuple[float, float]
    method: str

    @property
    def width(self) -> float:
        """Width of the interval."""
        return self.ci[1] - self.ci[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "budget": self.budget,
            "value": self.value,
            "ci": [self.ci[0], self.ci[1]],
            "method": self.method,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Boundary:
        ci = _interval(data["ci"])
        assert ci is not None
        return cls(
            int(data["size"]), int(data["budget"]), float(data["value"]), ci, str(data["method"])
        )


@dataclass(frozen=True)
class ControlEnsemble:
    """The seed ensemble at one training fraction and one size.

    Attributes
    ----------
    size, control
        Modulus p and training fraction.
    values
        Late-time generalisation of every seed (sorted by seed).
    histogram
        Counts of ``values`` in ``bins`` equal bins on [0, 1].
    grokked, grokked_ci
        Fraction of seeds with generalisation ≥ ½, and its Wilson interval.
    low, middle, high
        Seeds with m < 0.1, 0.1 ≤ m ≤ 0.9, m > 0.9.
    transit
        Of the ``middle`` seeds, those still rising at the end of the budget (caught
        in their jump, not resting between the peaks).
    binder, binder_ci
        Binder cumulant U = 1 − ⟨δm⁴⟩/(3⟨δm²⟩²) with a bootstrap interval (``None``
        when all seeds agree).
    chi, chi_ci
        Susceptibility χ = N·Var(m), N = p² (the table's size), with a bootstrap interval.
    """

    size: int
    control: float
    values: tuple[float, ...]
    histogram: tuple[int, ...]
    grokked: float
    grokked_ci: tuple[float, float]
    low: int
    middle: int
    high: int
    transit: int
    binder: float | None
    binder_ci: tuple[float, float] | None
    chi: float
    chi_ci: tuple[float, float] | None

    @property
    def n(self) -> int:
        """Seeds in the ensemble."""
        return len(self.values)

    def to_dict(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "control": self.control,
            "n": self.n,
            "values": list(self.values),
            "histogram": list(self.histogram),
            "grokked": self.grokked,
            "grokked_ci": _ci_json(self.grokked_ci),
            "low": self.low,
            "middle": self.middle,
            "high": self.high,
            "transit": self.transit,
            "binder": self.binder,
            "binder_ci": _ci_json(self.binder_ci),
            "chi": self.chi,
            "chi_ci": _ci_json(self.chi_ci),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ControlEnsemble:
        grokked_ci = _interval(data["grokked_ci"])
        assert grokked_ci is not None
        return cls(
            size=int(data["size"]),
            control=float(data["control"]),
            values=tuple(float(v) for v in data["values"]),
            histogram=tuple(int(v) for v in data["histogram"]),
            grokked=float(data["grokked"]),
            grokked_ci=grokked_ci,
            low=int(data["low"]),
            middle=int(data["middle"]),
            high=int(data["high"]),
            transit=int(data["transit"]),
            binder=_opt(data["binder"]),
            binder_ci=_interval(data["binder_ci"]),
            chi=float(data["chi"]),
            chi_ci=_interval(data["chi_ci"]),
        )


@dataclass(frozen=True)
class FreeEnergy:
    """The static free energy F(m) = −ln P(m) / N at one control and size, and its
    Landau fit F(m) ≈ F₀ + h·φ + a·φ² + b·φ⁴ with φ = m − ½.

    ``m`` are bin centres, ``f`` the free energy per bin (P(m) estimated with the
    Krichevsky–Trofimov pseudo-count ½ per bin, so empty bins give a finite lower bound
    on F); ``coefficients`` maps ``h``, ``a``, ``b`` to ``(value, lo, hi)`` (bootstrap
    over seeds); ``barrier`` is the fitted F at the midpoint m = ½ above the higher of
    its values in the two phases (the outermost bins, m ≈ 0 and m ≈ 1), per unit volume,
    with a bootstrap interval; ``double_well`` is whether that interval lies above 0
    (a well in each phase with a barrier between).
    """

    size: int
    control: float
    volume: int
    m: tuple[float, ...]
    f: tuple[float, ...]
    coefficients: tuple[tuple[str, float, float, float], ...]
    double_well: bool
    barrier: float | None
    barrier_ci: tuple[float, float] | None = None

    def coefficient(self, name: str) -> tuple[float, float, float]:
        """``(value, lo, hi)`` of one Landau coefficient."""
        for key, value, lo, hi in self.coefficients:
            if key == name:
                return (value, lo, hi)
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "control": self.control,
            "volume": self.volume,
            "m": list(self.m),
            "f": list(self.f),
            "coefficients": [
                {"name": k, "value": v, "ci": [lo, hi]} for k, v, lo, hi in self.coefficients
            ],
            "double_well": self.double_well,
            "barrier": self.barrier,
            "barrier_ci": _ci_json(self.barrier_ci),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FreeEnergy:
        return cls(
            size=int(data["size"]),
            control=float(data["control"]),
            volume=int(data["volume"]),
            m=tuple(float(v) for v in data["m"]),
            f=tuple(float(v) for v in data["f"]),
            coefficients=tuple(
                (str(c["name"]), float(c["value"]), float(c["ci"][0]), float(c["ci"][1]))
                for c in data["coefficients"]
            ),
            double_well=bool(data["double_well"]),
            barrier=_opt(data["barrier"]),
            barrier_ci=_interval(data.get("barrier_ci")),
        )


@dataclass(frozen=True)
class OrderVerdict:
    """The order of the transition at one size, and the evidence for it."""

    size: int
    order: str  # "first", "continuous" or "undecided"
    evidence: str

    def to_dict(self) -> dict[str, Any]:
        return {"size": self.size, "order": self.order, "evidence": self.evidence}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OrderVerdict:
        return cls(int(data["size"]), str(data["order"]), str(data["evidence"]))


@dataclass(frozen=True)
class LawSummary:
    """One law fitted to the budget at which the boundary sits at each training fraction.

    ``parameters`` maps each parameter to ``(value, lo, hi)``; ``divergence`` is the
    fraction where the budget diverges (the critical fraction of the power law), with
    its interval, or ``None``.
    """

    law: str
    formula: str
    aicc: float | None
    weight: float | None
    parameters: tuple[tuple[str, float | None, float | None, float | None], ...]
    divergence: tuple[float | None, float | None, float | None] | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "law": self.law,
            "formula": self.formula,
            "aicc": self.aicc,
            "weight": self.weight,
            "parameters": [
                {"name": k, "value": v, "ci": [lo, hi]} for k, v, lo, hi in self.parameters
            ],
            "divergence": None
            if self.divergence is None
            else {"value": self.divergence[0], "ci": [self.divergence[1], self.divergence[2]]},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LawSummary:
        div = data["divergence"]
        return cls(
            law=str(data["law"]),
            formula=str(data["formula"]),
            aicc=_opt(data["aicc"]),
            weight=_opt(data["weight"]),
            parameters=tuple(
                (str(c["name"]), _opt(c["value"]), _opt(c["ci"][0]), _opt(c["ci"][1]))
                for c in data["parameters"]
            ),
            divergence=None
            if div is None
            else (_opt(div["value"]), _opt(div["ci"][0]), _opt(div["ci"][1])),
        )


@dataclass(frozen=True)
class BudgetLaw:
    """How the boundary moves with the training budget at one size."""

    size: int
    points: tuple[Boundary, ...]
    fits: tuple[LawSummary, ...]
    best: str | None
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "points": [p.to_dict() for p in self.points],
            "fits": [f.to_dict() for f in self.fits],
            "best": self.best,
            "verdict": self.verdict,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BudgetLaw:
        return cls(
            size=int(data["size"]),
            points=tuple(Boundary.from_dict(p) for p in data["points"]),
            fits=tuple(LawSummary.from_dict(f) for f in data["fits"]),
            best=None if data["best"] is None else str(data["best"]),
            verdict=str(data["verdict"]),
        )


@dataclass(frozen=True)
class Candidate:
    """How one candidate order parameter marks the transition.

    ``location`` uses the boundary's own definition (the seed-averaged late value
    crossing half-way between its values at the two ends of the line), ``sharpness``
    the fraction of its change along the line that happens between two neighbouring
    sampled fractions, ``lead`` the median number of steps by which its own rise (half
    of its change) precedes the rise of generalisation in runs that generalise (positive
    = earlier), ``lead_runs`` how many runs that median is over.
    """

    observable: str
    location: float | None
    sharpness: float | None
    lead: float | None
    lead_runs: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "observable": self.observable,
            "location": self.location,
            "sharpness": self.sharpness,
            "lead": self.lead,
            "lead_runs": self.lead_runs,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Candidate:
        return cls(
            str(data["observable"]),
            _opt(data["location"]),
            _opt(data["sharpness"]),
            _opt(data["lead"]),
            int(data["lead_runs"]),
        )


@dataclass(frozen=True)
class StageTiming:
    """Wall and CPU seconds one stage took, and the runs it trained."""

    stage: str
    wall_s: float
    cpu_s: float
    runs: int

    def to_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "wall_s": self.wall_s, "cpu_s": self.cpu_s, "runs": self.runs}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StageTiming:
        return cls(
            str(data["stage"]), float(data["wall_s"]), float(data["cpu_s"]), int(data["runs"])
        )


@dataclass(frozen=True)
class MapRun:
    """One run of the map and its learning phase (Liu et al. 2022)."""

    run_id: str
    weight_decay: float
    train_fraction: float
    seed: int
    p: int
    memorisation_step: float | None
    generalisation_step: float | None
    phase: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "weight_decay": self.weight_decay,
            "train_fraction": self.train_fraction,
            "seed": self.seed,
            "p": self.p,
            "memorisation_step": self.memorisation_step,
            "generalisation_step": self.generalisation_step,
            "phase": self.phase,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MapRun:
        return cls(
            str(data["run_id"]),
            float(data["weight_decay"]),
            float(data["train_fraction"]),
            int(data["seed"]),
            int(data["p"]),
            _opt(data["memorisation_step"]),
            _opt(data["generalisation_step"]),
            str(data["phase"]),
        )


@dataclass(frozen=True)
class GrokkingStudyResult:
    """Everything the grokking study found (see :mod:`landaulab.study.grokking`)."""

    weight_decay: float
    steps: int
    sizes: tuple[int, ...]
    phases: tuple[tuple[str, int], ...]
    phase_map: tuple[tuple[float, float, str], ...]
    boundary: tuple[Boundary, ...]
    ensembles: tuple[ControlEnsemble, ...]
    free_energy: tuple[FreeEnergy, ...]
    orders: tuple[OrderVerdict, ...]
    budget: tuple[BudgetLaw, ...]
    ranking: tuple[Candidate, ...]
    verdict: str
    timings: tuple[StageTiming, ...] = field(default=())
    runs: tuple[MapRun, ...] = field(default=())

    def boundary_at(self, size: int, budget: int | None = None) -> Boundary | None:
        """The boundary at ``size`` and ``budget`` (default: the full budget)."""
        budget = self.steps if budget is None else budget
        for b in self.boundary:
            if b.size == size and b.budget == budget:
                return b
        return None

    @property
    def controls(self) -> tuple[float, ...]:
        """The ensemble's training fractions (all sizes together)."""
        return tuple(sorted({e.control for e in self.ensembles}))

    def to_dict(self) -> dict[str, Any]:
        return {
            "weight_decay": self.weight_decay,
            "steps": self.steps,
            "sizes": list(self.sizes),
            "phases": dict(self.phases),
            "phase_counts": [{"phase": k, "runs": v} for k, v in self.phases],
            "phase_map": [
                {"weight_decay": wd, "train_fraction": f, "phase": ph}
                for wd, f, ph in self.phase_map
            ],
            "boundary": [b.to_dict() for b in self.boundary],
            "boundary_ensemble": {
                "n_runs": sum(e.n for e in self.ensembles),
                "controls": list(self.controls),
                "sizes": list(self.sizes),
                "ensembles": [e.to_dict() for e in self.ensembles],
            },
            "free_energy": [f.to_dict() for f in self.free_energy],
            "orders": [o.to_dict() for o in self.orders],
            "budget_law": [b.to_dict() for b in self.budget],
            "ranking": [c.to_dict() for c in self.ranking],
            "verdict": self.verdict,
            "timings": [t.to_dict() for t in self.timings],
            "runs": [r.to_dict() for r in self.runs],
            # the grokking-time law of earlier versions: the budget law of the largest size
            "grokking_time": max(self.budget, key=lambda b: b.size).to_dict()
            if self.budget
            else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GrokkingStudyResult:
        return cls(
            weight_decay=float(data["weight_decay"]),
            steps=int(data["steps"]),
            sizes=tuple(int(s) for s in data["sizes"]),
            phases=tuple((str(c["phase"]), int(c["runs"])) for c in data["phase_counts"]),
            phase_map=tuple(
                (float(c["weight_decay"]), float(c["train_fraction"]), str(c["phase"]))
                for c in data["phase_map"]
            ),
            boundary=tuple(Boundary.from_dict(b) for b in data["boundary"]),
            ensembles=tuple(
                ControlEnsemble.from_dict(e) for e in data["boundary_ensemble"]["ensembles"]
            ),
            free_energy=tuple(FreeEnergy.from_dict(f) for f in data["free_energy"]),
            orders=tuple(OrderVerdict.from_dict(o) for o in data["orders"]),
            budget=tuple(BudgetLaw.from_dict(b) for b in data["budget_law"]),
            ranking=tuple(Candidate.from_dict(c) for c in data["ranking"]),
            verdict=str(data["verdict"]),
            timings=tuple(StageTiming.from_dict(t) for t in data.get("timings", ())),
            runs=tuple(MapRun.from_dict(r) for r in data.get("runs", ())),
        )
