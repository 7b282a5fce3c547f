"""Shared data sets and analyses for the analysis tests (built once per test run)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

from landaulab.analyze import AnalysisResult, analyze
from landaulab.datasets import FIRST_ORDER, SECOND_ORDER, curie_weiss, ising2d, planted_landau


def allowed_failures(n_trials: int, coverage: float = 0.95, alpha: float = 0.01) -> int:
    """Most misses of a nominal ``coverage`` interval in ``n_trials`` independent seeds.

    A correct 95 % interval misses Binomial(n, 0.05) times; more misses than the
    (1 − alpha) quantile happen with probability below ``alpha``.
    """
    return int(binom.ppf(1.0 - alpha, n_trials, 1.0 - coverage))


def within_errors(estimate, truth: float) -> bool:
    """|value − truth| within the full width of the 95 % interval (≈ 4 standard errors).

    For single-seed checks; coverage at the nominal level is tested over many seeds in
    ``test_coverage.py``.
    """
    if estimate is None or estimate.value is None or estimate.ci is None:
        return False
    return abs(estimate.value - truth) <= estimate.ci[1] - estimate.ci[0]


def run_analysis(frame: pd.DataFrame, **kwargs) -> AnalysisResult:
    """``analyze`` with the defaults used throughout these tests."""
    options = {
        "order_parameter": "m",
        "control": "temperature",
        "size": "N",
        "use_abs": True,
        "n_bootstrap": 200,
        "seed": 0,
    }
    options.update(kwargs)
    return analyze(frame, **options)


@pytest.fixture(scope="session")
def curie_weiss_frame() -> pd.DataFrame:
    """Curie–Weiss, N = 400 and 1600, around T_c = 1."""
    return curie_weiss(np.linspace(0.9, 1.1, 11), [400, 1600], n_runs=20, n_steps=100, seed=11)


@pytest.fixture(scope="session")
def curie_weiss_result(curie_weiss_frame: pd.DataFrame) -> AnalysisResult:
    """The analysis of :func:`curie_weiss_frame` (|m|)."""
    return run_analysis(curie_weiss_frame)


@pytest.fixture(scope="session")
def first_order_result() -> AnalysisResult:
    """Planted F = (T − 1)m² − m⁴ + m⁶ (first order at T = 1.25), three sizes."""
    frame = planted_landau(
        np.linspace(1.1, 1.4, 13),
        [50, 100, 200],
        model=FIRST_ORDER,
        n_runs=20,
        n_steps=100,
        seed=4,
    )
    return run_analysis(frame)


@pytest.fixture(scope="session")
def second_order_single_size_result() -> AnalysisResult:
    """Planted F = (T − 1)m² + m⁴ with one size (no finite-size scaling possible)."""
    frame = planted_landau(
        np.linspace(0.6, 1.4, 17), [2000], model=SECOND_ORDER, n_runs=20, n_steps=100, seed=5
    )
    return run_analysis(frame)


@pytest.fixture(scope="session")
def crossover_result() -> AnalysisResult:
    """Curie–Weiss in a field h = 0.1: m changes smoothly, no transition."""
    frame = curie_weiss(
        np.linspace(0.5, 2.0, 13), [100, 400, 1600], n_runs=20, n_steps=100, field=0.1, seed=6
    )
    return run_analysis(frame, use_abs=False)


@pytest.fixture(scope="session")
def ising_frame() -> pd.DataFrame:
    """2D Ising by Swendsen–Wang, L = 8 and 16, around T_c ≈ 2.269."""
    return ising2d(np.linspace(2.1, 2.45, 8), [8, 16], n_runs=12, n_sweeps=200, seed=2)


@pytest.fixture(scope="session")
def ising_result(ising_frame: pd.DataFrame) -> AnalysisResult:
    """The analysis of :func:`ising_frame` (|m|, volume L²)."""
    return run_analysis(ising_frame, size="L", volume="volume")
