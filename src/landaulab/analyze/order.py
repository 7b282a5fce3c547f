"""The order of a transition: ``first``, ``second``, ``crossover`` or ``none``, with evidence.

Signs of a first-order transition (Binder 1987, Rep. Prog. Phys. 50, 783; Challa, Landau &
Binder 1986, Phys. Rev. B 34, 1841; Lee & Kosterlitz 1990, Phys. Rev. Lett. 65, 137):

* coexisting phases: P(m) with separate ordered and disordered modes;
* a negative dip of the Binder cumulant (a weight of the ordered peak below 1/3);
* hysteresis between warm-started up and down sweeps that does not relax with time;
* a susceptibility peak growing like the volume, χ_max ∝ V.

A second-order transition has m vanishing continuously on one side, Binder cumulants of
different sizes that cross, and χ_max growing like a power L^(γ/ν) below the volume. A
crossover changes m smoothly without any of these singular signs. "none" means the order
parameter does not change significantly over the control range (or there is too little
data to tell).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm
from scipy.stats import t as student_t

from landaulab.analyze.bootstrap import standard_error
from landaulab.analyze.critical_point import CriticalPointSearch
from landaulab.analyze.curves import SizeCurves, ordered_below
from landaulab.analyze.distribution import Modes
from landaulab.analyze.ensemble import Ensemble
from landaulab.analyze.findings import Findings
from landaulab.analyze.frame import PreparedData
from landaulab.analyze.hysteresis import HysteresisResult
from landaulab.analyze.landau import FreeEnergyFit
from landaulab.analyze.power_law import loglog_slope
from landaulab.estimate import Estimate

ORDERS = ("first", "second", "crossover", "none")


@dataclass(frozen=True)
class TransitionSignals:
    """Diagnostics gathered by the analysis, the input of :func:`classify`.

    Attributes
    ----------
    n_controls, n_sizes
        Control values (of the largest size) and sizes.
    change_z, change_fraction
        Significance (in standard errors) and relative size of the change of m_rms over
        the control range (largest size).
    coexistence
        Sentences for groups whose P(m) shows coexisting phases.
    binder_dip
        A sentence when the Binder cumulant dips significantly below zero, else None.
    hysteresis
        A sentence when up/down sweeps show lasting hysteresis, else None.
    slowing
        A sentence when up/down sweeps differ only transiently (critical slowing down).
    chi_volume_slope
        (value, lower, upper) of d log χ_max / d log V across sizes, or None.
    binder_crossing
        A sentence when Binder cumulants of different sizes cross significantly, else None.
    disordered_flow
        A sentence when the Binder cumulant at the disordered end falls significantly from
        the smallest to the largest size, else None.
    disordered_binder, ordered_binder
        Binder cumulant of the largest size at the disordered and ordered ends.
    quadratic_zero
        Whether the fitted a₂(T) changes sign.
    jump
        A sentence about the largest change of m between neighbouring controls.
    sharper_than_grid
        A sentence when m jumps between neighbouring controls and is flat on the ordered
        side (β consistent with 0), else None.
    """

    n_controls: int
    n_sizes: int
    change_z: float
    change_fraction: float
    coexistence: tuple[str, ...] = ()
    binder_dip: str | None = None
    hysteresis: str | None = None
    slowing: str | None = None
    chi_volume_slope: tuple[float, float, float] | None = None
    binder_crossing: str | None = None
    disordered_flow: str | None = None
    disordered_binder: float = float("nan")
    ordered_binder: float = float("nan")
    quadratic_zero: bool = False
    jump: str | None = None
    extra: tuple[str, ...] = field(default_factory=tuple)
    sharper_than_grid: str | None = None


@dataclass(frozen=True)
class OrderVerdict:
    """The order of the transition and the sentences behind it."""

    order: str
    evidence: tuple[str, ...]


def coexistence_sentence(
    modes: Modes, symmetric_signed: bool, control: float, size: float, scale: float
) -> str | None:
    """A sentence if the modes show coexisting ordered and disordered phases, else None."""
    locations = np.array(modes.locations)
    if locations.size < 2:
        return None
    reach = np.max(np.abs(locations))
    near_zero = np.abs(locations) < 0.3 * reach
    if symmetric_signed:
        if not (
            near_zero.any() and (locations > 0.3 * reach).any() and (locations < -0.3 * reach).any()
        ):
            return None
    elif locations.size == 2 and locations[0] < 0 < locations[1]:
        # two modes of opposite sign and similar size: broken Z₂ symmetry, not coexistence
        if abs(abs(locations[0]) - abs(locations[1])) < 0.3 * reach:
            return None
    shown = ", ".join(f"{x * scale:.3g}" for x in locations)
    return (
        f"P(m) has {locations.size} separate modes (m ≈ {shown}; dip to "
        f"{modes.dip_ratio:.0%} of the lower mode) at control {control:.4g}, size {size:.4g}: "
        "coexisting phases."
    )


def binder_dip_sentence(
    binder: np.ndarray,
    binder_se: np.ndarray,
    controls: np.ndarray,
    sizes: np.ndarray,
    *,
    alpha: float = 0.01,
    ordered_peak: np.ndarray | None = None,
    min_ordered_peak: float = 0.25,
    n_units: np.ndarray | None = None,
) -> str | None:
    """A sentence if some Binder cumulant is significantly negative (Bonferroni over groups).

    A dip means P(m) has a peak at m_* = √(⟨m⁴⟩/⟨m²⟩) of weight ⟨m²⟩²/⟨m⁴⟩ < 1/3 beside
    one at zero. ``ordered_peak`` is m_* relative to the largest m_rms of the size; a dip
    counts only where m_* is at least ``min_ordered_peak`` of it (an ordered phase). A dip
    from a vanishing tail (m_* ≈ 0: e.g. m decaying to zero within each run) is not
    coexistence.

    ``n_units`` is the number of resampling units (runs) behind each cumulant. Its standard
    error is then estimated from n units, so the studentised cumulant follows Student's t
    with n − 1 degrees of freedom, not the normal law (Student 1908, Biometrika 6, 1), and
    the bootstrap (plug-in) standard error is low by √((n − 1)/n) (Efron & Tibshirani 1993,
    "An Introduction to the Bootstrap", §5.2 and ch. 12): with ten runs the normal quantile
    would call a 3.5σ fluctuation of a cumulant that is zero (a Gaussian P(m) on the
    disordered side) a dip. Both corrections are applied per group; without ``n_units``
    the normal quantile is used.
    """
    ok = np.isfinite(binder) & np.isfinite(binder_se) & (binder_se > 0)
    if ordered_peak is not None:
        ok &= np.isfinite(ordered_peak) & (ordered_peak >= min_ordered_peak)
    if n_units is not None:
        ok &= np.asarray(n_units) >= 2
    if not ok.any():
        return None
    level = 1.0 - alpha / max(int(ok.sum()), 1)
    if n_units is None:
        critical = np.full(binder.shape, norm.ppf(level))
        se = binder_se
    else:
        units = np.maximum(np.asarray(n_units, dtype=float), 2.0)
        critical = student_t.ppf(level, units - 1.0)
        se = binder_se * np.sqrt(units / (units - 1.0))
    z = np.where(ok, -binder / np.where(ok, se, 1.0), -np.inf)
    excess = np.where(ok, z - critical, -np.inf)
    k = int(np.argmax(excess))
    if not (excess[k] > 0 and binder[k] < 0):
        return None
    return (
        f"The Binder cumulant dips to {binder[k]:.3f} ± {binder_se[k]:.3f} (below zero by "
        f"{z[k]:.1f} standard errors) at control {controls[k]:.4g}, size {sizes[k]:.4g}."
    )


def classify(signals: TransitionSignals) -> OrderVerdict:
    """Decide the order of the transition from the gathered signals.

    Rules, in order: too few controls or no significant change of m → ``none``; any
    first-order sign (coexistence, negative Binder dip, lasting hysteresis) → ``first``;
    with several sizes, a significant Binder crossing, or a susceptibility peak growing
    with size while m fluctuates around zero on the disordered side (the largest size's
    Binder cumulant below 0.3 there, or falling significantly with size there) → ``second``,
    otherwise ``crossover``; with one size, m fluctuating around zero on one side (Binder < 0.3)
    and ordered on the other (Binder > 0.4) → ``second``, otherwise ``crossover``.
    """
    evidence: list[str] = []
    if signals.n_controls < 3:
        evidence.append(
            f"Not enough data: {signals.n_controls} control value(s); locating a transition "
            "needs at least 3."
        )
        return OrderVerdict("none", tuple(evidence))
    changed = signals.change_z > 5.0 and signals.change_fraction > 0.2
    evidence.append(
        f"m changes by {signals.change_fraction:.0%} of its largest value over the control "
        f"range ({signals.change_z:.1f} standard errors)."
    )
    first_signs = [*signals.coexistence[:3]]
    if len(signals.coexistence) > 3:
        first_signs.append(f"(coexistence in {len(signals.coexistence)} groups in all)")
    if signals.binder_dip:
        first_signs.append(signals.binder_dip)
    if signals.hysteresis:
        first_signs.append(signals.hysteresis)
    if signals.slowing:
        evidence.append(signals.slowing)
    if signals.jump:
        evidence.append(signals.jump)
    if signals.chi_volume_slope is not None:
        value, lo, hi = signals.chi_volume_slope
        evidence.append(
            f"The susceptibility peak grows like V^{value:.2f} [{lo:.2f}, {hi:.2f}] with the "
            "volume (first order: V^1; second order: a smaller power)."
        )
    evidence.extend(signals.extra)
    if not changed and not first_signs:
        evidence.append("No transition found: the order parameter does not change significantly.")
        return OrderVerdict("none", tuple(evidence))
    if first_signs:
        evidence.extend(first_signs)
        return OrderVerdict("first", tuple(evidence))
    if signals.n_sizes >= 2:
        if signals.binder_crossing:
            evidence.append(signals.binder_crossing)
            return OrderVerdict("second", tuple(evidence))
        growing = signals.chi_volume_slope is not None and signals.chi_volume_slope[1] > 0.1
        # m fluctuates around zero on the disordered side: a scalar at its Gaussian cumulant,
        # or (any number of components) a cumulant that falls with size there
        disordered = signals.disordered_binder < 0.3 or signals.disordered_flow is not None
        if growing and disordered:
            if signals.disordered_flow is not None:
                evidence.append(signals.disordered_flow)
            evidence.append(
                "No significant Binder crossing, but the susceptibility peak grows with size "
                "and m fluctuates around zero on the disordered side: a second-order "
                "transition."
            )
            return OrderVerdict("second", tuple(evidence))
        evidence.append(
            "Binder cumulants of different sizes do not cross significantly and the "
            "susceptibility peak does not grow with size: a smooth crossover."
        )
        return OrderVerdict("crossover", tuple(evidence))
    vanishes = signals.disordered_binder < 0.3 and signals.ordered_binder > 0.4
    if signals.sharper_than_grid:
        evidence.append(signals.sharper_than_grid)
        evidence.append(
            "Without a sign of first order (coexistence, a Binder dip, hysteresis) the jump "
            "is reported as a crossover; a finer control grid would resolve it."
        )
        return OrderVerdict("crossover", tuple(evidence))
    if vanishes:
        evidence.append(
            f"m fluctuates around zero on one side (Binder {signals.disordered_binder:.2f}) and "
            f"is ordered on the other (Binder {signals.ordered_binder:.2f}); one size only, so "
            "finite-size scaling cannot confirm the singularity."
        )
        if signals.quadratic_zero:
            evidence.append("The fitted quadratic Landau coefficient a₂ changes sign.")
        return OrderVerdict("second", tuple(evidence))
    evidence.append(
        "m does not vanish on either side of the change (Binder cumulant "
        f"{signals.disordered_binder:.2f} / {signals.ordered_binder:.2f}): a smooth crossover."
    )
    return OrderVerdict("crossover", tuple(evidence))


@dataclass(frozen=True, eq=False, kw_only=True)
class OrderStep(Findings):
    """The order of the transition, the signals it was decided on, and the evidence."""

    order: str = "none"
    signals: TransitionSignals | None = None


def decide_order(
    prepared: PreparedData,
    ensemble: Ensemble,
    table: pd.DataFrame,
    fit: FreeEnergyFit,
    curves: Mapping[float, SizeCurves],
    symmetric: bool,
    search: CriticalPointSearch,
    hysteresis: HysteresisResult | None,
) -> OrderStep:
    """Gather the signals of the transition (:func:`transition_signals`) and classify it."""
    signals, evidence = transition_signals(
        prepared, ensemble, table, fit, curves, symmetric, search, hysteresis
    )
    verdict = classify(signals)
    return OrderStep(order=verdict.order, signals=signals, evidence=(*evidence, *verdict.evidence))


def transition_signals(
    prepared: PreparedData,
    ensemble: Ensemble,
    table: pd.DataFrame,
    fit: FreeEnergyFit,
    curves: Mapping[float, SizeCurves],
    symmetric: bool,
    search: CriticalPointSearch,
    hysteresis: HysteresisResult | None,
) -> tuple[TransitionSignals, tuple[str, ...]]:
    """The :class:`TransitionSignals` of an analysis, and the evidence gathered on the way
    (the sentence of a hysteresis test that found neither hysteresis nor slowing down)."""
    evidence: list[str] = []
    largest = curves[max(curves)]
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
        n_units=np.bincount(ensemble.resampling.unit_group, minlength=ensemble.n_groups),
    )
    hysteresis_sentence = slowing = None
    if hysteresis is not None:
        if hysteresis.verdict == "hysteresis":
            hysteresis_sentence = hysteresis.sentence
        elif hysteresis.verdict == "finite-time":
            slowing = hysteresis.sentence
        else:
            evidence.append(hysteresis.sentence)
    peaks = search.peaks()
    chi_slope = None
    if len(peaks) >= 2:
        keys = sorted(peaks)
        log_volume = np.log([curves[k].volume for k in keys])
        heights = np.array([peaks[k].height for k in keys])
        heights_boot = np.column_stack([_replicates(peaks[k].height_replicates) for k in keys])
        if np.ptp(log_volume) > 0:
            slope, slope_boot = loglog_slope(log_volume, heights, heights_boot)
            est = Estimate.from_replicates(slope, slope_boot)
            if est is not None and est.ci is not None:
                chi_slope = (float(est.value or 0.0), est.ci[0], est.ci[1])
    crossing_sentence = None
    crossings = search.crossings()
    if crossings:
        small, large, loc = crossings[-1]
        crossing_sentence = (
            f"Binder cumulants of sizes {small:.4g} and {large:.4g} cross at control "
            f"{prepared.to_control(loc.value):.4g} with U* = {loc.height:.3f}."
        )
    elif len(curves) >= 2:
        crossing_sentence = binder_reversal(curves)
    flow = disordered_flow_sentence(curves) if len(curves) >= 2 else None
    finite_binder = largest.binder[np.isfinite(largest.binder)]
    below = ordered_below(largest)
    if finite_binder.size:
        ordered_u = float(finite_binder[0] if below else finite_binder[-1])
        disordered_u = float(finite_binder[-1] if below else finite_binder[0])
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
    energy_sentence = energy_jump(prepared, ensemble, largest)
    if energy_sentence:
        extra.append(energy_sentence)
    signals = TransitionSignals(
        n_controls=int(largest.t.size),
        n_sizes=len(curves),
        change_z=float(change_z) if np.isfinite(change_z) else 1e9,
        change_fraction=change_fraction,
        coexistence=tuple(coexistence),
        binder_dip=dip,
        hysteresis=hysteresis_sentence,
        slowing=slowing,
        chi_volume_slope=chi_slope,
        binder_crossing=crossing_sentence,
        disordered_flow=flow,
        disordered_binder=disordered_u,
        ordered_binder=ordered_u,
        quadratic_zero="quadratic_coefficient_zero" in search.located,
        jump=jump,
        extra=tuple(extra),
        sharper_than_grid=search.sharper_than_grid,
    )
    return signals, tuple(evidence)


def _replicates(values: np.ndarray | None) -> np.ndarray:
    """Replicates of a located height (an empty array when it has none)."""
    return np.asarray(values if values is not None else [], dtype=float)


def binder_end_trends(
    curves: Mapping[float, SizeCurves], n_end: int = 2
) -> tuple[float, float, float, float] | None:
    """How the Binder cumulant changes from the smallest to the largest size at each end.

    Binder (1981, Z. Phys. B 43, 119): with growing size the cumulant flows to its ordered
    value (2/3) in the ordered phase and to its disordered value (0 for a scalar order
    parameter, 1/3 for two components) in the disordered phase; at a smooth crossover it
    flows the same way at both ends. The flow is measured between the smallest and the
    largest size, whose ratio is the largest and whose cumulants differ most (the difference
    is a function of (L_large/L_small)^(1/ν)·t), over the ``n_end`` outermost common
    controls at each end, in units of the bootstrap standard error of the summed difference.

    Returns
    -------
    (z_ordered, z_disordered, small, large), or None with fewer than 2·n_end usable common
    controls. ``z_ordered`` > 0: the larger size is more ordered at the ordered end;
    ``z_disordered`` > 0: the larger size is less ordered at the disordered end.
    """
    keys = sorted(curves)
    if len(keys) < 2:
        return None
    a, b = curves[keys[0]], curves[keys[-1]]
    common, ia, ib = np.intersect1d(a.t, b.t, return_indices=True)
    if common.size < 2 * n_end:
        return None
    diff = b.binder[ib] - a.binder[ia]
    se = standard_error(b.binder_boot[:, ib] - a.binder_boot[:, ia])
    ok = np.isfinite(diff) & np.isfinite(se) & (se > 0)
    if ok.sum() < 2 * n_end:
        return None
    diff, se = diff[ok], se[ok]
    oriented = diff if ordered_below(b) else -diff[::-1]
    se = se if ordered_below(b) else se[::-1]
    z_ordered = float(oriented[:n_end].sum() / np.sqrt(np.sum(se[:n_end] ** 2)))
    z_disordered = float(-oriented[-n_end:].sum() / np.sqrt(np.sum(se[-n_end:] ** 2)))
    return z_ordered, z_disordered, float(keys[0]), float(keys[-1])


def binder_reversal(curves: Mapping[float, SizeCurves], z: float = 2.0) -> str | None:
    """A sentence when the Binder cumulants of the smallest and largest sizes swap order.

    If the larger size has the larger cumulant at the ordered end and the smaller one at the
    disordered end (each by more than ``z`` standard errors over the two outermost controls,
    :func:`binder_end_trends`), the curves cross somewhere in between even when no single
    crossing stands out from the noise.
    """
    trends = binder_end_trends(curves)
    if trends is None:
        return None
    z_ordered, z_disordered, small, large = trends
    if not (z_ordered > z and z_disordered > z):
        return None
    return (
        f"Binder cumulants of sizes {small:.4g} and {large:.4g} swap order across the "
        f"control range (larger size above by {z_ordered:.1f}σ on the ordered side, below by "
        f"{z_disordered:.1f}σ on the disordered side): they cross in between."
    )


def disordered_flow_sentence(curves: Mapping[float, SizeCurves], z: float = 2.0) -> str | None:
    """A sentence when the Binder cumulant at the disordered end falls significantly with
    size (:func:`binder_end_trends`): the larger system is less ordered there, so m
    fluctuates around zero in the thermodynamic limit whatever the number of components of
    the order parameter (whose disordered cumulant is 0 for one, 1/3 for two)."""
    trends = binder_end_trends(curves)
    if trends is None or not trends[1] > z:
        return None
    _, z_disordered, small, large = trends
    return (
        f"At the disordered end the Binder cumulant of size {large:.4g} lies below that of "
        f"size {small:.4g} by {z_disordered:.1f}σ: m flows to zero with size there."
    )


def energy_jump(prepared: PreparedData, ensemble: Ensemble, largest: SizeCurves) -> str | None:
    """A sentence when the mean energy jumps between neighbouring controls (a latent-heat
    analogue), else None."""
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


@dataclass(frozen=True, eq=False, kw_only=True)
class CoexistenceStep(Findings):
    """The discontinuities of a first-order transition at its located point.

    Attributes
    ----------
    jump
        The jump of m (user units) between the controls of the largest size that bracket
        T*, with its 95 % bootstrap interval (None when not estimable).
    latent_heat
        The jump of the mean energy column there (disordered minus ordered side), the
        analogue of latent heat (None without an energy column).
    """

    jump: Estimate | None = None
    latent_heat: Estimate | None = None


def coexistence_jumps(
    prepared: PreparedData,
    ensemble: Ensemble,
    largest: SizeCurves,
    m: np.ndarray,
    m_boot: np.ndarray,
    at: float | None,
) -> CoexistenceStep:
    """The jump of m and of the mean energy across a first-order transition at ``at``
    (internal units), between the two controls of the largest size that bracket it.

    At a first-order transition the order parameter and the energy are discontinuous at
    T* (Landau & Lifshitz, "Statistical Physics", §§142–143; the energy jump is the latent
    heat, Challa, Landau & Binder 1986, Phys. Rev. B 34, 1841). At finite size the jump is
    rounded over a window O(1/V) around T*, so the bracketing controls may mix both phases
    and the jump measured between them is a lower bound when they lie inside that window.
    Intervals: the bootstrap over runs of the ensemble (the same replicates as every other
    moment), energy means resampled with the same weights.
    """
    if at is None or not np.isfinite(at):
        return CoexistenceStep()
    t = largest.t
    below = ordered_below(largest)
    ordered_side = np.flatnonzero((t < at) if below else (t > at))
    disordered_side = np.flatnonzero((t >= at) if below else (t <= at))
    if ordered_side.size == 0 or disordered_side.size == 0:
        return CoexistenceStep(not_estimable={"jump": "T* lies at the edge of the controls"})
    k_o = int(ordered_side[-1] if below else ordered_side[0])
    k_d = int(disordered_side[0] if below else disordered_side[-1])
    jump = Estimate.from_replicates(
        (m[k_o] - m[k_d]) * prepared.scale, (m_boot[:, k_o] - m_boot[:, k_d]) * prepared.scale
    )
    low, high = sorted(float(prepared.to_control(t[k])) for k in (k_o, k_d))
    evidence = []
    if jump is not None:
        evidence.append(
            f"m jumps by {jump} between {low:.4g} and {high:.4g}, the controls bracketing T* "
            "(largest size; a lower bound where they lie inside the finite-size rounding)."
        )
    latent = None
    not_estimable: dict[str, str] = {}
    if prepared.row_energy is None:
        not_estimable["latent_heat"] = "no energy column (energy=..., --energy COL)"
    else:
        energy = prepared.row_energy[prepared.row_kept]
        ok = np.isfinite(energy)
        n_units = int(ensemble.row_unit.max()) + 1 if ensemble.row_unit.size else 0
        sums = np.bincount(ensemble.row_unit[ok], weights=energy[ok], minlength=n_units)
        counts = np.bincount(ensemble.row_unit[ok], minlength=n_units).astype(float)
        total, total_boot = ensemble.resampling.group_sum(sums)
        number, number_boot = ensemble.resampling.group_sum(counts)
        with np.errstate(all="ignore"):
            mean, mean_boot = total / number, total_boot / number_boot
        g_o, g_d = int(largest.index[k_o]), int(largest.index[k_d])
        latent = Estimate.from_replicates(
            (mean[g_d] - mean[g_o]) * prepared.energy_scale,
            (mean_boot[:, g_d] - mean_boot[:, g_o]) * prepared.energy_scale,
        )
        if latent is not None:
            evidence.append(
                f"The mean {prepared.columns.energy} jumps by {latent} across T* (disordered "
                "minus ordered side): the analogue of latent heat."
            )
    return CoexistenceStep(
        jump=jump, latent_heat=latent, evidence=tuple(evidence), not_estimable=not_estimable
    )
