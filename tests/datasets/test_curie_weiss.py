"""Curie–Weiss generator: the exact distribution and samples drawn from it."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import gamma

from landaulab.datasets import curie_weiss
from landaulab.datasets.curie_weiss import (
    BINDER_CROSSING,
    exact_moments,
    magnetisation_distribution,
)
from landaulab.errors import DataError


def test_binder_crossing_constant_matches_closed_form():
    assert BINDER_CROSSING == pytest.approx(1 - gamma(0.25) ** 2 / (12 * gamma(0.75) ** 2))
    assert BINDER_CROSSING == pytest.approx(0.2705, abs=5e-5)


@pytest.mark.parametrize(
    ("n", "expected"), [(100, 0.3056), (1000, 0.2814), (10_000, 0.2739), (100_000, 0.2716)]
)
def test_binder_cumulant_at_tc_matches_known_finite_size_values(n, expected):
    assert exact_moments(n, 1.0)["binder"] == pytest.approx(expected, abs=1e-4)


def test_distribution_is_normalised_symmetric_and_on_the_lattice():
    m, p = magnetisation_distribution(11, 0.8)
    assert p.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(p, p[::-1])
    np.testing.assert_allclose(np.diff(m), 2 / 11)


def test_mean_field_limits_high_and_low_temperature():
    # high T: m is Gaussian with N<m²> = T/(T − 1)
    assert 4000 * exact_moments(4000, 2.0)["m2"] == pytest.approx(2.0, rel=0.01)
    # low T: |m| solves m = tanh(m / T)
    m_star = 0.0
    for _ in range(200):
        m_star = np.tanh(max(m_star, 0.5) / 0.5)
    assert exact_moments(4000, 0.5)["mean_abs"] == pytest.approx(m_star, abs=1e-3)


def test_samples_match_exact_moments_within_standard_errors():
    frame = curie_weiss([0.9, 1.1], [200], n_runs=20, n_steps=200, seed=3)
    assert list(frame.columns) == ["run_id", "step", "temperature", "N", "m", "energy"]
    for t, group in frame.groupby("temperature"):
        m = group["m"].to_numpy()
        exact = exact_moments(200, t)
        # every step is an independent draw: the standard error of ⟨m²⟩ is std(m²)/√n
        se = np.std(m**2) / np.sqrt(m.size)
        assert abs(np.mean(m**2) - exact["m2"]) < 4 * se
        assert abs(np.mean(m)) < 4 * np.std(m) / np.sqrt(m.size)


def test_field_breaks_the_symmetry():
    frame = curie_weiss([1.5], [500], n_runs=4, n_steps=100, field=0.1, seed=0)
    assert frame["m"].mean() > 0.1


def test_deterministic_and_seed_dependent():
    a = curie_weiss([1.0], [50], n_runs=2, n_steps=10, seed=7)
    b = curie_weiss([1.0], [50], n_runs=2, n_steps=10, seed=7)
    c = curie_weiss([1.0], [50], n_runs=2, n_steps=10, seed=8)
    assert a.equals(b)
    assert not a.equals(c)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"temperatures": [-1.0], "sizes": [10]},
        {"temperatures": [1.0], "sizes": [10.5]},
        {"temperatures": [1.0], "sizes": [10], "n_runs": 0},
        {"temperatures": [], "sizes": [10]},
    ],
)
def test_invalid_arguments_raise_data_error(kwargs):
    with pytest.raises(DataError):
        curie_weiss(**kwargs)
