"""Critical exponents by finite-size scaling, and by direct power-law fits for one size.

Finite-size scaling (Fisher & Barber 1972, PRL 28, 1516; Binder 1981, Z. Phys. B 43, 119;
Newman & Barkema 1999, "Monte Carlo Methods in Statistical Physics", ch. 8): with L the
size column *as given*,

* χ_max(L) ∝ L^(γ/ν)  →  γ/ν from the slope of log χ_max against log L,
* m(T_c, L) ∝ L^(−β/ν) →  β/ν from m_rms interpolated at T_c,
* ν and β/ν from the data collapse of m_rms with T_c held fixed (see
  :mod:`landaulab.analyze.collapse`), and β = (β/ν)·ν, γ = (γ/ν)·ν replicate by replicate.

Because the ratios are relative to the size column, a mean-field system sized by its
number of degrees of freedom N gives β/ν = 1/4, γ/ν = 1/2, ν = 2 (β = 1/2, γ = 1 still).

With one size only, β and γ come from direct fits m ∝ |T − T_c|^β on the ordered side
(points where m is clearly non-zero) and χ ∝ |T − T_c|^(−γ) on the disordered side
(points where m fluctuates around zero, Binder cumulant below 0.1). The m of the direct fit
is the most probable |m| (the minimum of the fitted Landau F) where the fits give it: the
moments of m of one finite size are rounded near T_c, which biases β (see
:func:`direct_exponents`).

The Widom relation γ = β(δ − 1) checks the exponents against δ from a field scan
(:mod:`landaulab.analyze.field`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from landaulab.analyze.bootstrap import standard_error
from landaulab.analyze.collapse import FSS_SIZES, CollapseResult, collapse_order_parameter
from landaulab.analyze.critical_point import CriticalPointSearch, Headline, Located
from landaulab.analyze.curves import ORDERED_BINDER, SizeCurves, ordered_below
from landaulab.analyze.findings import Findings
from landaulab.analyze.frame import PreparedData
from landaulab.analyze.power_law import direct_power_law, loglog_slope, value_at
from landaulab.analyze.records import estimate_from_dict
from landaulab.estimate import Estimate

if TYPE_CHECKING:
    from landaulab.analyze.landau import FreeEnergyFit

__all__ = [
    "EXPONENT_NAMES",
    "Exponents",
    "ExponentsStep",
    "direct_exponents",
    "direct_power_law",
    "estimate_exponents",
    "loglog_slope",
    "value_at",
    "widom_sentence",
]

EXPONENT_NAMES = ("beta", "gamma", "nu", "beta_over_nu", "gamma_over_nu", "delta")


@dataclass(frozen=True)
class Exponents:
    """Critical exponents (None where not estimable) and how they were obtained."""

    beta: Estimate | None = None
    gamma: Estimate | None = None
    nu: Estimate | None = None
    beta_over_nu: Estimate | None = None
    gamma_over_nu: Estimate | None = None
    method: str = ""
    delta: Estimate | None = None

    def to_dict(self) -> dict[str, Any]:
        """The six exponents, each ``{"value", "ci"}`` or None."""
        return {
            name: (getattr(self, name).to_dict() if getattr(self, name) is not None else None)
            for name in EXPONENT_NAMES
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], method: str = "") -> Exponents:
        """The inverse of :meth:`to_dict` (the method is stored beside it in the JSON of an
        analysis, as ``exponents_method``)."""
        values = {name: estimate_from_dict(data.get(name)) for name in EXPONENT_NAMES}
        return cls(method=method, **values)


@dataclass(frozen=True, eq=False, kw_only=True)
class ExponentsStep(Findings):
    """The exponents of an analysis with the collapse and hyperscaling check behind them."""

    exponents: Exponents = field(default_factory=Exponents)
    collapse: CollapseResult | None = None
    hyperscaling: Estimate | None = None


_NAMES = ("beta", "gamma", "nu", "beta_over_nu", "gamma_over_nu")


def estimate_exponents(
    prepared: PreparedData,
    order: str,
    curves: Mapping[float, SizeCurves],
    headline: Headline,
    search: CriticalPointSearch,
    n_bootstrap: int,
    fit: FreeEnergyFit | None = None,
) -> ExponentsStep:
    """β, γ, ν, β/ν and γ/ν of a second-order transition at the headline T_c.

    Several sizes: finite-size scaling (the largest :data:`FSS_SIZES`), ν and β/ν from the
    collapse of m_rms, γ/ν from χ at T_c. One size: direct power laws
    (:func:`direct_exponents`), β from the most probable |m| of the Landau ``fit`` where
    it gives one. Other orders, or no T_c: nothing, with the reason.
    """
    not_estimable: dict[str, str] = {}
    if order != "second":
        reason = {
            "first": "exponents are not defined at a first-order transition",
            "crossover": "a crossover has no critical point",
            "none": "no transition found",
        }[order]
        for name in _NAMES:
            not_estimable[name] = reason
        if order == "crossover" and search.sharper_than_grid is not None:
            not_estimable["beta"] = "the transition is sharper than the control grid"
        return ExponentsStep(exponents=Exponents(method="none"), not_estimable=not_estimable)
    located = headline.located
    if located is None:
        for name in _NAMES:
            not_estimable[name] = "the critical point could not be located"
        return ExponentsStep(exponents=Exponents(method="none"), not_estimable=not_estimable)
    tc, tc_boot = located.value, located.replicates
    sizes = list(curves)
    if len(sizes) < 2:
        c = curves[sizes[0]]
        return direct_exponents(
            c,
            tc,
            tc_boot,
            located
            if headline.name == "vanishing_point" and np.isfinite(located.exponent)
            else None,
            search.critical_fluctuations,
            most_probable=(
                (fit.m_star[c.index], fit.m_star_replicates[:, c.index])
                if fit is not None
                else None
            ),
        )
    return _finite_size_scaling(prepared, curves, tc, tc_boot, search, n_bootstrap)


def _finite_size_scaling(
    prepared: PreparedData,
    curves: Mapping[float, SizeCurves],
    tc: float,
    tc_boot: np.ndarray,
    search: CriticalPointSearch,
    n_bootstrap: int,
) -> ExponentsStep:
    evidence: list[str] = []
    not_estimable: dict[str, str] = {}
    peaks = search.peaks()
    all_keys = list(curves)
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
            np.column_stack(
                [np.asarray(peaks[k].height_replicates, dtype=float) for k in peak_keys]
            ),
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
    collapse = collapse_order_parameter(
        prepared,
        curves,
        keys,
        tc,
        tc_boot,
        beta_over_nu_tc.value if beta_over_nu_tc and beta_over_nu_tc.value is not None else 0.25,
        n_bootstrap,
    )
    not_estimable.update(collapse.not_estimable)
    collapse_fit = collapse.fit
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
        if gamma_over_nu is not None and gamma_over_nu.value is not None:
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
        direct = direct_exponents(curves[keys[-1]], tc, tc_boot).exponents
        beta, gamma = direct.beta, direct.gamma
        method = "finite-size scaling for the ratios; β, γ from direct fits of the largest size"
    if beta_over_nu is None:
        not_estimable["beta_over_nu"] = "m could not be compared across sizes at T_c"
    if (
        beta_over_nu is not None
        and gamma_over_nu is not None
        and beta_over_nu.value is not None
        and gamma_over_nu.value is not None
    ):
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
    return ExponentsStep(
        exponents=Exponents(
            beta=beta,
            gamma=gamma,
            nu=nu,
            beta_over_nu=beta_over_nu,
            gamma_over_nu=gamma_over_nu,
            method=method,
        ),
        collapse=collapse.result,
        hyperscaling=hyperscaling,
        evidence=tuple(evidence),
        not_estimable=not_estimable,
    )


def direct_exponents(
    c: SizeCurves,
    tc: float,
    tc_boot: np.ndarray,
    vanishing: Located | None = None,
    fluctuation_peak: bool = True,
    most_probable: tuple[np.ndarray, np.ndarray] | None = None,
) -> ExponentsStep:
    """β and γ from power laws in |T − T_c| (one size); ν and the ratios need sizes.

    With T_c from the vanishing point (``vanishing``), β is that fit's exponent (fitted
    jointly with T_c); without an interior susceptibility peak as well
    (``fluctuation_peak`` False), the fluctuations carry no critical information and γ is
    not estimated.

    Otherwise β is fitted to the most probable |m| per control (``most_probable``: the
    minimum of the fitted Landau F, data and replicates) where it is finite at every
    clearly ordered control, else to m_rms. The ordered controls of one finite size
    nearest T_c lie in its finite-size rounding: P(m) there is a pair of peaks at the
    bulk order parameter broadened by the fluctuations (Binder 1981, Z. Phys. B 43, 119),
    so the moments of m depart from it while the position of the peak does not (for the
    Landau form P ∝ exp(−V·F) the peak sits at the minimum of F at every V). For the
    mean-field F = a·t·m² + c·m⁴ at x = a·t·√(V/c) = −4, where the Binder cumulant has
    just reached the ordered threshold 0.59, m_rms is 4 % below the minimum of F (2 % at
    x = −6): more than the bootstrap error of m, and growing toward T_c, so a power law
    through m_rms is steeper than β and its interval misses β = 1/2.
    """
    not_estimable: dict[str, str] = {}
    for name in ("nu", "beta_over_nu", "gamma_over_nu"):
        not_estimable.setdefault(name, "finite-size scaling needs at least two sizes")
    below = ordered_below(c)
    ordered_side = (c.t < tc) if below else (c.t > tc)
    ordered = ordered_side & (c.binder > ORDERED_BINDER) & np.isfinite(c.rms)
    if vanishing is not None:
        beta_value, beta_boot = vanishing.exponent, vanishing.exponent_replicates
    else:
        m, m_boot = c.rms, c.rms_boot
        if most_probable is not None and np.all(np.isfinite(most_probable[0][ordered])):
            m, m_boot = most_probable
        rows = min(m_boot.shape[0], tc_boot.size)
        beta_value, beta_boot = direct_power_law(c.t, m, m_boot[:rows], ordered, tc, tc_boot[:rows])
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
    return ExponentsStep(
        exponents=Exponents(beta=beta, gamma=gamma, method="direct power-law fits (one size)"),
        not_estimable=not_estimable,
    )


def widom_sentence(exponents: Exponents) -> str | None:
    """The Widom scaling relation γ = β(δ − 1) as a consistency check, or None."""
    beta, gamma, delta = exponents.beta, exponents.gamma, exponents.delta
    if beta is None or gamma is None or delta is None:
        return None
    if beta.value is None or delta.value is None:
        return None
    predicted = beta.value * (delta.value - 1.0)
    return (
        f"Widom relation: β(δ − 1) = {predicted:.3g} against γ = {gamma} "
        "(equal when the exponents are consistent)."
    )
