"""Finite-size effects the intervals must carry, on planted Landau ensembles of one size.

P(m) ∝ exp(−N·F(m; T)) with F = a(T − T₀)m² + c·m⁴ is second order at T₀ with β = 1/2
(Landau & Lifshitz, "Statistical Physics", §146). On the ordered side near T₀ the moments
of m of a finite N are rounded (m_rms falls below the minimum of F toward T₀), while the
most probable |m|, the minimum of F, is not: β = 1/2 from one size is measured on the
latter.
"""

from __future__ import annotations

import numpy as np

from landaulab.analyze.curves import build_curves
from landaulab.analyze.distribution import build_histograms, is_symmetric
from landaulab.analyze.ensemble import build_ensemble
from landaulab.analyze.exponents import direct_exponents
from landaulab.analyze.frame import ColumnSpec, prepare
from landaulab.analyze.landau import SYMMETRIC, fit_free_energy
from landaulab.datasets import PlantedLandau, planted_landau

from .conftest import allowed_failures

#: Second order at T₀ = 1 (β = 1/2), one size N.
MODEL = PlantedLandau(a=1.0, t0=1.0, quartic=1.0)
N = 1000.0


def _frame(seed: int, n_runs: int = 12):
    # 15 controls 0.80 … 1.15: the ordered edge has well depth N·a²·0.2²/(4c) = 10
    return planted_landau(
        np.linspace(0.8, 1.15, 15), [N], model=MODEL, n_runs=n_runs, n_steps=60, seed=seed
    )


SEEDS = range(6)


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
