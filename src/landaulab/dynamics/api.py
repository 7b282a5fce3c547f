"""``dynamics(frame, ...)``: the dynamical side of a Landau analysis in one call.

Runs every estimator of :mod:`landaulab.dynamics` on a tidy frame: drift and diffusion,
effective potential with attractors and barriers, a TDGL polynomial fit, the relaxation
time and its critical slowing down, escapes between attractors, sudden transitions and
their laws, plateaus and early-warning indicators — and states the evidence in sentences.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from landaulab.design import RULE, Binning, bins_to_dict
from landaulab.dynamics.early_warning import early_warning, summarize_early_warning
from landaulab.dynamics.escapes import escape_rates
from landaulab.dynamics.estimates import bounds_of, number, value_of
from landaulab.dynamics.evidence import narrate
from landaulab.dynamics.kramers_moyal import kramers_moyal
from landaulab.dynamics.laws import LawComparison, compare_laws
from landaulab.dynamics.plateaus import Plateau, PlateauScaling, detect_plateaus, plateau_scaling
from landaulab.dynamics.potential import EffectivePotential, effective_potential
from landaulab.dynamics.profile import run_profile
from landaulab.dynamics.relaxation import (
    RelaxationTime,
    SlowingDown,
    burn_in_from_late_fraction,
    critical_slowing_down,
    relaxation_from_drift,
    relaxation_time,
)
from landaulab.dynamics.result import ControlDynamics, DynamicsResult
from landaulab.dynamics.tdgl import fit_tdgl
from landaulab.dynamics.trajectories import Trajectories, prepare_trajectories
from landaulab.dynamics.transition_times import DEFAULT_METHOD, transition_times
from landaulab.errors import DataError
from landaulab.late_time import BURN_IN, check_burn_in


def _check_settings(n_bootstrap: int, seed: int, confidence: float, smoothing: float) -> None:
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int | np.integer):
        raise DataError(f"n_bootstrap must be an integer; got {n_bootstrap!r}")
    if n_bootstrap < 0 or n_bootstrap > 100_000:
        raise DataError(f"n_bootstrap must lie between 0 and 100000; got {n_bootstrap}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise DataError(f"seed must be a non-negative integer; got {seed!r}")
    if not (isinstance(confidence, float | int) and 0 < confidence < 1):
        raise DataError(f"confidence must lie strictly between 0 and 1; got {confidence!r}")
    if not (isinstance(smoothing, float | int) and 0 <= smoothing < 0.5):
        raise DataError(f"smoothing must lie in [0, 0.5); got {smoothing!r}")


def _auto_powers(trajectories: Trajectories) -> tuple[int, ...]:
    """Symmetric Landau form when m takes both signs, else a general quartic potential."""
    values = trajectories.value
    if values.size and values.min() < 0 < values.max():
        return (1, 3)
    return (0, 1, 2, 3)


def dynamics(
    frame: pd.DataFrame,
    *,
    order_parameter: str,
    time_col: str = "step",
    control: str | None = None,
    run_col: str = "run_id",
    n_bootstrap: int = 200,
    seed: int = 0,
    confidence: float = 0.95,
    finite_time_correction: bool = False,
    tdgl_powers: Sequence[int] | None = None,
    smoothing: float = 0.005,
    burn_in: float = BURN_IN,
    late_fraction: float | None = None,
    transition_method: str = DEFAULT_METHOD,
    transition_scale: float | None = None,
) -> DynamicsResult:
    """Analyse the dynamics of an order parameter in a tidy frame of training runs.

    Parameters
    ----------
    frame
        One row per (run, time); runs are never stitched together and the time column may
        be unevenly spaced.
    order_parameter
        Column holding the order parameter m.
    time_col
        Column holding time (step, epoch, seconds).
    control
        Optional control-parameter column (constant within each run); estimates are made
        per control value, or per equal-count bin of runs along the control when too few
        runs share a value (an irregular design, :mod:`landaulab.design`).
    run_col
        Column identifying runs.
    n_bootstrap
        Bootstrap replicates (over runs, or blocks of lone runs) for every interval.
    seed
        Seed of all resampling: the same input and seed give the same result.
    confidence
        Level of the intervals.
    finite_time_correction
        Richardson-extrapolate drift and diffusion to zero lag (for a sampled continuous
        process; leave off when every sample is one optimisation step).
    tdgl_powers
        Powers of m in the TDGL drift; by default ``(1, 3)`` when m takes both signs and
        ``(0, 1, 2, 3)`` otherwise.
    smoothing
        Smoothing width for change detection, as a fraction of each run's duration.
    burn_in
        Fraction of each run's logged time range dropped from its start before the
        autocorrelation relaxation time is measured (the one late-time definition of
        :mod:`landaulab.late_time`, as in ``analyze(burn_in=...)``).
    late_fraction
        Deprecated alias of ``1 - burn_in`` (a :class:`DeprecationWarning`).
    transition_method
        Detector of abrupt changes: ``"pelt"`` (PELT change points refined into logistic
        steps, :mod:`landaulab.dynamics.change_points`) or ``"rate"`` (peaks of the
        smoothed rate).
    transition_scale
        The order parameter's scale a main transition is measured against (e.g. 1 for an
        accuracy); by default its range across runs.

    Returns
    -------
    DynamicsResult
        Typed result; ``.to_dict()`` is the JSON of ``landaulab dynamics --json``.

    Raises
    ------
    DataError
        For a missing or non-numeric column, a control varying within a run, conflicting
        duplicate rows, no finite data, or invalid settings.
    """
    _check_settings(n_bootstrap, seed, confidence, smoothing)
    if late_fraction is not None:
        burn_in = burn_in_from_late_fraction(late_fraction)
    burn_in = check_burn_in(burn_in)
    late = float(late_fraction) if late_fraction is not None else 1.0 - burn_in
    trajectories = prepare_trajectories(
        frame, order_parameter=order_parameter, time_col=time_col, control=control, run_col=run_col
    )
    groups = trajectories.groups()
    streams = np.random.SeedSequence(int(seed)).spawn(len(groups) + 3)
    rngs = [np.random.default_rng(s) for s in streams]

    profiles = [
        run_profile(*trajectories.run(r), smoothing=smoothing) for r in range(trajectories.n_runs)
    ]
    transitions = transition_times(
        trajectories,
        smoothing=smoothing,
        n_bootstrap=n_bootstrap,
        seed=rngs[-1],
        confidence=confidence,
        profiles=profiles,
        method=transition_method,
        scale=transition_scale,
    )
    by_run: dict[object, list] = {}
    for t in transitions.transitions:
        by_run.setdefault(t.run, []).append(t)
    main_by_run = {t.run: t for t in transitions.main}

    plateaus: list[Plateau] = []
    for r, profile in enumerate(profiles):
        label = trajectories.run_ids[r]
        if profile is None:
            continue
        ctrl = None if control is None else float(trajectories.controls[r])
        plateaus += detect_plateaus(profile, by_run.get(label, []), run=label, control=ctrl)

    powers = tuple(tdgl_powers) if tdgl_powers is not None else _auto_powers(trajectories)
    per_control: list[ControlDynamics] = []
    for (value, runs), rng in zip(groups, rngs[: len(groups)], strict=True):
        sub = trajectories.subset(runs)
        km = kramers_moyal(
            sub,
            n_bootstrap=n_bootstrap,
            seed=rng,
            confidence=confidence,
            finite_time_correction=finite_time_correction,
        )
        potential = effective_potential(km)
        tdgl = fit_tdgl(
            sub, powers=powers, n_bootstrap=n_bootstrap, seed=rng, confidence=confidence
        )
        tau = _relaxation(sub, potential, burn_in, n_bootstrap, rng, confidence)
        escapes = (
            escape_rates(sub, potential, km, confidence=confidence)
            if len(potential.attractors) >= 2
            else ()
        )
        warnings_ = []
        for r in runs:
            label = trajectories.run_ids[r]
            main = main_by_run.get(label)
            if main is None:
                continue
            time, values = trajectories.run(r)
            warnings_.append(
                early_warning(time, values, until=main.start, run=label, control=value)
            )
        summary = summarize_early_warning(warnings_, control=value) if warnings_ else None
        per_control.append(
            ControlDynamics(
                control=value,
                n_runs=int(runs.size),
                n_samples=sub.n_samples,
                kramers_moyal=km,
                potential=potential,
                tdgl=tdgl,
                relaxation=tau,
                escapes=escapes,
                early_warning=summary,
            )
        )

    slowing: SlowingDown | None = None
    escape_laws: LawComparison | None = None
    scaling: PlateauScaling | None = None
    if control is not None:
        estimated = [cd for cd in per_control if cd.relaxation.estimated]
        slowing = critical_slowing_down(
            [number(cd.control) for cd in estimated],
            [value_of(cd.relaxation.tau) for cd in estimated],
            [bounds_of(cd.relaxation.tau)[0] for cd in estimated],
            [bounds_of(cd.relaxation.tau)[1] for cd in estimated],
            n_bootstrap=n_bootstrap,
            seed=rngs[-2],
            confidence=confidence,
        )
        escape_laws = _escape_laws(per_control, n_bootstrap, rngs[-3], confidence)
        scaling = _plateau_scaling(plateaus, n_bootstrap, rngs[-3], confidence)

    result_notes = list(trajectories.notes) + list(transitions.notes)
    evidence = narrate(
        per_control, transitions, plateaus, scaling, slowing, escape_laws, trajectories
    )
    binning = trajectories.binning()
    if binning is not None and binning.irregular:
        evidence.insert(0, _design_sentence(binning))
    return DynamicsResult(
        order_parameter=order_parameter,
        time_col=time_col,
        control_col=control,
        run_col=run_col,
        n_runs=trajectories.n_runs,
        n_samples=trajectories.n_samples,
        controls=tuple(per_control),
        transitions=transitions,
        plateaus=tuple(plateaus),
        plateau_scaling=scaling,
        slowing_down=slowing,
        escape_laws=escape_laws,
        evidence=tuple(evidence),
        notes=tuple(result_notes),
        design=_design(binning),
        settings={
            "n_bootstrap": int(n_bootstrap),
            "seed": int(seed),
            "confidence": float(confidence),
            "finite_time_correction": bool(finite_time_correction),
            "tdgl_powers": list(powers),
            "smoothing": float(smoothing),
            "late_fraction": late,
            "burn_in": burn_in,
        },
    )


def _design(binning: Binning | None) -> dict[str, Any] | None:
    """``design`` of the result: ``{"kind", "rule"(, "bins")}``; ``None`` without a
    control column."""
    if binning is None:
        return None
    out: dict[str, Any] = {"kind": binning.kind, "rule": RULE}
    if binning.irregular:
        out["bins"] = bins_to_dict(binning)
    return out


def _design_sentence(binning: Binning) -> str:
    return (
        "Irregular control design (too few runs share a control value to resample them): "
        "runs grouped into equal-count bins along the control, each bin at the mean "
        f"control of its runs: {binning.summary()}."
    )


#: The autocorrelation time is used when the late part of a run spans this many of it.
MIN_LATE_SPAN = 20.0


def _relaxation(
    sub: Trajectories,
    potential: EffectivePotential,
    burn_in: float,
    n_bootstrap: int,
    rng: np.random.Generator,
    confidence: float,
) -> RelaxationTime:
    """Autocorrelation time of late fluctuations when the runs are long enough for it.

    It needs stationary late parts spanning many relaxation times; otherwise (short runs,
    deterministic flows) the linear relaxation time at the attractor, from the drift, is
    the better estimate of the return after a perturbation.
    """
    from_drift = relaxation_from_drift(
        sub, potential, n_bootstrap=n_bootstrap, seed=rng, confidence=confidence
    )
    if potential.kind != "fokker_planck":
        return from_drift
    acf = relaxation_time(
        sub, burn_in=burn_in, n_bootstrap=n_bootstrap, seed=rng, confidence=confidence
    )
    tau = value_of(acf.tau)
    late_span = (1.0 - burn_in) * float(np.median(sub.durations()))
    if acf.estimated and late_span >= MIN_LATE_SPAN * tau:
        return acf
    if from_drift.estimated:
        why = (
            f"the late part of the runs spans {late_span / tau:.1f} autocorrelation times "
            f"(< {MIN_LATE_SPAN:g})"
            if acf.estimated
            else f"no autocorrelation time ({acf.reason})"
        )
        return replace(from_drift, note=f"{from_drift.note}; {why}")
    return acf


def _escape_laws(
    per_control: list[ControlDynamics],
    n_bootstrap: int,
    rng: np.random.Generator,
    confidence: float,
) -> LawComparison | None:
    """Laws of the mean residence time (all escapes pooled) across control values."""
    controls, times, errors = [], [], []
    for cd in per_control:
        count = sum(e.count for e in cd.escapes)
        exposure = sum(e.exposure for e in {(e.source): e for e in cd.escapes}.values())
        if count >= 2 and exposure > 0 and cd.control is not None:
            controls.append(cd.control)
            times.append(exposure / count)
            errors.append(1.0 / np.sqrt(count))
    if len(controls) < 3:
        return None
    return compare_laws(
        controls, times, log_errors=errors, n_bootstrap=n_bootstrap, seed=rng, confidence=confidence
    )


def _plateau_scaling(
    plateaus: list[Plateau], n_bootstrap: int, rng: np.random.Generator, confidence: float
) -> PlateauScaling | None:
    """Length of each run's longest non-final plateau against ``ln(1/control)``."""
    longest: dict[object, Plateau] = {}
    for p in plateaus:
        if p.final or p.control is None:
            continue
        if p.run not in longest or p.length > longest[p.run].length:
            longest[p.run] = p
    chosen = list(longest.values())
    if not chosen or any(p.control is None or p.control <= 0 for p in chosen):
        return None
    if len({p.control for p in chosen}) < 2:
        return None
    return plateau_scaling(
        [p.length for p in chosen],
        [number(p.control) for p in chosen],
        n_bootstrap=n_bootstrap,
        seed=rng,
        confidence=confidence,
    )
