"""Finite-size effects the intervals must carry, on planted Landau ensembles of one size.

P(m) ∝ exp(−N·F(m; T)) with F = a(T − T₀)m² + c·m⁴ is second order at T₀ with β = 1/2
(Landau & Lifshitz, "Statistical Physics", §146). At finite N the susceptibility
χ = N·Var(|m|) peaks at a *pseudo-critical* point below T₀ (Fisher & Barber 1972): with
u = m·(Nc)^(1/4), P ∝ exp(−(x·u² + u⁴)) and x = a(T − T₀)·√(N/c), so the peak sits at a
fixed x* and T* − T₀ = x*·√(c/N)/a, computed here by quadrature: a shift the bootstrap of
the peak position does not see, so the peak of one size never stands for T₀. On the
ordered side the moments of m are rounded too (m_rms falls below the minimum of F toward
T₀), while the most probable |m|, the minimum of F, is not: β = 1/2 from one size is
measured on the latter.
"""

from __future__ import annotations

import numpy as np

from landaulab.analyze import analyze
from landaulab.analyze.curves import build_curves
from landaulab.analyze.distribution import build_histograms, is_symmetric
from landaulab.analyze.ensemble import build_ensemble
from landaulab.analyze.exponents import direct_exponents
from landaulab.analyze.frame import ColumnSpec, prepare
from landaulab.analyze.landau import SYMMETRIC, fit_free_energy
from landaulab.analyze.locators.susceptibility_peak import PSEUDO
from landaulab.datasets import PlantedLandau, planted_landau

from .conftest import allowed_failures

#: Second order at T₀ = 1 (β = 1/2), one size N.
MODEL = PlantedLandau(a=1.0, t0=1.0, quartic=1.0)
N = 1000.0


def scaled_peak() -> float:
    """x* = argmax over x of Var(|u|) under P(u) ∝ exp(−(x·u² + u⁴)), by quadrature."""
    u = np.linspace(0.0, 6.0, 6001)
    x = np.linspace(-4.0, 0.0, 4001)
    weight = np.exp(-(x[:, None] * u[None, :] ** 2 + u[None, :] ** 4))
    weight /= weight.sum(axis=1, keepdims=True)
    variance = (weight * u**2).sum(axis=1) - (weight * u).sum(axis=1) ** 2
    return float(x[np.argmax(variance)])


def pseudo_critical_point() -> float:
    """T* of the χ peak of size N: T₀ + x*·√(c/N)/a."""
    return MODEL.t0 + scaled_peak() * np.sqrt(MODEL.quartic / N) / MODEL.a


def _frame(seed: int, n_runs: int = 12):
    # 15 controls 0.80 … 1.15: the ordered edge has well depth N·a²·0.2²/(4c) = 10
    return planted_landau(
        np.linspace(0.8, 1.15, 15), [N], model=MODEL, n_runs=n_runs, n_steps=60, seed=seed
    )


def _result(seed: int):
    return analyze(
        _frame(seed),
        order_parameter="m",
        control="temperature",
        size="N",
        use_abs=True,
        n_bootstrap=200,
        seed=seed,
    )


SEEDS = range(6)


def test_the_chi_peak_of_one_size_is_the_pseudo_critical_point():
    """The planted shift is real and resolved: the peak is at T*, away from T₀."""
    t_star = pseudo_critical_point()
    assert MODEL.t0 - t_star > 0.05  # x* ≈ −2.16: T* ≈ 0.932
    misses = 0
    for seed in SEEDS:
        peak = next(
            e for e in _result(seed).critical_point_estimates if e.method == "susceptibility_peak"
        )
        misses += not peak.contains(t_star)
    assert misses <= allowed_failures(len(SEEDS))


def test_a_pseudo_critical_point_never_stands_for_the_critical_point():
    """With one size the χ peak is listed as not valid (its shift cannot be measured); the
    headline comes from an estimator of T₀ itself and its interval covers T₀."""
    misses = 0
    for seed in SEEDS:
        result = _result(seed)
        assert result.order == "second"
        peak = next(e for e in result.critical_point_estimates if e.method == "susceptibility_peak")
        assert not peak.valid
        assert peak.reason.startswith(PSEUDO)
        assert result.critical_point.method != "susceptibility_peak"
        misses += not result.critical_point.contains(MODEL.t0)
    assert misses <= allowed_failures(len(SEEDS))


def _direct_beta(seed: int):
    """β of one size at the planted T₀ (no uncertainty in T_c): fitted to the most probable
    |m| of the Landau fits, and to m_rms."""
    prepared = prepare(
        _frame(seed, n_runs=40),
        ColumnSpec(order_parameter="m", control="temperature", size="N"),
        use_abs=True,
    )
    ensemble = build_ensemble(prepared, 200, seed)
    histograms = build_histograms(ensemble, is_symmetric(ensemble.row_value, True))
    fit = fit_free_energy(ensemble, histograms, SYMMETRIC)
    c = build_curves(ensemble)[N]
    tc = (MODEL.t0 - prepared.control_offset) / prepared.control_scale
    tc_boot = np.full(200, tc)
    most_probable = (fit.m_star[c.index], fit.m_star_replicates[:, c.index])
    landau = direct_exponents(c, tc, tc_boot, most_probable=most_probable)
    rms = direct_exponents(c, tc, tc_boot)
    return landau.exponents.beta, rms.exponents.beta


def test_direct_beta_of_one_size_is_read_on_the_most_probable_m():
    """With T_c exact, β from the minimum of the fitted F covers 1/2 at the nominal rate;
    β from m_rms (40 runs: small errors) shows the rounding bias, steeper than 1/2."""
    misses = steeper = 0
    for seed in SEEDS:
        landau, rms = _direct_beta(seed)
        misses += not landau.contains(0.5)
        steeper += rms.ci[0] > 0.5
    assert misses <= allowed_failures(len(SEEDS))
    assert steeper > len(SEEDS) // 2
