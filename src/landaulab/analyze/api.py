"""``analyze``: the Landau analysis of a tidy table of runs, in one call.

The stages, each in its own module: validation and burn-in (:mod:`.frame`), ensemble
moments per (control, size) with bootstrap replicates over runs (:mod:`.ensemble`,
:mod:`.bootstrap`), P(m) and the Landau free energy (:mod:`.distribution`, :mod:`.landau`),
the transition point (:mod:`.critical_point`), its order (:mod:`.order`,
:mod:`.hysteresis`), exponents and data collapse (:mod:`.exponents`, :mod:`.collapse`),
universality (:mod:`.universality`) and transitions in time (:mod:`.temporal`).
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from landaulab.analyze.bootstrap import standard_error
from landaulab.analyze.collapse import CollapseData, fit_collapse
from landaulab.analyze.critical_point import (
    Located,
    binder_crossing,
    largest_jump,
    sign_change,
    susceptibility_peak,
    vanishing_point,
)
from landaulab.analyze.distribution import Histograms, build_histograms, is_symmetric
from landaulab.analyze.ensemble import Ensemble, build_ensemble, ensemble_table
from landaulab.analyze.exponents import direct_power_law, loglog_slope, value_at
from landaulab.analyze.field import critical_isotherm, split_field
from landaulab.analyze.frame import ColumnSpec, PreparedData, as_table, prepare
from landaulab.analyze.hysteresis import detect_hysteresis
from landaulab.analyze.landau import GENERAL, SYMMETRIC, FreeEnergyFit, fit_free_energy
from landaulab.analyze.order import (
    TransitionSignals,
    binder_dip_sentence,
    classify,
    coexistence_sentence,
)
from landaulab.analyze.result import (
    AnalysisResult,
    CollapseResult,
    CriticalPoint,
    Estimate,
    Exponents,
    LandauResult,
)
from landaulab.analyze.temporal import transitions_in_time
from landaulab.analyze.universality import ginzburg_window, judge
from landaulab.errors import DataError

#: Most bootstrap replicates refitted by the (costlier) data collapse.
MAX_COLLAPSE_REPLICATES = 200
#: β below every common universality class (2D four-state Potts: 1/12): a jump.
SMALLEST_BETA = 0.05
#: Finite-size scaling uses at most this many of the largest sizes.
FSS_SIZES = 3


def gaussian_binder(z: float) -> float:
    """Binder cumulant of a Gaussian peak of |m| whose mean lies ``z`` standard deviations
    from zero: U = 1 − (1 + 6/z² + 3/z⁴) / (3 (1 + 1/z²)²) (2/3 for z → ∞).

    Binder is invariant under m → −m, so the same threshold serves signed and |m| data.
    """
    return 1.0 - (1.0 + 6.0 / z**2 + 3.0 / z**4) / (3.0 * (1.0 + 1.0 / z**2) ** 2)


#: Clearly ordered: P(m) a peak at least 4 standard deviations from zero (U > 0.59), so
#: that its Gaussian tail puts fewer than one in 10⁴ samples (a large ensemble) at zero.
ORDERED_BINDER = gaussian_binder(4.0)
#: Unambiguously ordered: at least 5 standard deviations from zero (U > 0.62); a
#: susceptibility peak there is not a critical fluctuation peak.
DEEPLY_ORDERED_BINDER = gaussian_binder(5.0)


@dataclass(frozen=True, eq=False)
class _Curves:
    """Per-size arrays over control (internal units), data and replicates."""

    size: float
    volume: float
    index: np.ndarray
    t: np.ndarray
    chi: np.ndarray
    chi_boot: np.ndarray
    binder: np.ndarray
    binder_boot: np.ndarray
    rms: np.ndarray
    rms_boot: np.ndarray
    mean: np.ndarray
    mean_boot: np.ndarray
    m2: np.ndarray
    m2_boot: np.ndarray
    variance: np.ndarray  # Var(m) of the data (χ divides it by each group's volume)


def analyze(
    frame: pd.DataFrame,
    *,
    order_parameter: str,
    control: str,
    size: str | None = None,
    volume: str | None = None,
    run_col: str = "run_id",
    step_col: str = "step",
    burn_in: float = 0.5,
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
    """
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int | np.integer):
        raise DataError(f"n_bootstrap must be an integer >= 10; got {n_bootstrap!r}")
    if n_bootstrap < 10:
        raise DataError(f"n_bootstrap must be at least 10; got {n_bootstrap}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise DataError(f"seed must be a non-negative integer; got {seed!r}")
    columns = ColumnSpec(
        order_parameter=order_parameter,
        control=control,
        size=size,
        volume=volume,
        run=run_col,
        step=step_col,
        direction=direction_col,
        energy=energy,
    )
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        scan = None
        if field is not None:
            frame, field_rows = split_field(as_table(frame), field)
            scan = (field_rows, field)
        prepared = prepare(frame, columns, burn_in=burn_in, use_abs=use_abs)
        return _analyze(prepared, int(n_bootstrap), int(seed), scan)


def _curves(ensemble: Ensemble, size: float) -> _Curves:
    index = ensemble.size_groups(size)
    full, boot = ensemble.full, ensemble.boot
    return _Curves(
        size=float(size),
        volume=float(np.mean(ensemble.group_volume[index])),
        index=index,
        t=ensemble.group_control[index],
        chi=ensemble.susceptibility(full, index),
        chi_boot=ensemble.susceptibility(boot, index),
        binder=full.binder()[index],
        binder_boot=boot.binder()[:, index],
        rms=full.rms()[index],
        rms_boot=boot.rms()[:, index],
        mean=full.mean()[index],
        mean_boot=boot.mean()[:, index],
        m2=full.m2[index],
        m2_boot=boot.m2[:, index],
        variance=full.variance()[index],
    )


def _critical_point(prepared: PreparedData, located: Located, detail: str) -> CriticalPoint:
    estimate = Estimate.from_replicates(
        float(prepared.to_control(located.value)), prepared.to_control(located.replicates)
    )
    value = estimate.value if estimate else None
    ci = estimate.ci if estimate else None
    if value is not None and located.resolution is not None:
        # a grid-located estimate is no sharper than the grid cell it lies in
        cell = sorted(float(prepared.to_control(x)) for x in located.resolution)
        ci = (min(ci[0], cell[0]), max(ci[1], cell[1])) if ci is not None else tuple(cell)
    return CriticalPoint(value=value, ci=ci, method=located.method, detail=detail)


def _analyze(
    prepared: PreparedData,
    n_bootstrap: int,
    seed: int,
    scan: tuple[pd.DataFrame, str] | None = None,
) -> AnalysisResult:
    evidence: list[str] = list(prepared.notes)
    not_estimable: dict[str, str] = {}
    ensemble = build_ensemble(prepared, n_bootstrap, seed)
    if ensemble.blocked:
        evidence.append(
            "Fewer than 4 runs at some (control, size): contiguous blocks of steps were "
            "resampled instead of runs there (assumes blocks longer than the autocorrelation "
            "time)."
        )
    symmetric = is_symmetric(ensemble.row_value, prepared.use_abs)
    if symmetric and not prepared.use_abs:
        evidence.append(
            "m takes both signs with similar weight (Z₂-symmetric); pass use_abs=True "
            "(--abs) for the susceptibility peak of |m|."
        )
    histograms = build_histograms(ensemble, symmetric)
    polynomial = SYMMETRIC if symmetric else GENERAL
    fit = fit_free_energy(ensemble, histograms, polynomial)
    table = ensemble_table(ensemble)
    table["m_star"] = fit.m_star

    sizes = ensemble.sizes
    curves = {float(s): _curves(ensemble, s) for s in sizes}
    largest = curves[float(sizes[-1])]
    n_controls = int(largest.t.size)
    ordered_below = _ordered_below(largest)

    estimates: list[CriticalPoint] = []
    located: dict[str, Located] = {}
    peaks: dict[float, Located] = {}
    for s, c in curves.items():
        peak, _ = susceptibility_peak(c.t, c.chi, c.chi_boot)
        if peak is not None:
            peaks[s] = peak
            estimates.append(_critical_point(prepared, peak, f"size {s:.6g}"))
    details: dict[str, str] = {}
    if float(sizes[-1]) in peaks:
        located["susceptibility_peak"] = peaks[float(sizes[-1])]
        details["susceptibility_peak"] = f"size {sizes[-1]:.6g}"
    crossings: list[tuple[float, float, Located]] = []
    for small, large in itertools.pairwise(sizes):
        a, b = curves[float(small)], curves[float(large)]
        common, ia, ib = np.intersect1d(a.t, b.t, return_indices=True)
        if common.size < 2:
            continue
        crossing = binder_crossing(
            common,
            a.binder[ia],
            b.binder[ib],
            a.binder_boot[:, ia],
            b.binder_boot[:, ib],
            ordered_below,
        )
        if crossing is not None:
            crossings.append((float(small), float(large), crossing))
            estimates.append(
                _critical_point(prepared, crossing, f"sizes {small:.6g} and {large:.6g}")
            )
    if crossings:
        located["binder_crossing"] = crossings[-1][2]
        details["binder_crossing"] = f"sizes {crossings[-1][0]:.6g} and {crossings[-1][1]:.6g}"
        missing = float(np.mean(~np.isfinite(crossings[-1][2].replicates)))
        if missing > 0.2:
            evidence.append(
                f"The Binder crossing is fragile: {missing:.0%} of bootstrap replicates show no "
                "crossing near it (its interval uses the others)."
            )
    a2 = fit.term_index("a2")
    quadratic_zero = None
    if a2 is not None:
        zero = sign_change(
            largest.t,
            fit.internal[largest.index, a2],
            fit.replicates[:, largest.index, a2],
            ordered_below,
            method="quadratic_coefficient_zero",
        )
        if zero is not None and not _samples_zero(histograms, largest, zero.value):
            evidence.append(
                f"The fitted a₂ changes sign near {prepared.to_control(zero.value):.4g}, but "
                "the ensembles on either side never visit m ≈ 0: a₂ (the curvature of F at "
                "m = 0) is extrapolated there, so its zero is not used to locate T_c."
            )
            zero = None
        if zero is not None:
            located["quadratic_coefficient_zero"] = zero
            details["quadratic_coefficient_zero"] = f"size {largest.size:.6g}"
            quadratic_zero = _critical_point(prepared, zero, f"size {largest.size:.6g}")
            estimates.append(quadratic_zero)
    depth = sign_change(
        largest.t,
        fit.depth_difference[largest.index],
        fit.depth_difference_replicates[:, largest.index],
        ordered_below,
        method="equal_depth",
        window=1,
    )
    equal_depth = None
    if depth is not None:
        located["equal_depth"] = depth
        details["equal_depth"] = f"size {largest.size:.6g}"
        equal_depth = _critical_point(prepared, depth, f"size {largest.size:.6g}")
        estimates.append(equal_depth)
    m_largest, m_largest_boot = _order_parameter_curve(prepared, largest, symmetric)
    jump = largest_jump(largest.t, m_largest, m_largest_boot)
    if jump is not None:
        located["largest_jump"] = jump
        details["largest_jump"] = f"size {largest.size:.6g}"
        estimates.append(_critical_point(prepared, jump, details["largest_jump"]))
    settled = _settled(prepared, ensemble)[largest.index]
    ordered_run = _ordered_run(largest, m_largest, m_largest_boot, ordered_below, settled)
    vanishing = vanishing_point(
        largest.t, m_largest, m_largest_boot, ordered_run, ordered_below, seed=seed
    )
    if vanishing is not None:
        located["vanishing_point"] = vanishing
        details["vanishing_point"] = f"size {largest.size:.6g}"
        estimates.append(_critical_point(prepared, vanishing, details["vanishing_point"]))
    peak = located.get("susceptibility_peak")
    if peak is not None and ordered_run.any():
        at = int(np.argmin(np.abs(largest.t - peak.value)))
        if ordered_run[at] and largest.binder[at] > DEEPLY_ORDERED_BINDER:
            # runs spread most where they converge slowest, at the edge of the ordered
            # region: not a critical fluctuation peak
            del located["susceptibility_peak"]
            evidence.append(
                f"The susceptibility peaks at {prepared.to_control(peak.value):.4g}, where m is "
                f"unambiguously ordered (Binder > {DEEPLY_ORDERED_BINDER:.2f}): not a critical "
                "fluctuation peak, so it "
                "does not locate the transition."
            )
    sharper = _sharper_than_grid(
        prepared, largest, ordered_run, jump, vanishing, m_largest, m_largest_boot
    )
    if sharper is not None:
        # A power law fitted to a flat ordered side (β ≈ 0) does not locate a vanishing
        # point: the change lies somewhere between two grid points, as the jump says.
        estimates = [e for e in estimates if e.method != "vanishing_point"]
        located.pop("vanishing_point", None)
    hysteresis = detect_hysteresis(prepared, n_bootstrap, seed)
    signals = _signals(
        prepared,
        ensemble,
        table,
        fit,
        curves,
        largest,
        symmetric,
        peaks,
        crossings,
        quadratic_zero is not None,
        hysteresis,
        n_controls,
        evidence,
        sharper,
    )
    verdict = classify(signals)
    order = verdict.order
    evidence.extend(verdict.evidence)

    if order == "second" and len(sizes) >= 2:
        start = next(
            (
                located[k].value
                for k in ("binder_crossing", "quadratic_coefficient_zero", "susceptibility_peak")
                if k in located
            ),
            float(np.median(largest.t)),
        )
        keys = [float(s) for s in sizes][-FSS_SIZES:]
        binder_fit = _binder_collapse(curves, keys, start, n_bootstrap)
        if binder_fit is not None:
            located["binder_collapse"] = binder_fit
            details["binder_collapse"] = "sizes " + ", ".join(f"{k:.6g}" for k in keys)
            estimates.append(_critical_point(prepared, binder_fit, details["binder_collapse"]))

    headline = _headline(order, located)
    critical_point = None
    if headline is not None:
        name, loc = headline
        critical_point = _critical_point(prepared, loc, details.get(name, ""))
        if critical_point.value is None:
            critical_point = None
    if critical_point is None and order in ("first", "second"):
        not_estimable["critical_point"] = (
            "no estimator located the transition inside the control range"
        )
    if order == "crossover":
        where = ""
        if "susceptibility_peak" in located:
            peak_at = float(prepared.to_control(located["susceptibility_peak"].value))
            where = f"; the susceptibility peaks at {peak_at:.4g}"
        evidence.append(f"No critical point for a crossover{where}.")

    exponents, collapse, hyperscaling = _exponents(
        prepared,
        order,
        curves,
        sizes,
        headline,
        peaks,
        not_estimable,
        evidence,
        n_bootstrap,
        "susceptibility_peak" in located,
    )
    isotherm = None
    if scan is None:
        not_estimable["delta"] = "no field column (field=..., --field COL)"
    elif critical_point is None or headline is None or order != "second":
        not_estimable["delta"] = "δ is measured on the critical isotherm of a second-order T_c"
    else:
        isotherm, reason = critical_isotherm(
            scan[0],
            prepared.columns,
            scan[1],
            float(critical_point.value),
            np.asarray(prepared.to_control(headline[1].replicates), dtype=float),
            burn_in=prepared.burn_in,
            n_bootstrap=n_bootstrap,
            seed=seed,
        )
        if isotherm is None:
            not_estimable["delta"] = reason or "the field scan gave no critical isotherm"
        else:
            exponents = replace(exponents, delta=isotherm.delta)
            evidence.append(isotherm.sentence)
            widom = _widom(exponents)
            if widom:
                evidence.append(widom)
    if order == "crossover" and signals.sharper_than_grid is not None:
        not_estimable["beta"] = "the transition is sharper than the control grid"
    binder_star = None
    if crossings:
        small, large, loc = crossings[-1]
        binder_star = Estimate.from_replicates(loc.height, loc.height_replicates)
    ginzburg = None
    if order == "second" and headline is not None:
        ginzburg = _ginzburg(prepared, largest, headline[1].value, ordered_below, symmetric)
    universality = judge(
        order,
        exponents.beta,
        exponents.gamma,
        binder_star,
        ginzburg=ginzburg,
        hyperscaling_dimension=hyperscaling,
    )
    temporal = transitions_in_time(prepared)
    if temporal is not None:
        sentence = temporal.sentence()
        if sentence:
            evidence.append(sentence)

    landau = _landau_result(prepared, ensemble, fit, quadratic_zero, equal_depth)
    unfitted = int(np.sum(~np.isfinite(fit.coefficients[:, 0])))
    if unfitted:
        not_estimable["landau"] = (
            f"{unfitted} of {ensemble.n_groups} (control, size) groups have too few populated "
            "histogram bins for a Landau fit"
        )
    inputs: dict[str, Any] = {
        "order_parameter": prepared.columns.order_parameter,
        "control": prepared.columns.control,
        "size": prepared.columns.size,
        "volume": prepared.columns.volume,
        "run_col": prepared.columns.run,
        "step_col": prepared.columns.step,
        "direction_col": prepared.columns.direction,
        "energy": prepared.columns.energy,
        "field": scan[1] if scan is not None else None,
        "burn_in": prepared.burn_in,
        "use_abs": prepared.use_abs,
        "n_bootstrap": n_bootstrap,
        "seed": seed,
        "n_runs": prepared.n_runs,
        "n_rows": int(prepared.row_segment.size),
        "symmetric": bool(symmetric),
        "landau_polynomial": str(polynomial),
    }
    return AnalysisResult(
        order=order,
        critical_point=critical_point,
        critical_point_estimates=tuple(estimates),
        exponents=exponents,
        landau=landau,
        universality=universality,
        evidence=tuple(dict.fromkeys(evidence)),
        table=table,
        collapse=collapse,
        hysteresis=hysteresis,
        temporal=temporal,
        critical_isotherm=isotherm,
        not_estimable=not_estimable,
        inputs=inputs,
    )


def _samples_zero(histograms: Histograms, c: _Curves, value: float) -> bool:
    """Whether an ensemble next to ``value`` (one control on either side) visits m ≈ 0.

    The quadratic Landau coefficient is the curvature of −log P(m) at m = 0; it is
    measured, not extrapolated, only where P(m) has been sampled there: a populated bin
    within one bin of zero.
    """
    below = np.flatnonzero(c.t <= value)
    above = np.flatnonzero(c.t >= value)
    neighbours = [c.index[i[k]] for i, k in ((below, -1), (above, 0)) if i.size]
    for group in neighbours:
        centres = histograms.centres(int(group))
        near = np.abs(centres) <= 1.5 * histograms.width[group]
        if np.any(near & (histograms.full[group] > 0)):
            return True
    return False


def _ordered_below(c: _Curves) -> bool:
    """Whether the ordered phase (larger m_rms) is at low control values."""
    ok = np.isfinite(c.rms)
    rms = c.rms[ok]
    if rms.size < 2:
        return True
    k = max(rms.size // 3, 1)
    return bool(np.mean(rms[:k]) >= np.mean(rms[-k:]))


def _signals(
    prepared: PreparedData,
    ensemble: Ensemble,
    table: pd.DataFrame,
    fit: FreeEnergyFit,
    curves: dict[float, _Curves],
    largest: _Curves,
    symmetric: bool,
    peaks: dict[float, Located],
    crossings: list[tuple[float, float, Located]],
    quadratic_zero: bool,
    hysteresis: Any,
    n_controls: int,
    evidence: list[str],
    sharper: str | None = None,
) -> TransitionSignals:
    scale = prepared.scale
    rms = largest.rms
    se = standard_error(largest.rms_boot)
    ok = np.isfinite(rms)
    change_z, change_fraction = 0.0, 0.0
    if ok.sum() >= 2:
        hi, lo = int(np.nanargmax(rms)), int(np.nanargmin(rms))
        diff = rms[hi] - rms[lo]
        noise = float(np.hypot(se[hi], se[lo]))
        change_z = float(diff / noise) if noise > 0 else (np.inf if diff > 0 else 0.0)
        change_fraction = float(diff / rms[hi]) if rms[hi] > 0 else 0.0
    coexistence = []
    controls = table["control"].to_numpy()
    group_sizes = table["size"].to_numpy()
    # where up and down sweeps have not relaxed yet, pooling them mixes two branches: that
    # bimodality (or Binder dip) is a finite-time effect, not coexistence
    unrelaxed = np.zeros(len(controls), dtype=bool)
    if hysteresis is not None and hysteresis.verdict == "finite-time":
        unrelaxed = np.isin(controls, hysteresis.controls[hysteresis.significant])
    for g, modes in enumerate(fit.modes):
        if unrelaxed[g]:
            continue
        sentence = coexistence_sentence(
            modes,
            symmetric and not prepared.use_abs,
            float(controls[g]),
            float(group_sizes[g]),
            scale,
        )
        if sentence:
            coexistence.append(sentence)
    # a dip means an ordered peak at m_* = √(⟨m⁴⟩/⟨m²⟩) of weight ⟨m²⟩²/⟨m⁴⟩; it is
    # coexistence only when that peak is an ordered phase, not a vanishing tail
    full = ensemble.full
    with np.errstate(all="ignore"):
        implied_peak = np.sqrt(full.m4 / full.m2)
        rms_all = full.rms()
        largest_rms = np.array(
            [np.nanmax(np.where(ensemble.group_size == s, rms_all, np.nan)) for s in group_sizes]
        )
    dip = binder_dip_sentence(
        np.where(unrelaxed, np.nan, table["binder"].to_numpy()),
        table["binder_stderr"].to_numpy(),
        controls,
        group_sizes,
        ordered_peak=implied_peak / largest_rms,
    )
    hysteresis_sentence = slowing = None
    if hysteresis is not None:
        if hysteresis.verdict == "hysteresis":
            hysteresis_sentence = hysteresis.sentence
        elif hysteresis.verdict == "finite-time":
            slowing = hysteresis.sentence
        else:
            evidence.append(hysteresis.sentence)
    chi_slope = None
    if len(peaks) >= 2:
        keys = sorted(peaks)
        log_volume = np.log([curves[k].volume for k in keys])
        heights = np.array([peaks[k].height for k in keys])
        heights_boot = np.column_stack([peaks[k].height_replicates for k in keys])
        if np.ptp(log_volume) > 0:
            slope, slope_boot = loglog_slope(log_volume, heights, heights_boot)
            est = Estimate.from_replicates(slope, slope_boot)
            if est is not None and est.ci is not None:
                chi_slope = (est.value, est.ci[0], est.ci[1])
    crossing_sentence = None
    if crossings:
        small, large, loc = crossings[-1]
        crossing_sentence = (
            f"Binder cumulants of sizes {small:.4g} and {large:.4g} cross at control "
            f"{prepared.to_control(loc.value):.4g} with U* = {loc.height:.3f}."
        )
    elif len(curves) >= 2:
        crossing_sentence = _binder_reversal(prepared, curves)
    finite_binder = largest.binder[np.isfinite(largest.binder)]
    ordered_below = _ordered_below(largest)
    if finite_binder.size:
        ordered_u = float(finite_binder[0] if ordered_below else finite_binder[-1])
        disordered_u = float(finite_binder[-1] if ordered_below else finite_binder[0])
    else:
        ordered_u = disordered_u = float("nan")
    jump = None
    mean = largest.mean if (prepared.use_abs or not symmetric) else largest.rms
    finite = np.isfinite(mean)
    if finite.sum() >= 3:
        m, t = mean[finite], largest.t[finite]
        steps = np.abs(np.diff(m))
        k = int(np.argmax(steps))
        total = float(np.ptp(m))
        if total > 0:
            jump = (
                f"The largest change of m between neighbouring controls is {steps[k] * scale:.3g} "
                f"({steps[k] / total:.0%} of the total change) between "
                f"{prepared.to_control(t[k]):.4g} and {prepared.to_control(t[k + 1]):.4g} "
                f"(size {largest.size:.4g})."
            )
    extra = []
    energy_sentence = _energy_jump(prepared, ensemble, largest)
    if energy_sentence:
        extra.append(energy_sentence)
    return TransitionSignals(
        n_controls=n_controls,
        n_sizes=len(curves),
        change_z=float(change_z) if np.isfinite(change_z) else 1e9,
        change_fraction=change_fraction,
        coexistence=tuple(coexistence),
        binder_dip=dip,
        hysteresis=hysteresis_sentence,
        slowing=slowing,
        chi_volume_slope=chi_slope,
        binder_crossing=crossing_sentence,
        disordered_binder=disordered_u,
        ordered_binder=ordered_u,
        quadratic_zero=quadratic_zero,
        jump=jump,
        extra=tuple(extra),
        sharper_than_grid=sharper,
    )


def _order_parameter_curve(
    prepared: PreparedData, c: _Curves, symmetric: bool
) -> tuple[np.ndarray, np.ndarray]:
    """⟨m⟩ (or m_rms for a signed symmetric m) of one size, with replicates."""
    if prepared.use_abs or not symmetric:
        return c.mean, c.mean_boot
    return c.rms, c.rms_boot


def _ordered_run(
    c: _Curves,
    m: np.ndarray,
    m_boot: np.ndarray,
    ordered_below: bool,
    settled: np.ndarray,
    *,
    z: float = 3.0,
) -> np.ndarray:
    """The contiguous controls from the ordered end where m is clearly ordered and settled.

    Clearly ordered: Binder cumulant above :data:`ORDERED_BINDER` (P(m) a peak at least
    four standard deviations away from zero) and
    m above ``z`` bootstrap standard errors; settled: see :func:`_settled`.
    """
    se = standard_error(m_boot)
    with np.errstate(all="ignore"):
        clear = settled & (c.binder > ORDERED_BINDER) & np.isfinite(m) & (m > 0) & ~(m <= z * se)
    order = np.arange(c.t.size) if ordered_below else np.arange(c.t.size)[::-1]
    run = np.zeros(c.t.size, dtype=bool)
    for i in order:
        if not clear[i]:
            break
        run[i] = True
    return run


def _settled(
    prepared: PreparedData, ensemble: Ensemble, *, z: float = 3.0, tolerance: float = 0.01
) -> np.ndarray:
    """Per group: whether ⟨m⟩ has stopped drifting within the retained steps.

    Each run's mean over the late half of its retained steps minus that over the early
    half; the group drifts when the mean of these differences exceeds ``z`` standard
    errors (over runs) and ``tolerance`` of |⟨m⟩| (slow convergence near a transition,
    critical slowing down). Groups with one run are judged by the relative drift alone.
    """
    kept = np.flatnonzero(prepared.row_kept)
    segment = prepared.row_segment[kept]
    starts = np.r_[0, np.flatnonzero(np.diff(segment)) + 1]
    counts = np.diff(np.r_[starts, segment.size])
    rank = np.arange(segment.size) - np.repeat(starts, counts)
    late = rank >= np.repeat(counts, counts) / 2.0
    values = ensemble.row_value
    unit, n_units = ensemble.row_unit, int(ensemble.row_unit.max()) + 1 if kept.size else 0
    if n_units == 0:
        return np.ones(ensemble.n_groups, dtype=bool)
    with np.errstate(all="ignore"):
        late_mean = np.bincount(unit, np.where(late, values, 0.0), n_units) / np.bincount(
            unit, late.astype(float), n_units
        )
        early_mean = np.bincount(unit, np.where(late, 0.0, values), n_units) / np.bincount(
            unit, (~late).astype(float), n_units
        )
        drift = late_mean - early_mean
        ok = np.isfinite(drift)
        unit_group = np.zeros(n_units, dtype=np.int64)
        unit_group[unit] = ensemble.row_group
        n = np.bincount(unit_group[ok], minlength=ensemble.n_groups).astype(float)
        mean = np.bincount(unit_group[ok], drift[ok], ensemble.n_groups) / n
        square = np.bincount(unit_group[ok], drift[ok] ** 2, ensemble.n_groups) / n
        se = np.sqrt(np.maximum(square - mean**2, 0.0) * n / (n - 1) / n)
        level = np.abs(ensemble.full.mean())
        relative = np.abs(mean) > tolerance * level
        significant = np.where(n >= 2, np.abs(mean) > z * se, True)
    return ~(relative & significant)


def _sharper_than_grid(
    prepared: PreparedData,
    c: _Curves,
    ordered_run: np.ndarray,
    jump: Located | None,
    vanishing: Located | None,
    m: np.ndarray,
    m_boot: np.ndarray,
) -> str | None:
    """A sentence when m jumps between neighbouring controls with a flat ordered side.

    The exponent β of m ∝ |T − T_c|^β on the ordered controls comes from the vanishing-point
    fit, or (fewer than four ordered controls) from a power law with T_c at the largest
    jump. When its 95 % interval reaches zero, m does not decrease toward the transition
    at the resolved distances: a discontinuous jump and a continuous transition sharper
    than the grid cannot be told apart. So it is when the whole interval lies below
    ``SMALLEST_BETA`` = 0.05, under the smallest exponent of the common universality
    classes (2D four-state Potts, β = 1/12; Baxter 1982, "Exactly Solved Models").
    """
    if vanishing is not None:
        beta, beta_boot = vanishing.exponent, vanishing.exponent_replicates
    elif jump is not None and ordered_run.sum() >= 2:
        beta, beta_boot = direct_power_law(c.t, m, m_boot, ordered_run, jump.value, jump.replicates)
    else:
        return None
    estimate = Estimate.from_replicates(beta, beta_boot)
    if estimate is None or jump is None:
        return None
    # Without a usable bootstrap interval (e.g. seeds that agree exactly) the point
    # value decides.
    low_beta, high_beta = estimate.ci if estimate.ci is not None else (beta, beta)
    if low_beta > 0 and high_beta >= SMALLEST_BETA:
        return None
    low, high = (float(prepared.to_control(x)) for x in jump.resolution)
    return (
        f"m jumps by {jump.height * prepared.scale:.3g} between {low:.4g} and {high:.4g} and "
        f"is flat on the ordered side (β = {estimate}, consistent with 0 or below "
        f"{SMALLEST_BETA}): the data cannot "
        "distinguish a discontinuous jump from a continuous transition sharper than the "
        "control grid."
    )


def _binder_reversal(prepared: PreparedData, curves: dict[float, _Curves]) -> str | None:
    """A sentence when the Binder cumulants of the two largest sizes swap order.

    If the larger size has the larger cumulant at the ordered end and the smaller one at the
    disordered end (each significant over the two outermost controls), the curves cross
    somewhere in between even when no single crossing stands out from the noise.
    """
    keys = sorted(curves)[-2:]
    a, b = curves[keys[0]], curves[keys[1]]
    common, ia, ib = np.intersect1d(a.t, b.t, return_indices=True)
    if common.size < 4:
        return None
    diff = b.binder[ib] - a.binder[ia]
    se = standard_error(b.binder_boot[:, ib] - a.binder_boot[:, ia])
    ok = np.isfinite(diff) & np.isfinite(se) & (se > 0)
    if ok.sum() < 4:
        return None
    diff, se = diff[ok], se[ok]
    oriented = diff if _ordered_below(b) else -diff[::-1]
    se = se if _ordered_below(b) else se[::-1]
    z_ordered = oriented[:2].sum() / np.sqrt(np.sum(se[:2] ** 2))
    z_disordered = -oriented[-2:].sum() / np.sqrt(np.sum(se[-2:] ** 2))
    if not (z_ordered > 2.0 and z_disordered > 2.0):
        return None
    return (
        f"Binder cumulants of sizes {keys[0]:.4g} and {keys[1]:.4g} swap order across the "
        f"control range (larger size above by {z_ordered:.1f}σ on the ordered side, below by "
        f"{z_disordered:.1f}σ on the disordered side): they cross in between."
    )


def _energy_jump(prepared: PreparedData, ensemble: Ensemble, largest: _Curves) -> str | None:
    """A sentence when the mean energy jumps between neighbouring controls."""
    if prepared.row_energy is None:
        return None
    energy = prepared.row_energy[prepared.row_kept]
    ok = np.isfinite(energy)
    sums = np.bincount(ensemble.row_group[ok], weights=energy[ok], minlength=ensemble.n_groups)
    counts = np.bincount(ensemble.row_group[ok], minlength=ensemble.n_groups)
    mean = (sums / np.where(counts > 0, counts, np.nan))[largest.index]
    finite = np.isfinite(mean)
    if finite.sum() < 4:
        return None
    m, t = mean[finite], largest.t[finite]
    steps = np.abs(np.diff(m))
    k = int(np.argmax(steps))
    typical = float(np.median(steps))
    if typical <= 0 or steps[k] < 5 * typical:
        return None
    return (
        f"The mean {prepared.columns.energy} jumps by {steps[k] * prepared.energy_scale:.3g} "
        f"between {prepared.to_control(t[k]):.4g} and {prepared.to_control(t[k + 1]):.4g} "
        f"({steps[k] / typical:.0f}× the typical step): a latent-heat analogue."
    )


def _widom(exponents: Exponents) -> str | None:
    """The Widom scaling relation γ = β(δ − 1) as a consistency check, or None."""
    beta, gamma, delta = exponents.beta, exponents.gamma, exponents.delta
    if beta is None or gamma is None or delta is None:
        return None
    predicted = beta.value * (delta.value - 1.0)
    return (
        f"Widom relation: β(δ − 1) = {predicted:.3g} against γ = {gamma} "
        "(equal when the exponents are consistent)."
    )


def _headline(order: str, located: dict[str, Located]) -> tuple[str, Located] | None:
    preference = {
        "first": (
            "equal_depth",
            "susceptibility_peak",
            "quadratic_coefficient_zero",
            "largest_jump",
        ),
        "second": (
            "binder_collapse",
            "binder_crossing",
            "quadratic_coefficient_zero",
            "vanishing_point",
            "susceptibility_peak",
        ),
    }.get(order, ())
    for name in preference:
        if name in located and np.isfinite(located[name].value):
            return name, located[name]
    return None


def _exponents(
    prepared: PreparedData,
    order: str,
    curves: dict[float, _Curves],
    sizes: np.ndarray,
    headline: tuple[str, Located] | None,
    peaks: dict[float, Located],
    not_estimable: dict[str, str],
    evidence: list[str],
    n_bootstrap: int,
    fluctuation_peak: bool = True,
) -> tuple[Exponents, CollapseResult | None, Estimate | None]:
    names = ("beta", "gamma", "nu", "beta_over_nu", "gamma_over_nu")
    if order != "second":
        reason = {
            "first": "exponents are not defined at a first-order transition",
            "crossover": "a crossover has no critical point",
            "none": "no transition found",
        }[order]
        for name in names:
            not_estimable[name] = reason
        return Exponents(method="none"), None, None
    if headline is None:
        for name in names:
            not_estimable[name] = "the critical point could not be located"
        return Exponents(method="none"), None, None
    tc, tc_boot = headline[1].value, headline[1].replicates
    if len(sizes) < 2:
        return _direct_exponents(
            prepared,
            curves[float(sizes[0])],
            tc,
            tc_boot,
            not_estimable,
            headline[1] if headline[0] == "vanishing_point" else None,
            fluctuation_peak,
        )

    all_keys = [float(s) for s in sizes]
    keys = all_keys[-FSS_SIZES:] if len(all_keys) > FSS_SIZES else all_keys
    if len(keys) < len(all_keys):
        evidence.append(
            f"Finite-size scaling uses the {len(keys)} largest sizes "
            f"({', '.join(f'{k:.4g}' for k in keys)}) to limit corrections to scaling."
        )
    log_size = np.log(np.array(keys) / keys[0])
    # γ/ν from the susceptibility at T_c (each replicate at its own T_c); the peak heights
    # carry larger corrections to scaling and serve as a cross-check
    chi_tc = [value_at(curves[k].t, curves[k].chi, curves[k].chi_boot, tc, tc_boot) for k in keys]
    value, gon_boot = loglog_slope(
        log_size, np.array([v for v, _ in chi_tc]), np.column_stack([b for _, b in chi_tc])
    )
    gamma_over_nu = Estimate.from_replicates(value, gon_boot)
    if gamma_over_nu is None:
        not_estimable["gamma_over_nu"] = "the susceptibility at T_c could not be interpolated"
    peak_keys = [k for k in keys if k in peaks]
    if len(peak_keys) >= 2:
        peak_value, peak_boot = loglog_slope(
            np.log(np.array(peak_keys) / peak_keys[0]),
            np.array([peaks[k].height for k in peak_keys]),
            np.column_stack([peaks[k].height_replicates for k in peak_keys]),
        )
        peak_estimate = Estimate.from_replicates(peak_value, peak_boot)
        if peak_estimate is not None and gamma_over_nu is not None:
            evidence.append(
                f"γ/ν = {gamma_over_nu} from the susceptibility at T_c; the peak heights give "
                f"{peak_estimate} (peaks carry larger finite-size corrections)."
            )
    # β/ν from m_rms at T_c: a cross-check of the collapse
    at_tc = [value_at(curves[k].t, curves[k].rms, curves[k].rms_boot, tc, tc_boot) for k in keys]
    value, bon_boot = loglog_slope(
        log_size, np.array([v for v, _ in at_tc]), np.column_stack([b for _, b in at_tc])
    )
    beta_over_nu_tc = Estimate.from_replicates(-value, -bon_boot)
    # T_c, ν and β/ν from the collapse of m_rms
    collapse, collapse_fit = _collapse(
        prepared,
        curves,
        keys,
        tc,
        tc_boot,
        beta_over_nu_tc.value if beta_over_nu_tc else 0.25,
        not_estimable,
        n_bootstrap,
    )
    nu = beta = gamma = None
    beta_over_nu = beta_over_nu_tc
    bon_reps = -bon_boot
    hyperscaling = None
    method = "finite-size scaling: ν and β/ν from the data collapse, γ/ν from χ at T_c"
    if collapse_fit is not None:
        reps = collapse_fit.replicates
        r = reps.shape[0]
        nu = Estimate.from_replicates(collapse_fit.nu, reps[:, 1])
        beta_over_nu = Estimate.from_replicates(collapse_fit.ratio, reps[:, 2])
        bon_reps = reps[:, 2]
        beta = Estimate.from_replicates(
            collapse_fit.ratio * collapse_fit.nu, reps[:, 2] * reps[:, 1]
        )
        if gamma_over_nu is not None:
            r = min(r, gon_boot.size)
            gamma = Estimate.from_replicates(
                gamma_over_nu.value * collapse_fit.nu, gon_boot[:r] * reps[:r, 1]
            )
        if beta_over_nu_tc is not None:
            evidence.append(
                f"Cross-check: m at T_c across sizes gives β/ν = {beta_over_nu_tc} "
                f"(collapse: {beta_over_nu})."
            )
    else:
        not_estimable["nu"] = not_estimable.get("collapse", "the data collapse failed")
        direct = _direct_exponents(prepared, curves[keys[-1]], tc, tc_boot, {})[0]
        beta, gamma = direct.beta, direct.gamma
        method = "finite-size scaling for the ratios; β, γ from direct fits of the largest size"
    if beta_over_nu is None:
        not_estimable["beta_over_nu"] = "m could not be compared across sizes at T_c"
    if beta_over_nu is not None and gamma_over_nu is not None:
        r = min(bon_reps.size, gon_boot.size)
        hyperscaling = Estimate.from_replicates(
            2 * beta_over_nu.value + gamma_over_nu.value, 2 * bon_reps[:r] + gon_boot[:r]
        )
        if hyperscaling is not None:
            evidence.append(
                f"2β/ν + γ/ν = {hyperscaling}: the hyperscaling dimension of the size column "
                "(1 when the size counts degrees of freedom, d for a linear size)."
            )
    for name, est in (("beta", beta), ("gamma", gamma), ("nu", nu)):
        if est is None and name not in not_estimable:
            not_estimable[name] = "needs ν from a successful data collapse"
    return (
        Exponents(
            beta=beta,
            gamma=gamma,
            nu=nu,
            beta_over_nu=beta_over_nu,
            gamma_over_nu=gamma_over_nu,
            method=method,
        ),
        collapse,
        hyperscaling,
    )


def _direct_exponents(
    prepared: PreparedData,
    c: _Curves,
    tc: float,
    tc_boot: np.ndarray,
    not_estimable: dict[str, str],
    vanishing: Located | None = None,
    fluctuation_peak: bool = True,
) -> tuple[Exponents, None, None]:
    """β and γ from power laws in |T − T_c| (one size); ν and the ratios need sizes.

    With T_c from the vanishing point, β is that fit's exponent (fitted jointly with T_c);
    without an interior susceptibility peak as well, the fluctuations carry no critical
    information and γ is not estimated.
    """
    for name in ("nu", "beta_over_nu", "gamma_over_nu"):
        not_estimable.setdefault(name, "finite-size scaling needs at least two sizes")
    ordered_below = _ordered_below(c)
    ordered_side = (c.t < tc) if ordered_below else (c.t > tc)
    ordered = ordered_side & (c.binder > ORDERED_BINDER) & np.isfinite(c.rms)
    if vanishing is not None:
        beta_value, beta_boot = vanishing.exponent, vanishing.exponent_replicates
    else:
        beta_value, beta_boot = direct_power_law(c.t, c.rms, c.rms_boot, ordered, tc, tc_boot)
    beta = Estimate.from_replicates(beta_value, beta_boot)
    if beta is not None and beta.ci is not None and vanishing is not None:
        low, high = vanishing.exponent_resolution or beta.ci
        beta = Estimate(beta.value, (min(beta.ci[0], low), max(beta.ci[1], high)))
    if beta is None:
        not_estimable["beta"] = (
            f"fewer than two clearly ordered controls (Binder > {ORDERED_BINDER:.2f})"
        )
    # Gaussian fluctuations around zero have U ≈ 0; a strongly negative U means m decays
    # within each run (a transient, not a fluctuation)
    binder_se = standard_error(c.binder_boot)
    disordered = (
        ~ordered_side
        & (c.binder < 0.1)
        & (c.binder > -0.1 - 2 * np.where(np.isfinite(binder_se), binder_se, 0.0))
        & np.isfinite(c.m2)
    )
    chi = c.volume * c.m2
    chi_boot = c.volume * c.m2_boot
    gamma_value, gamma_boot = direct_power_law(c.t, chi, chi_boot, disordered, tc, tc_boot)
    gamma = Estimate.from_replicates(-gamma_value, -gamma_boot)
    if vanishing is not None and not fluctuation_peak:
        gamma = None
        not_estimable["gamma"] = (
            "the susceptibility has no critical peak (T_c located by the vanishing of m)"
        )
    elif gamma is None:
        not_estimable["gamma"] = (
            "fewer than two disordered controls with fluctuations around zero (Binder near 0)"
        )
    return Exponents(beta=beta, gamma=gamma, method="direct power-law fits (one size)"), None, None


def _collapse(
    prepared: PreparedData,
    curves: dict[float, _Curves],
    keys: list[float],
    tc: float,
    tc_boot: np.ndarray,
    start_ratio: float,
    not_estimable: dict[str, str],
    n_bootstrap: int,
) -> tuple[CollapseResult | None, Any]:
    collapse_input = _collapse_data(curves, keys, "rms")
    if collapse_input is None:
        not_estimable["collapse"] = "fewer than two sizes with resolved errors"
        return None, None
    data, boot = collapse_input
    replicates = boot[: min(n_bootstrap, MAX_COLLAPSE_REPLICATES)]
    fit = fit_collapse(
        data,
        start_critical_point=tc,
        start_ratio=start_ratio,
        fixed_critical_point=True,
        critical_point_replicates=tc_boot,
        replicate_y=replicates,
    )
    if fit is None:
        not_estimable["collapse"] = "the sizes' control ranges do not overlap after scaling"
        return None, None
    reps = fit.replicates
    critical = Estimate.from_replicates(
        float(prepared.to_control(fit.critical_point)), prepared.to_control(reps[:, 0])
    )
    curves_out = []
    with np.errstate(all="ignore"):
        for i, s in enumerate(data.sizes):
            sel = data.size_index == i
            x = prepared.control_distance(data.t[sel] - fit.critical_point) * s ** (1 / fit.nu)
            factor = s**fit.ratio
            curves_out.append(
                {
                    "size": float(s),
                    "x": np.asarray(x),
                    "y": data.y[sel] * prepared.scale * factor,
                    "dy": data.dy[sel] * prepared.scale * factor,
                }
            )
    result = CollapseResult(
        observable="rms",
        critical_point=critical,
        nu=Estimate.from_replicates(fit.nu, reps[:, 1]),
        ratio=Estimate.from_replicates(fit.ratio, reps[:, 2]),
        ratio_name="beta_over_nu",
        quality=fit.quality,
        curves=tuple(curves_out),
    )
    return result, fit


def critical_window(curves: dict[float, _Curves], keys: list[float]) -> tuple[float, float]:
    """Controls in the critical region: where χ of the largest size exceeds a quarter of
    its peak (at least five controls around the peak).

    The peak of the largest size is the narrowest (width ∝ L^(−1/ν)), so inside this window
    every size is within its scaling region; far from T_c corrections to scaling would bias
    a collapse. Without an interior peak the whole range is used.
    """
    c = curves[keys[-1]]
    ok = np.isfinite(c.chi)
    t, chi = c.t[ok], c.chi[ok]
    everything = (-np.inf, np.inf)
    if t.size < 5:
        return everything
    k = int(np.argmax(chi))
    if k == 0 or k == t.size - 1:
        return everything
    inside = chi >= 0.25 * chi[k]
    lo, hi = k, k
    while lo > 0 and inside[lo - 1]:
        lo -= 1
    while hi < t.size - 1 and inside[hi + 1]:
        hi += 1
    while hi - lo + 1 < 5:
        if lo > 0 and (hi == t.size - 1 or chi[lo - 1] >= chi[hi + 1]):
            lo -= 1
        elif hi < t.size - 1:
            hi += 1
        else:
            break
    return float(t[lo]), float(t[hi])


def _collapse_data(
    curves: dict[float, _Curves], keys: list[float], observable: str
) -> tuple[CollapseData, np.ndarray] | None:
    """Points of ``observable`` (an attribute of the curves) for the given sizes, inside
    the critical window."""
    low, high = critical_window(curves, keys)
    t, y, dy, size_index, boot = [], [], [], [], []
    for i, k in enumerate(keys):
        c = curves[k]
        values = getattr(c, observable)
        replicates = getattr(c, f"{observable}_boot")
        se = standard_error(replicates)
        ok = np.isfinite(values) & np.isfinite(se) & (se > 0) & (c.t >= low) & (c.t <= high)
        if ok.sum() < 2:
            continue
        t.append(c.t[ok])
        y.append(values[ok])
        dy.append(se[ok])
        size_index.append(np.full(int(ok.sum()), i))
        boot.append(replicates[:, ok])
    if len(t) < 2:
        return None
    index = np.concatenate(size_index)
    used = np.unique(index)
    data = CollapseData(
        t=np.concatenate(t),
        y=np.concatenate(y),
        dy=np.concatenate(dy),
        size_index=np.searchsorted(used, index),
        sizes=np.array(keys)[used],
    )
    return data, np.concatenate(boot, axis=1)


def _binder_collapse(
    curves: dict[float, _Curves], keys: list[float], start: float, n_bootstrap: int
) -> Located | None:
    """T_c from the collapse of the Binder cumulant, U = f((T − T_c)·L^(1/ν)).

    U is dimensionless, so only T_c and ν are fitted: a crossing of all sizes at once,
    weighted by the errors of every point.
    """
    prepared_data = _collapse_data(curves, keys, "binder")
    if prepared_data is None:
        return None
    data, boot = prepared_data
    fit = fit_collapse(
        data,
        start_critical_point=start,
        start_ratio=0.0,
        fit_ratio=False,
        replicate_y=boot[: min(n_bootstrap, MAX_COLLAPSE_REPLICATES)],
    )
    if fit is None or not np.isfinite(fit.critical_point):
        return None
    span = float(np.ptp(data.t))
    if not (data.t.min() - 0.1 * span <= fit.critical_point <= data.t.max() + 0.1 * span):
        return None
    return Located(
        value=fit.critical_point,
        replicates=fit.replicates[:, 0],
        method="binder_collapse",
        detail="",
    )


def _ginzburg(
    prepared: PreparedData,
    c: _Curves,
    tc: float,
    ordered_below: bool,
    symmetric: bool,
) -> Any:
    side = (c.t < tc) if ordered_below else (c.t > tc)
    m = c.mean if prepared.use_abs else c.rms
    boot = c.mean_boot if prepared.use_abs else c.rms_boot
    se = standard_error(boot)
    distance = np.abs(c.t - tc)
    tc_user = float(prepared.to_control(tc))

    def to_user(d: float) -> tuple[float, float]:
        width = float(prepared.control_distance(d))
        return tc_user - width, tc_user + width

    spread = None
    if prepared.use_abs or not symmetric:  # the spread of |m| is unknown for signed m
        spread = np.sqrt(c.variance)[side]
    return ginzburg_window(distance[side], m[side], se[side], to_user, spread=spread)


def _landau_result(
    prepared: PreparedData,
    ensemble: Ensemble,
    fit: FreeEnergyFit,
    quadratic_zero: CriticalPoint | None,
    equal_depth: CriticalPoint | None,
) -> LandauResult:
    controls = prepared.to_control(ensemble.group_control)
    columns: dict[str, Any] = {"control": controls, "size": ensemble.group_size}
    for j, name in enumerate(fit.polynomial.names):
        columns[name] = fit.coefficients[:, j]
        columns[f"{name}_stderr"] = fit.stderr[:, j]
        columns[f"{name}_ci_low"] = fit.lower[:, j]
        columns[f"{name}_ci_high"] = fit.upper[:, j]
    columns["m_star"] = fit.m_star
    coefficients = pd.DataFrame(columns)
    curves = tuple(
        {"control": float(controls[g]), "size": float(ensemble.group_size[g]), **fit.curves[g]}
        for g in range(ensemble.n_groups)
    )
    return LandauResult(
        terms=fit.polynomial.names,
        powers=tuple(int(p) for p in fit.polynomial.powers),
        coefficients=coefficients,
        quadratic_zero=quadratic_zero,
        equal_depth=equal_depth,
        curves=curves,
    )
