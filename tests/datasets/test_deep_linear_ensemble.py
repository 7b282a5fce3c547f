"""Deep linear seed ensembles: gradient descent converges to the planted b* = max(a − γ, 0)."""

from __future__ import annotations

import pytest

from landaulab.datasets import deep_linear_ensemble, planted_product
from landaulab.errors import DataError


def test_converges_to_the_planted_product_away_from_the_transition():
    gammas = [0.3, 0.6, 1.0, 1.6, 2.2]
    frame = deep_linear_ensemble(
        gammas, strength=1.5, n_seeds=3, n_steps=3000, learning_rate=0.05, seed=2
    )
    last = frame[frame["step"] == frame["step"].max()]
    final = last.groupby("weight_decay")["m"].agg(["min", "max"])
    truth = planted_product(final.index.to_numpy(), 1.5)
    # noiseless gradient descent: every seed ends on b* (up to its convergence, far from γ_c)
    assert final["min"].to_numpy() == pytest.approx(truth, abs=1e-6)
    assert final["max"].to_numpy() == pytest.approx(truth, abs=1e-6)


def test_slow_near_the_transition_and_noise():
    frame = deep_linear_ensemble([0.98], strength=1.0, n_seeds=2, n_steps=400, seed=0)
    last = frame[frame["step"] == 400]["m"]
    # the growth rate 2·lr·(a − γ) = 0.002 per step: far from b* = 0.02 after 400 steps
    assert (last < 0.5 * 0.02).all()
    noisy = deep_linear_ensemble([0.5], n_seeds=2, n_steps=100, noise=0.01, seed=0)
    clean = deep_linear_ensemble([0.5], n_seeds=2, n_steps=100, seed=0)
    residual = noisy["m"] - clean["m"]
    assert 0.005 < residual.std() < 0.02
    assert noisy["loss"].equals(clean["loss"])


def test_layout_and_determinism():
    a = deep_linear_ensemble([0.5, 1.5], n_seeds=3, n_steps=100, record_every=10, seed=5)
    b = deep_linear_ensemble([0.5, 1.5], n_seeds=3, n_steps=100, record_every=10, seed=5)
    assert a.equals(b)
    assert list(a.columns) == ["run_id", "step", "weight_decay", "m", "loss"]
    assert sorted(a["step"].unique()) == list(range(0, 101, 10))
    assert a["run_id"].nunique() == 6
    with pytest.raises(DataError):
        deep_linear_ensemble([0.5], learning_rate=1.0)
