"""Curie–Weiss field scans: the mean-field isotherm and the exact finite-N samples."""

from __future__ import annotations

import numpy as np
import pytest

from landaulab.datasets import curie_weiss_field_scan, mean_field_magnetisation
from landaulab.datasets.curie_weiss import exact_moments
from landaulab.datasets.field_scan import critical_isotherm_field
from landaulab.errors import DataError


def test_mean_field_magnetisation_solves_the_self_consistency():
    for t, h in [(0.8, 0.0), (1.0, 1e-3), (1.2, 0.05)]:
        m = mean_field_magnetisation(t, h)
        assert m == pytest.approx(np.tanh((m + h) / t), abs=1e-12)
    assert mean_field_magnetisation(1.1, 0.0) == 0.0
    assert mean_field_magnetisation(0.8, 0.0) > 0.6


def test_critical_isotherm_has_delta_three():
    # at T_c the isotherm is h = artanh(m) − m; its log–log slope tends to δ = 3 as h → 0
    h = np.array([1e-8, 1e-7])
    m = np.array([mean_field_magnetisation(1.0, x) for x in h])
    assert critical_isotherm_field(m) == pytest.approx(h, rel=1e-6)
    slope = np.diff(np.log(h)) / np.diff(np.log(m))
    assert slope[0] == pytest.approx(3.0, abs=1e-3)


def test_samples_match_the_exact_finite_size_mean():
    frame = curie_weiss_field_scan([1.0], [0.01], [500], n_runs=20, n_steps=50, seed=3)
    scan = frame[frame["field"] == 0.01]["m"]
    exact = exact_moments(500, 1.0, 0.01)
    se = np.sqrt((exact["m2"] - exact["mean"] ** 2) / scan.size)
    assert abs(scan.mean() - exact["mean"]) < 4 * se
    zero = frame[frame["field"] == 0.0]["m"]
    assert abs(zero.mean()) < 4 * np.sqrt(exact_moments(500, 1.0)["m2"] / zero.size)


def test_layout_noise_and_determinism():
    a = curie_weiss_field_scan([0.9, 1.1], [1e-3, 1e-2], [100, 400], n_runs=3, n_steps=4, seed=1)
    b = curie_weiss_field_scan([0.9, 1.1], [1e-3, 1e-2], [100, 400], n_runs=3, n_steps=4, seed=1)
    assert a.equals(b)
    assert {"run_id", "step", "temperature", "N", "m", "energy", "field"} <= set(a.columns)
    # zero field at both sizes, each field at the largest size, runs numbered uniquely
    assert set(a[a["field"] == 0]["N"]) == {100, 400}
    assert set(a[a["field"] > 0]["N"]) == {400}
    assert a.groupby("run_id")[["temperature", "field", "N"]].nunique().max().max() == 1
    assert a["run_id"].nunique() == 3 * 2 * (2 + 2)
    noisy = curie_weiss_field_scan(
        [0.9, 1.1], [1e-3, 1e-2], [100, 400], n_runs=3, n_steps=4, noise=0.1, seed=1
    )
    assert not np.isin(noisy["m"], a["m"]).all()
    with pytest.raises(DataError):
        curie_weiss_field_scan([1.0], [0.0], [100])
