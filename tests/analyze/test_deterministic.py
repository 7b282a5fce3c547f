"""Nearly deterministic ensembles (gradient-descent training) and coarse control grids."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from landaulab.analyze import analyze


def deep_linear_descent(
    weight_decays: np.ndarray,
    *,
    seeds: int = 8,
    width: int = 4,
    steps: int = 3000,
    learning_rate: float = 0.05,
    record_every: int = 20,
    signal: float = 1.0,
    init: float = 0.1,
    seed: int = 0,
) -> pd.DataFrame:
    """Gradient descent on (w2·w1 − a)² + γ(‖w1‖² + ‖w2‖²), balanced small random init.

    One hidden layer (Ziyin & Ueda 2022, arXiv:2205.12510): b* = max(a − γ, 0), a
    second-order transition at γ_c = a with β = 1.
    """
    rng = np.random.default_rng(seed)
    gamma = np.asarray(weight_decays, dtype=float)[:, None, None]
    w1 = init * rng.normal(size=(gamma.shape[0], seeds, width)) / np.sqrt(width)
    w2 = w1.copy()
    recorded = []
    for step in range(steps):
        residual = np.sum(w1 * w2, axis=-1, keepdims=True) - signal
        w1, w2 = (
            w1 - learning_rate * (2 * residual * w2 + 2 * gamma * w1),
            w2 - learning_rate * (2 * residual * w1 + 2 * gamma * w2),
        )
        if step % record_every == 0:
            recorded.append(np.sum(w1 * w2, axis=-1))
    b = np.array(recorded)  # (records, controls, seeds)
    runs = np.arange(b.shape[1] * b.shape[2]).reshape(b.shape[1:])
    return pd.DataFrame(
        {
            "run_id": np.broadcast_to(runs[None], b.shape).ravel(),
            "step": np.broadcast_to(
                (np.arange(b.shape[0]) * record_every)[:, None, None], b.shape
            ).ravel(),
            "weight_decay": np.broadcast_to(gamma[None, :, 0, 0, None], b.shape).ravel(),
            "b": b.ravel(),
        }
    )


@pytest.mark.parametrize("grid", [np.arange(0.5, 1.51, 0.1), np.arange(0.4, 1.61, 0.15)])
def test_deep_linear_network_is_second_order_with_beta_one(grid):
    frame = deep_linear_descent(np.round(grid, 3))
    result = analyze(frame, order_parameter="b", control="weight_decay", n_bootstrap=200)
    assert result.order == "second"
    assert result.critical_point.method == "vanishing_point"
    assert result.critical_point.contains(1.0)
    assert result.exponents.beta.contains(1.0)
    assert not any("Binder cumulant dips" in e for e in result.evidence)
    assert result.exponents.gamma is None  # no equilibrium fluctuations to measure it


def _coarse_jump(seed: int, noise: float = 0.02) -> pd.DataFrame:
    """m ≈ 0 for control ≤ 0.3 and ≈ 1 from 0.4: a jump between grid points (2 seeds)."""
    rng = np.random.default_rng(seed)
    controls = np.round(np.arange(0.2, 0.61, 0.1), 3)
    runs, steps = 2, 50
    control = np.repeat(controls, runs * steps)
    level = np.where(control > 0.35, 1.0, 0.02)
    return pd.DataFrame(
        {
            "run_id": np.repeat(np.arange(controls.size * runs), steps),
            "step": np.tile(np.arange(steps), controls.size * runs),
            "fraction": control,
            "m": np.abs(level + noise * rng.normal(size=control.size)),
        }
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_jump_sharper_than_grid_is_not_second_order(seed):
    result = analyze(
        _coarse_jump(seed), order_parameter="m", control="fraction", n_bootstrap=200, seed=seed
    )
    assert result.order in {"crossover", "first"}
    assert result.order == "crossover"  # no coexistence, dip or hysteresis in these data
    assert any("sharper than the" in e for e in result.evidence)
    assert result.exponents.beta is None
    assert result.not_estimable["beta"] == "the transition is sharper than the control grid"
    # the jump can lie anywhere in (0.3, 0.4): its interval covers all of it
    jump = next(e for e in result.critical_point_estimates if e.method == "largest_jump")
    assert jump.ci[0] <= 0.3 + 1e-9 and jump.ci[1] >= 0.4 - 1e-9
    # a χ peak (here of noise) is never narrower than the half-intervals around its grid point
    for estimate in result.critical_point_estimates:
        if estimate.method == "susceptibility_peak":
            assert estimate.ci[1] - estimate.ci[0] >= 0.1 - 1e-9


def test_grid_located_interval_includes_the_grid_cell():
    from landaulab.analyze.locators.susceptibility_peak import susceptibility_peak

    t = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    chi = np.array([0.0, 1.0, 5.0, 1.0, 0.0])
    boot = np.tile(chi, (50, 1))
    peak, at_edge = susceptibility_peak(t, chi, boot)
    assert not at_edge
    assert peak.resolution == (1.5, 2.5)
