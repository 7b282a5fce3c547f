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
``escapes``, ``early_warning`` and ``notes``. Every number is finite or ``null``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from landaulab.dynamics._serialize import format_value, json_label
from landaulab.dynamics.early_warning import EarlyWarningSummary
from landaulab.dynamics.escapes import EscapeRate
from landaulab.dynamics.kramers_moyal import KramersMoyal
from landaulab.dynamics.laws import LawComparison
from landaulab.dynamics.plateaus import Plateau, PlateauScaling
from landaulab.dynamics.potential import EffectivePotential
from landaulab.dynamics.relaxation import RelaxationTime, SlowingDown
from landaulab.dynamics.tdgl import TDGLFit
from landaulab.dynamics.transition_times import TransitionTimes


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

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract (see the module docstring); JSON-safe, no NaN."""

        def tagged(cd: ControlDynamics, payload: dict[str, Any]) -> dict[str, Any]:
            return {"control": json_label(cd.control), **payload}

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
            "settings": dict(self.settings),
        }

    def __str__(self) -> str:
        head = (
            f"Dynamics of {self.order_parameter!r} over {self.time_col!r}: {self.n_runs} runs, "
            f"{self.n_samples} samples"
            + (f", control {self.control_col!r}" if self.control_col else "")
        )
        lines = [head]
        for cd in self.controls:
            parts = [
                f"attractor {format_value(a.position, a.low, a.high)}"
                for a in cd.potential.attractors
            ]
            parts += [
                f"saddle {format_value(s.position, s.low, s.high)}" for s in cd.potential.saddles
            ]
            tau = cd.relaxation
            parts.append(
                f"tau {format_value(tau.value, tau.low, tau.high)}" if tau.estimated else "tau n/a"
            )
            lines.append(f"  {cd.label} ({cd.n_runs} runs): " + "; ".join(parts))
        lines.append("Evidence:")
        lines += [f"  - {sentence}" for sentence in self.evidence]
        if self.notes:
            lines.append("Notes:")
            lines += [f"  - {note}" for note in self.notes]
        return "\n".join(lines)
