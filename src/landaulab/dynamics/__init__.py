"""The dynamical side of a Landau analysis: how an order parameter moves during training.

Time-dependent Landau theory (model A) reads ``dm/dt = -Gamma dF/dm + noise``. From
trajectories of an order parameter across runs this package estimates the drift and
diffusion, the effective potential with its attractors, saddles and barriers, a TDGL
polynomial fit, relaxation times and critical slowing down, escapes between attractors,
sudden transitions and the laws of their timing, plateaus, and early-warning indicators.
It works on plain tidy tables and never imports torch.

The one-call entry point is :func:`dynamics`; the pieces are importable on their own.
"""

from landaulab.dynamics.api import dynamics
from landaulab.dynamics.early_warning import (
    EarlyWarning,
    EarlyWarningSummary,
    early_warning,
    rolling_indicators,
    summarize_early_warning,
)
from landaulab.dynamics.escapes import EscapeRate, escape_rates
from landaulab.dynamics.estimates import OneSidedEstimate
from landaulab.dynamics.kramers_moyal import KramersMoyal, kramers_moyal, silverman_bandwidth
from landaulab.dynamics.laws import LawComparison, LawFit, compare_laws
from landaulab.dynamics.plateaus import Plateau, PlateauScaling, detect_plateaus, plateau_scaling
from landaulab.dynamics.potential import (
    Barrier,
    EffectivePotential,
    FixedPoint,
    effective_potential,
    first_passage_time,
)
from landaulab.dynamics.profile import RunProfile, run_profile
from landaulab.dynamics.relaxation import (
    RelaxationTime,
    SlowingDown,
    critical_slowing_down,
    relaxation_from_drift,
    relaxation_time,
)
from landaulab.dynamics.result import ControlDynamics, DynamicsResult
from landaulab.dynamics.tdgl import TDGLFit, fit_tdgl
from landaulab.dynamics.trajectories import Increments, Trajectories, prepare_trajectories
from landaulab.dynamics.transition_times import (
    ControlTransitionTimes,
    Transition,
    TransitionTimes,
    detect_transitions,
    main_transition,
    transition_times,
)

__all__ = [
    "Barrier",
    "ControlDynamics",
    "ControlTransitionTimes",
    "DynamicsResult",
    "EarlyWarning",
    "EarlyWarningSummary",
    "EffectivePotential",
    "EscapeRate",
    "FixedPoint",
    "Increments",
    "KramersMoyal",
    "LawComparison",
    "LawFit",
    "OneSidedEstimate",
    "Plateau",
    "PlateauScaling",
    "RelaxationTime",
    "RunProfile",
    "SlowingDown",
    "TDGLFit",
    "Trajectories",
    "Transition",
    "TransitionTimes",
    "compare_laws",
    "critical_slowing_down",
    "detect_plateaus",
    "detect_transitions",
    "dynamics",
    "early_warning",
    "effective_potential",
    "escape_rates",
    "first_passage_time",
    "fit_tdgl",
    "kramers_moyal",
    "main_transition",
    "plateau_scaling",
    "prepare_trajectories",
    "relaxation_from_drift",
    "relaxation_time",
    "rolling_indicators",
    "run_profile",
    "silverman_bandwidth",
    "summarize_early_warning",
    "transition_times",
]
