"""``analyze``: the Landau analysis of a tidy table of runs, in one call.

The pipeline: validation and burn-in (:mod:`.frame`), ensemble moments per (control, size)
with bootstrap replicates over runs (:mod:`.ensemble`, :mod:`.bootstrap`), P(m) and the
Landau free energy (:mod:`.distribution`, :mod:`.landau`), per-size curves
(:mod:`.curves`), then the decisions, each in the module of its concept: the candidate
transition points (:mod:`.critical_point`), the order (:mod:`.order`, :mod:`.hysteresis`),
the headline critical point, the exponents and data collapse (:mod:`.exponents`,
:mod:`.collapse`), δ from a field scan (:mod:`.field`), universality
(:mod:`.universality`) and transitions in time (:mod:`.temporal`). Every step returns its
evidence and what it could not estimate; the pipeline concatenates them into the
:class:`~landaulab.analyze.result.AnalysisResult`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from landaulab.analyze.critical_point import LocatorContext, choose_critical_point
from landaulab.analyze.curves import build_curves, order_parameter_curve
from landaulab.analyze.distribution import build_histograms, is_symmetric, symmetry_findings
from landaulab.analyze.ensemble import build_ensemble, ensemble_table, resampling_findings
from landaulab.analyze.exponents import estimate_exponents
from landaulab.analyze.field import measure_delta
from landaulab.analyze.findings import Findings, gather
from landaulab.analyze.frame import (
    PreparedData,
    analysis_inputs,
)
from landaulab.analyze.hysteresis import detect_hysteresis
from landaulab.analyze.inputs import PreparedAnalysis, prepare_analysis
from landaulab.analyze.landau import GENERAL, SYMMETRIC, fit_free_energy
from landaulab.analyze.landau_result import landau_result
from landaulab.analyze.locators import find_critical_points, refine_critical_points
from landaulab.analyze.order import CoexistenceStep, coexistence_jumps, decide_order
from landaulab.analyze.result import AnalysisResult
from landaulab.analyze.temporal import temporal_step
from landaulab.analyze.universality import judge_universality
from landaulab.late_time import BURN_IN


def analyze(
    frame: pd.DataFrame,
    *,
    order_parameter: str,
    control: str,
    size: str | None = None,
    volume: str | None = None,
    run_col: str = "run_id",
    step_col: str = "step",
    burn_in: float = BURN_IN,
    use_abs: bool = False,
    direction_col: str | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
    energy: str | None = None,
    field: str | None = None,
) -> AnalysisResult:
    """Analyse a tidy table of runs in Landau's terms.

    Parameters
    ----------
    frame
        One row per (run, step); columns hold parameters and observables.
    order_parameter
        The order-parameter column m.
    control
        The control-parameter ("temperature") column: learning rate, weight decay, ...
    size
        The system-size column (width, L, N); None for a single size.
    volume
        The number of degrees of freedom used in χ = V·Var(m) and F = −log P(m)/V
        (defaults to the size, or 1 without a size).
    run_col, step_col
        Run identifier and step columns. Without a ``run_id`` column every row is its own
        run; without a ``step`` column rows are taken in table order.
    burn_in
        Fraction of each run's step range dropped before the ensemble averages.
    use_abs
        Use |m| (for Z₂-symmetric order parameters).
    direction_col
        Marks warm-started up/down sweeps (two values) for the hysteresis test.
    n_bootstrap
        Bootstrap replicates (resampling runs) for every confidence interval (≥ 10).
    seed
        Seed of the resampling; the same inputs and seed give the same result.
    energy
        An energy or loss column, whose jump is the analogue of latent heat (optional).
    field
        A field column (optional): rows at field 0 carry the transition; rows at non-zero
        field form a field scan whose critical isotherm m(T_c, h) ∝ h^(1/δ) gives δ.

    Returns
    -------
    AnalysisResult
        Order of the transition, critical point, exponents, Landau fits, universality and
        the evidence; ``.to_dict()`` gives the JSON contract.

    Raises
    ------
    DataError
        Missing or non-numeric columns, invalid settings, or no usable rows.

    Warns
    -----
    FewSamplesWarning
        Some (control, size) has fewer than 4 runs: blocks of steps were resampled there.
    FitWarning
        A fit failed and was dropped (Landau fits of sparse groups, the data collapse).
    """
    return analyze_prepared(
        prepare_analysis(
            frame,
            order_parameter=order_parameter,
            control=control,
            size=size,
            volume=volume,
            run_col=run_col,
            step_col=step_col,
            burn_in=burn_in,
            use_abs=use_abs,
            direction_col=direction_col,
            n_bootstrap=n_bootstrap,
            seed=seed,
            energy=energy,
            field=field,
        )
    )


def analyze_prepared(analysis: PreparedAnalysis) -> AnalysisResult:
    """The second half of :func:`analyze`: every step of the analysis of a prepared table."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return _pipeline(analysis.prepared, analysis.n_bootstrap, analysis.seed, analysis.scan)


