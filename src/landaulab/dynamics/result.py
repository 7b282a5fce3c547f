"""Result objects of :func:`landaulab.dynamics.dynamics` and their JSON contract.

``DynamicsResult.to_dict()`` is what ``landaulab dynamics --json`` writes. Its keys are
part of the public contract:

``attractors``
    ``[{"control", "position", "ci": [lo, hi], ...}]`` — stable zeros of the drift.
``relaxation_time``
    ``[{"control", "value", "ci": [lo, hi], "method", ...}]`` — in units of the time column.
``potential``
    ``[{"control", "grid", "values", "low", "high", "kind", ...}]`` per control value.
``transition_times``
    ``{"runs": [...], "by_control": [...], "laws": {...}, "budget", "notes"}``.
``plateaus``
    ``{"runs": [...], "scaling": {...}}``.
``evidence``
    Plain sentences behind every statement.

plus ``saddles``, ``barriers``, ``drift_diffusion``, ``tdgl``, ``critical_slowing_down``,
``escapes``, ``early_warning``, ``controls`` (runs and samples per control value),
``design`` (``{"kind": "grid"|"irregular", "rule", "bins"}``: how runs were grouped along
the control, :mod:`landaulab.design`; ``null`` without a control column), ``notes`` and
``settings``. Every number is finite or ``null``; an interval ``[lo, hi]``
has ``null`` for a bound that is not known (``[lo, null]`` is a lower bound only).

``DynamicsResult.from_dict(d)`` rebuilds the typed result from that JSON, with
``DynamicsResult.from_dict(r.to_dict()).to_dict() == r.to_dict()``; only the bootstrap
replicates of the drift and diffusion are not kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from landaulab.dynamics.early_warning import EarlyWarningSummary
from landaulab.dynamics.escapes import EscapeRate
from landaulab.dynamics.estimates import describe
from landaulab.dynamics.kramers_moyal import KramersMoyal
from landaulab.dynamics.laws import LawComparison
from landaulab.dynamics.plateaus import Plateau, PlateauScaling
from landaulab.dynamics.potential import EffectivePotential
from landaulab.dynamics.relaxation import RelaxationTime, SlowingDown
from landaulab.dynamics.tdgl import TDGLFit
from landaulab.dynamics.transition_times import TransitionTimes
from landaulab.estimate import finite
from landaulab.serialize import to_json


@dataclass(frozen=True, eq=False)
class ControlDynamics:
    """Everything estimated from the runs at one control value.

    Attributes
    ----------
    control
        The control value (``None`` without a control column).
    n_runs, n_samples
        Data at this control value.
    kramers_moyal
        Drift and diffusion.
    potential
        Effective potential, attractors, saddles and barriers.
    tdgl
        Polynomial drift fit.
    relaxation
        Relaxation time.
    escapes
        Escape rates between attractors (empty with fewer than two).
    early_warning
        Early-warning trends before the runs' transitions (``None`` without transitions).
    """

    control: float | None
    n_runs: int
    n_samples: int
    kramers_moyal: KramersMoyal
    potential: EffectivePotential
    tdgl: TDGLFit
    relaxation: RelaxationTime
    escapes: tuple[EscapeRate, ...] = ()
    early_warning: EarlyWarningSummary | None = None

    @property
    def label(self) -> str:
        """``"control 0.3"`` or ``"all runs"``."""
        return "all runs" if self.control is None else f"control {self.control:.4g}"


@dataclass(frozen=True, eq=False)
class DynamicsResult:
    """Result of :func:`landaulab.dynamics.dynamics`.

    Attributes
    ----------
    order_parameter, time_col, control_col, run_col
        The columns analysed.
    n_runs, n_samples
        Data analysed (after dropping unusable rows).
    controls
        Per-control estimates, sorted by control value.
    transitions
        Sudden changes per run and their laws.
    plateaus
        Plateaus of every run.
    plateau_scaling
        Plateau length against ``ln(1/control)`` (``None`` when not applicable).
    slowing_down
        Divergence of the relaxation time (``None`` without a control column).
    escape_laws
        Laws fitted to the mean escape time across control values (``None`` if none).
    evidence
        Sentences stating what was found and on what evidence.
    notes
        Sentences on what was dropped or could not be estimated.
    settings
        Bootstrap size, seed, confidence and method settings.
    design
        How runs were grouped along the control: ``{"kind", "rule"}``, with ``"bins"``
        (``{"low", "high", "control", "n_runs"}`` each) for an irregular design; ``None``
        without a control column.
    """

    order_parameter: str
    time_col: str
    control_col: str | None
    run_col: str
    n_runs: int
    n_samples: int
    controls: tuple[ControlDynamics, ...]
    transitions: TransitionTimes
    plateaus: tuple[Plateau, ...]
    plateau_scaling: PlateauScaling | None
    slowing_down: SlowingDown | None
    escape_laws: LawComparison | None
    evidence: tuple[str, ...]
    notes: tuple[str, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)
    design: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract (see the module docstring); JSON-safe, no NaN."""

        def tagged(cd: ControlDynamics, payload: dict[str, Any]) -> dict[str, Any]:
            return {"control": to_json(cd.control), **payload}

        attractors, saddles, barriers = [], [], []
        for cd in self.controls:
            attractors += [tagged(cd, a.to_dict()) for a in cd.potential.attractors]
            saddles += [tagged(cd, s.to_dict()) for s in cd.potential.saddles]
            barriers += [tagged(cd, b.to_dict()) for b in cd.potential.barriers]
        potential = []
        for cd in self.controls:
            p = cd.potential.to_dict()
            for key in ("attractors", "saddles", "barriers"):
                p.pop(key)
            potential.append(tagged(cd, p))
        return {
            "order_parameter": self.order_parameter,
            "time_col": self.time_col,
            "control": self.control_col,
            "run_col": self.run_col,
            "n_runs": self.n_runs,
            "n_samples": self.n_samples,
            "attractors": attractors,
            "saddles": saddles,
            "barriers": barriers,
            "relaxation_time": [tagged(cd, cd.relaxation.to_dict()) for cd in self.controls],
            "potential": potential,
            "drift_diffusion": [tagged(cd, cd.kramers_moyal.to_dict()) for cd in self.controls],
            "tdgl": [tagged(cd, cd.tdgl.to_dict()) for cd in self.controls],
            "critical_slowing_down": (
                self.slowing_down.to_dict() if self.slowing_down is not None else None
            ),
            "escapes": {
                "rates": [tagged(cd, e.to_dict()) for cd in self.controls for e in cd.escapes],
                "laws": self.escape_laws.to_dict() if self.escape_laws is not None else None,
            },
            "early_warning": [
                cd.early_warning.to_dict() for cd in self.controls if cd.early_warning is not None
            ],
            "transition_times": self.transitions.to_dict(),
            "plateaus": {
                "runs": [p.to_dict() for p in self.plateaus],
                "scaling": (
                    self.plateau_scaling.to_dict() if self.plateau_scaling is not None else None
                ),
            },
            "evidence": list(self.evidence),
            "notes": list(self.notes),
            "settings": to_json(self.settings),
            "controls": [
                {"control": to_json(cd.control), "n_runs": cd.n_runs, "n_samples": cd.n_samples}
                for cd in self.controls
            ],
            "design": to_json(dict(self.design)) if self.design is not None else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DynamicsResult:
        """The typed result from its JSON (:meth:`to_dict`).

        Estimates tagged with a control value are gathered into one
        :class:`ControlDynamics` per entry of ``"controls"`` (or of ``"potential"`` for
        JSON written before that key existed).
        """

        def rows(value: Any) -> list[Mapping[str, Any]]:
            return [r for r in value or () if isinstance(r, Mapping)]

        def at(items: list[Mapping[str, Any]], control: Any) -> list[Mapping[str, Any]]:
            return [item for item in items if item.get("control") == control]

        def first(items: list[Mapping[str, Any]], control: Any) -> Mapping[str, Any]:
            found = at(items, control)
            return found[0] if found else {}

        potentials = rows(data.get("potential"))
        listed = rows(data.get("controls")) or [
            {"control": p.get("control"), "n_runs": 0, "n_samples": 0} for p in potentials
        ]
        attractors, saddles = rows(data.get("attractors")), rows(data.get("saddles"))
        barriers, relaxation = rows(data.get("barriers")), rows(data.get("relaxation_time"))
        drift, tdgl = rows(data.get("drift_diffusion")), rows(data.get("tdgl"))
        escapes = data.get("escapes") or {}
        rates, warnings = rows(escapes.get("rates")), rows(data.get("early_warning"))
        controls = []
        for entry in listed:
            control = entry.get("control")
            potential = {
                **first(potentials, control),
                "attractors": at(attractors, control),
                "saddles": at(saddles, control),
                "barriers": at(barriers, control),
            }
            warning = at(warnings, control)
            controls.append(
                ControlDynamics(
                    control=finite(control),
                    n_runs=int(entry.get("n_runs") or 0),
                    n_samples=int(entry.get("n_samples") or 0),
                    kramers_moyal=KramersMoyal.from_dict(first(drift, control)),
                    potential=EffectivePotential.from_dict(potential),
                    tdgl=TDGLFit.from_dict(first(tdgl, control)),
                    relaxation=RelaxationTime.from_dict(first(relaxation, control)),
                    escapes=tuple(EscapeRate.from_dict(e) for e in at(rates, control)),
                    early_warning=(EarlyWarningSummary.from_dict(warning[0]) if warning else None),
                )
            )
        plateaus = data.get("plateaus") or {}
        slowing, laws = data.get("critical_slowing_down"), escapes.get("laws")
        scaling = plateaus.get("scaling")
        return cls(
            order_parameter=str(data.get("order_parameter")),
            time_col=str(data.get("time_col")),
            control_col=data.get("control"),
            run_col=str(data.get("run_col")),
            n_runs=int(data.get("n_runs") or 0),
            n_samples=int(data.get("n_samples") or 0),
            controls=tuple(controls),
            transitions=TransitionTimes.from_dict(data.get("transition_times") or {}),
            plateaus=tuple(Plateau.from_dict(p) for p in rows(plateaus.get("runs"))),
            plateau_scaling=PlateauScaling.from_dict(scaling) if scaling is not None else None,
            slowing_down=SlowingDown.from_dict(slowing) if slowing is not None else None,
            escape_laws=LawComparison.from_dict(laws) if laws is not None else None,
            evidence=tuple(data.get("evidence") or ()),
            notes=tuple(data.get("notes") or ()),
            settings=dict(data.get("settings") or {}),
            design=dict(data["design"]) if data.get("design") is not None else None,
        )

    def __str__(self) -> str:
        head = (
            f"Dynamics of {self.order_parameter!r} over {self.time_col!r}: {self.n_runs} runs, "
            f"{self.n_samples} samples"
            + (f", control {self.control_col!r}" if self.control_col else "")
        )
        lines = [head]
        for cd in self.controls:
            parts = [f"attractor {describe(a.position)}" for a in cd.potential.attractors]
            parts += [f"saddle {describe(s.position)}" for s in cd.potential.saddles]
            tau = cd.relaxation
            parts.append(f"tau {describe(tau.tau)}" if tau.estimated else "tau n/a")
            lines.append(f"  {cd.label} ({cd.n_runs} runs): " + "; ".join(parts))
        lines.append("Evidence:")
        lines += [f"  - {sentence}" for sentence in self.evidence]
        if self.notes:
            lines.append("Notes:")
            lines += [f"  - {note}" for note in self.notes]
        return "\n".join(lines)
