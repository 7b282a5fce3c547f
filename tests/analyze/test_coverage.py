"""Accuracy: the truth lies inside the reported 95 % intervals in most seeds.

Each test repeats an analysis over independent seeds and counts the seeds whose interval
misses the known answer; a correct 95 % interval misses Binomial(n, 0.05) times, so the
allowed number of misses is that distribution's 99 % quantile (see ``allowed_failures``).
Finite-size corrections are kept below the statistical errors by the choice of sizes; the
targets are the exact answers (KNOWN_ANSWERS): T_c = 1, β = 1/2, γ = 1 for Curie–Weiss,
T_c = 1 and β = 1/2 for the planted second-order Landau ensemble, T* = 1.25 for the planted
first-order one and T_c = 2/ln(1 + √2) for the 2D Ising model.
"""

from __future__ import annotations

import numpy as np
import pytest

from landaulab.datasets import FIRST_ORDER, SECOND_ORDER, curie_weiss, ising2d, planted_landau
from landaulab.datasets.ising2d import CRITICAL_TEMPERATURE

from .conftest import allowed_failures, run_analysis

SEEDS = range(10)


def _misses(estimates, truth: float) -> int:
    return sum(1 for e in estimates if e is None or not e.contains(truth))


def test_curie_weiss_critical_point_and_exponents_coverage():
    results = []
    for seed in SEEDS:
        frame = curie_weiss(
            np.linspace(0.93, 1.07, 11), [1000, 4000], n_runs=20, n_steps=100, seed=100 + seed
        )
        results.append(run_analysis(frame, n_bootstrap=100, seed=seed))
    limit = allowed_failures(len(results))
    assert all(r.order == "second" for r in results)
    assert _misses([r.critical_point for r in results], 1.0) <= limit
    assert _misses([r.exponents.beta for r in results], 0.5) <= limit
    assert _misses([r.exponents.gamma for r in results], 1.0) <= limit
    # with N as the size, the finite-size-scaling ratios are β/ν = 1/4, γ/ν = 1/2
    assert _misses([r.exponents.beta_over_nu for r in results], 0.25) <= limit
    assert _misses([r.exponents.gamma_over_nu for r in results], 0.5) <= limit


def test_planted_second_order_quadratic_zero_and_beta_coverage():
    zeros, betas = [], []
    for seed in SEEDS:
        frame = planted_landau(
            np.linspace(0.6, 1.4, 17),
            [2000],
            model=SECOND_ORDER,
            n_runs=20,
            n_steps=100,
            seed=200 + seed,
        )
        result = run_analysis(frame, seed=seed, n_bootstrap=100)
        assert result.order == "second"
        zeros.append(result.landau.quadratic_zero)
        betas.append(result.exponents.beta)
    limit = allowed_failures(len(zeros))
    assert _misses(zeros, SECOND_ORDER.transition_temperature) <= limit
    assert _misses(betas, 0.5) <= limit


def test_planted_first_order_transition_point_coverage():
    points = []
    for seed in SEEDS:
        frame = planted_landau(
            np.linspace(1.1, 1.4, 13),
            [100, 200],
            model=FIRST_ORDER,
            n_runs=20,
            n_steps=100,
            seed=300 + seed,
        )
        result = run_analysis(frame, seed=seed, n_bootstrap=100)
        assert result.order == "first"
        points.append(result.critical_point)
    assert _misses(points, FIRST_ORDER.transition_temperature) <= allowed_failures(len(points))


def test_planted_landau_coefficients_coverage():
    # a₂ = T − 1, a₄ = −1, a₆ = 1 at every temperature; the coexistence range, where both
    # minima of F are sampled. One interval per (term, temperature, seed); the three terms
    # at one temperature are correlated, so the bound counts temperatures, not terms.
    misses, total = 0, 0
    for seed in range(4):
        frame = planted_landau(
            np.linspace(1.0, 1.3, 7),
            [100],
            model=FIRST_ORDER,
            n_runs=20,
            n_steps=200,
            seed=600 + seed,
        )
        table = run_analysis(frame, seed=seed).landau.coefficients
        truth = {"a2": table["control"] - 1.0, "a4": -1.0, "a6": 1.0}
        missed = np.zeros(len(table), dtype=bool)
        for name, expected in truth.items():
            inside = (table[f"{name}_ci_low"] <= expected) & (expected <= table[f"{name}_ci_high"])
            missed |= ~inside.to_numpy()
        misses += int(missed.sum())
        total += len(table)
    # a temperature is missed when any of its three intervals misses: at most 3 × 5 %
    assert misses <= allowed_failures(total, coverage=1 - 3 * 0.05)


def test_ising_critical_point_coverage():
    points = []
    for seed in range(5):
        frame = ising2d(
            np.linspace(2.1, 2.45, 8), [8, 16], n_runs=16, n_sweeps=120, seed=400 + seed
        )
        result = run_analysis(frame, size="L", volume="volume", seed=seed, n_bootstrap=100)
        assert result.order == "second"
        points.append(result.critical_point)
    assert _misses(points, CRITICAL_TEMPERATURE) <= allowed_failures(len(points))


@pytest.mark.slow
def test_ising_exponents_coverage_larger_lattices():
    results = []
    for seed in range(10):
        frame = ising2d(
            np.linspace(2.15, 2.4, 11), [16, 24, 32], n_runs=16, n_sweeps=400, seed=500 + seed
        )
        results.append(run_analysis(frame, size="L", volume="volume", seed=seed))
    limit = allowed_failures(len(results))
    assert _misses([r.critical_point for r in results], CRITICAL_TEMPERATURE) <= limit
    assert _misses([r.exponents.beta_over_nu for r in results], 0.125) <= limit
    assert _misses([r.exponents.gamma_over_nu for r in results], 1.75) <= limit
    assert _misses([r.exponents.nu for r in results], 1.0) <= limit