def _pipeline(
    prepared: PreparedData,
    n_bootstrap: int,
    seed: int,
    scan: tuple[pd.DataFrame, str] | None = None,
) -> AnalysisResult:
    """Ensemble → steps → result; each step's evidence is concatenated in step order."""
    ensemble = build_ensemble(prepared, n_bootstrap, seed)
    symmetric = is_symmetric(ensemble.row_value, prepared.use_abs)
    histograms = build_histograms(ensemble, symmetric)
    polynomial = SYMMETRIC if symmetric else GENERAL
    fit = fit_free_energy(ensemble, histograms, polynomial)
    table = ensemble_table(ensemble)
    table["m_star"] = fit.m_star
    curves = build_curves(ensemble)
    context = LocatorContext.build(
        prepared,
        ensemble,
        histograms,
        fit,
        curves,
        symmetric,
        seed=seed,
        n_bootstrap=n_bootstrap,
    )

    search = find_critical_points(context)
    hysteresis = detect_hysteresis(prepared, n_bootstrap, seed)
    verdict = decide_order(prepared, ensemble, table, fit, curves, symmetric, search, hysteresis)
    order = verdict.order
    refined = refine_critical_points(search, context, order)
    headline = choose_critical_point(order, refined, prepared)
    exponents = estimate_exponents(prepared, order, curves, headline, refined, n_bootstrap, fit=fit)
    field_scan = measure_delta(
        scan, prepared, order, headline, exponents.exponents, n_bootstrap=n_bootstrap, seed=seed
    )
    final_exponents = field_scan.exponents or exponents.exponents
    universality = judge_universality(
        prepared,
        order,
        curves,
        symmetric,
        refined,
        headline,
        final_exponents.beta,
        final_exponents.gamma,
        exponents.hyperscaling,
        nu=final_exponents.nu,
        delta=final_exponents.delta,
    )
    coexistence = CoexistenceStep()
    if order == "first" and headline.located is not None:
        m, m_boot = order_parameter_curve(context.largest, prepared.use_abs, symmetric)
        at = headline.located.value
        coexistence = coexistence_jumps(prepared, ensemble, context.largest, m, m_boot, at)
    in_time = temporal_step(prepared)
    landau = landau_result(
        prepared,
        ensemble,
        fit,
        refined.valid_estimate("quadratic_coefficient_zero", prepared, order),
        refined.valid_estimate("equal_depth", prepared, order),
    )

    findings = gather(
        (
            Findings(evidence=prepared.notes),
            resampling_findings(ensemble),
            symmetry_findings(symmetric, prepared.use_abs),
            search,
            verdict,
            refined,
            headline,
            exponents,
            field_scan,
            coexistence,
            in_time,
            landau,
        )
    )
    inputs = analysis_inputs(
        prepared,
        field=scan[1] if scan is not None else None,
        n_bootstrap=n_bootstrap,
        seed=seed,
        symmetric=symmetric,
        landau_polynomial=str(polynomial),
    )
    return AnalysisResult(
        order=order,
        critical_point=headline.critical_point,
        critical_point_estimates=refined.estimates,
        exponents=final_exponents,
        landau=landau.result,
        universality=universality,
        evidence=findings.evidence,
        table=table,
        collapse=exponents.collapse,
        hysteresis=hysteresis,
        temporal=in_time.result,
        critical_isotherm=field_scan.isotherm,
        not_estimable=findings.not_estimable,
        inputs=inputs,
        jump=coexistence.jump,
        latent_heat=coexistence.latent_heat,
    )
