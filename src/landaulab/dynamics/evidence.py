"""Evidence sentences: what the dynamics analysis found, and on what grounds, in words."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from landaulab.dynamics.estimates import describe, value_of
from landaulab.dynamics.laws import LawComparison
from landaulab.dynamics.plateaus import Plateau, PlateauScaling
from landaulab.dynamics.relaxation import SlowingDown
from landaulab.dynamics.trajectories import Trajectories
from landaulab.dynamics.transition_times import TransitionTimes

if TYPE_CHECKING:
    from landaulab.dynamics.result import ControlDynamics

#: |D1'| dt above this: one-sample increments under-resolve the relaxation.
COARSE_SAMPLING = 0.1


def _control_sentences(cd: ControlDynamics) -> list[str]:
    where = f"At {cd.label}"
    km, pot = cd.kramers_moyal, cd.potential
    out: list[str] = []
    if not km.estimable:
        return [f"{where}: drift and diffusion could not be estimated ({km.reason})."]
    units = "units of the noise" if pot.kind == "fokker_planck" else "units of the drift potential"
    if pot.attractors:
        listed = ", ".join(
            f"m = {describe(a.position)}" + (" (approached from one side)" if a.one_sided else "")
            for a in pot.attractors
        )
        noun = "attractor" if len(pot.attractors) == 1 else f"{len(pot.attractors)} attractors"
        out.append(f"{where}: {noun} at {listed} (stable zeros of the drift).")
    else:
        out.append(f"{where}: {'; '.join(pot.notes) or 'no attractor found'}.")
    for s in pot.saddles:
        out.append(f"{where}: saddle (unstable zero of the drift) at m = {describe(s.position)}.")
    for b in pot.barriers:
        out.append(
            f"{where}: barrier of {describe(b.height)} ({units}) from the attractor at "
            f"{b.attractor:.4g} to the saddle at {b.saddle:.4g}."
        )
    for e in cd.escapes:
        observed = f"mean time {describe(e.mean_time_estimate)}" if e.count else "none observed"
        forecast = describe(e.predicted_time)
        predicted = (
            f"; the drift and diffusion predict {forecast}"
            if np.isfinite(value_of(e.predicted_time))
            else ""
        )
        out.append(
            f"{where}: {e.count} escapes from {e.source:.4g} to {e.target:.4g} in a time of "
            f"{e.exposure:.4g}, {observed}{predicted}."
        )
    slopes = [abs(a.slope) for a in pot.attractors if np.isfinite(a.slope)]
    if slopes and max(slopes) * km.time_step > COARSE_SAMPLING and not km.finite_time_correction:
        out.append(
            f"{where}: the sampling interval ({km.time_step:.4g}) is not short against the "
            f"relaxation at the attractors (|D1'|·dt = {max(slopes) * km.time_step:.2g}); if the "
            f"samples are a thinned continuous process, rerun with finite_time_correction=True."
        )
    if cd.tdgl.fitted:
        terms = ", ".join(
            f"c{p} = {describe(c)}"
            for p, c in zip(cd.tdgl.powers, cd.tdgl.coefficients, strict=True)
        )
        out.append(
            f"{where}: TDGL fit {cd.tdgl.form()}: {terms}; residual noise D = {cd.tdgl.noise:.4g}."
        )
    tau = cd.relaxation
    if tau.estimated:
        out.append(f"{where}: relaxation time {describe(tau.tau)} ({tau.method}).")
    else:
        out.append(f"{where}: relaxation time not estimated ({tau.reason}).")
    ew = cd.early_warning
    if ew is not None and ew.n_runs:
        out.append(
            f"{where}: before the transition the variance rose in {ew.variance_rising} of "
            f"{ew.n_runs} runs (mean Kendall tau {value_of(ew.variance_mean):.2f}, sign test p = "
            f"{ew.variance_p:.2g}) and the lag-1 autocorrelation in {ew.autocorrelation_rising} "
            f"(mean tau {value_of(ew.autocorrelation_mean):.2f}, p = {ew.autocorrelation_p:.2g})."
        )
    return out


def _law_sentence(subject: str, laws: LawComparison) -> list[str]:
    best = laws.best
    if best is None:
        return [f"{subject}: {laws.verdict}."]
    out = [f"{subject}: {laws.verdict}."]
    pars = ", ".join(f"{k} = {describe(v)}" for k, v in best.parameters.items())
    out.append(f"{subject}, {best.law} law {best.formula}: {pars}.")
    if best.law == "power" and np.isfinite(value_of(best.divergence)):
        where = describe(best.divergence)
        out.append(f"{subject} diverges at control {where} according to the power law.")
    if np.isfinite(value_of(best.budget_control)) and np.isfinite(laws.budget):
        out.append(
            f"{subject} reaches the budget of {laws.budget:.4g} at control "
            f"{describe(best.budget_control)} ({best.law} law)."
        )
    return out


def narrate(
    per_control: Sequence[ControlDynamics],
    transitions: TransitionTimes,
    plateaus: Sequence[Plateau],
    scaling: PlateauScaling | None,
    slowing: SlowingDown | None,
    escape_laws: LawComparison | None,
    trajectories: Trajectories,
) -> list[str]:
    """Sentences summarising the analysis, each with its numbers and intervals."""
    out: list[str] = []
    for cd in per_control:
        out += _control_sentences(cd)
    if slowing is not None:
        if slowing.reason is None:
            out.append(
                f"Critical slowing down: tau ~ |c - c0|^(-z nu) with c0 = "
                f"{describe(slowing.critical_point)} and z nu = "
                f"{describe(slowing.exponent)}"
                + (f" ({slowing.note})" if slowing.note else "")
                + "."
            )
        else:
            out.append(f"Critical slowing down not fitted: {slowing.reason}.")
    if escape_laws is not None:
        out += _law_sentence("Mean escape time", escape_laws)
    n_with = len(transitions.main)
    if n_with:
        out.append(
            f"{n_with} of {trajectories.n_runs} runs show a sudden change "
            f"({len(transitions.transitions)} in all)."
        )
        early = sum(t.censored_start for t in transitions.transitions)
        late = sum(t.censored_end for t in transitions.transitions)
        if early or late:
            out.append(
                f"{early} change(s) began at or before the first logged sample (onset "
                f"censored at the start) and {late} had not ended by the last one."
            )
        for c in transitions.by_control:
            if c.n_with_transition:
                label = "all runs" if c.control is None else f"control {c.control:.4g}"
                censored = (
                    f"; {c.n_runs - c.n_with_transition} run(s) without one (longer than "
                    f"{c.censored_at:.4g})"
                    if c.n_with_transition < c.n_runs and np.isfinite(c.censored_at)
                    else ""
                )
                out.append(
                    f"At {label}: median transition time {describe(c.median)} "
                    f"({c.n_with_transition} of {c.n_runs} runs){censored}."
                )
        if transitions.laws is not None:
            out += _law_sentence("Transition time", transitions.laws)
    else:
        out.append("No run shows a sudden change of the order parameter.")
    real = [p for p in plateaus if not p.final]
    if real:
        lengths = np.array([p.length for p in real])
        levels = np.array([p.level for p in real])
        out.append(
            f"{len(real)} plateau(s) before a later change: median length "
            f"{np.median(lengths):.4g}, levels from {levels.min():.4g} to {levels.max():.4g}."
        )
    if scaling is not None:
        if scaling.reason is None:
            out.append(
                f"Plateau length grows by {describe(scaling.slope)} per "
                f"unit of ln(1/control) (length = A + B ln(1/control), {scaling.n_runs} runs)."
            )
        else:
            out.append(f"Plateau scaling not fitted: {scaling.reason}.")
    return out
