"""Synthetic training curves: planted logistic steps, their edges, and null runs."""

from __future__ import annotations

import numpy as np
import pytest

from landaulab.datasets import logistic_step, training_curves, transition_edges
from landaulab.errors import DataError


def test_edges_are_where_the_rate_is_a_tenth_of_its_peak():
    onset, end = transition_edges(50.0, 2.0)
    t = np.array([float(onset), 50.0, float(end)])
    h = 1e-6
    rate = (logistic_step(t + h, 50.0, 2.0) - logistic_step(t - h, 50.0, 2.0)) / (2 * h)
    assert rate[0] / rate[1] == pytest.approx(0.1, rel=1e-6)
    assert rate[2] / rate[1] == pytest.approx(0.1, rel=1e-6)
    assert float(end) - 50.0 == pytest.approx(2.0 * 3.6371, rel=1e-4)


def test_planted_step_and_null_runs():
    frame = training_curves(
        [100.0, np.nan], 5.0, jumps=2.0, noise=0.0, drift=[0.0, 0.3], n_points=201, seed=0
    )
    step = frame[frame["run_id"] == 0].set_index("time")["m"]
    assert step.loc[100.0] == pytest.approx(1.0)
    assert step.iloc[0] == pytest.approx(0.0, abs=1e-8)
    assert step.iloc[-1] == pytest.approx(2.0, abs=1e-8)
    null = frame[frame["run_id"] == 1]["m"].to_numpy()
    assert null == pytest.approx(np.linspace(0.0, 0.3, 201))


def test_noise_level_and_determinism():
    a = training_curves([np.nan] * 4, 1.0, noise=0.2, n_points=500, seed=3)
    b = training_curves([np.nan] * 4, 1.0, noise=0.2, n_points=500, seed=3)
    assert a.equals(b)
    assert list(a.columns) == ["run_id", "step", "time", "m"]
    # sample sd of 2000 normal draws: within 4 standard errors (σ/√(2n)) of 0.2
    assert abs(a["m"].std() - 0.2) < 4 * 0.2 / np.sqrt(2 * 2000)
    with pytest.raises(DataError):
        training_curves([1.0], -1.0)
