"""Ground-truth generators: Langevin dynamics and deep-linear (Saxe) trajectories."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate

from landaulab.datasets.langevin import (
    DoubleWell,
    LandauQuartic,
    kramers_escape_rate,
    mean_first_passage_time,
    ornstein_uhlenbeck,
    simulate_langevin,
)
from landaulab.datasets.saxe import (
    deep_linear_gradient_descent,
    learning_time,
    mode_strength,
    saxe_staircase,
)
from landaulab.errors import DataError


def test_ornstein_uhlenbeck_has_the_exact_autocorrelation() -> None:
    tau, dt = 2.0, 0.5
    df = ornstein_uhlenbeck(relaxation_time=tau, runs_per_control=200, n_steps=400, dt=dt, seed=1)
    paths = df["m"].to_numpy().reshape(200, 401)
    lag1 = np.mean(paths[:, 1:] * paths[:, :-1])
    var = np.mean(paths**2)
    # ~80000 pairs with an effective sample size reduced by 2 tau / dt = 8: SE ~ 0.01
    assert var == pytest.approx(1.0, abs=0.05)
    assert lag1 / var == pytest.approx(np.exp(-dt / tau), abs=0.03)


def test_euler_maruyama_reaches_the_boltzmann_distribution() -> None:
    well, temperature = DoubleWell(), 0.5
    df = simulate_langevin(
        well, control=temperature, runs_per_control=200, n_steps=4000, dt=0.005,
        diffusion=temperature, initial=np.linspace(-1.2, 1.2, 200), record_every=50, seed=2,
    )  # fmt: skip
    late = df[df["time"] >= 5.0]["m"].to_numpy()
    weight = lambda x: np.exp(-well.value(x) / temperature)  # noqa: E731
    norm = integrate.quad(weight, -4, 4)[0]
    second = integrate.quad(lambda x: x**2 * weight(x), -4, 4)[0] / norm
    # 200 runs x 300 records, correlated over ~1/8 time units: SE of <m^2> well below 0.02
    assert np.mean(late**2) == pytest.approx(second, abs=0.03)


def test_mean_first_passage_time_matches_kramers_at_high_barrier() -> None:
    well = DoubleWell()
    for temperature in (0.1, 0.05):
        exact = mean_first_passage_time(well, start=-1.0, end=1.0, diffusion=temperature)
        rate = kramers_escape_rate(well, minimum=-1.0, saddle=0.0, diffusion=temperature)
        # Kramers is the leading term of an expansion in T / barrier
        assert exact * rate == pytest.approx(1.0, abs=3 * temperature)
    ou = mean_first_passage_time(LandauQuartic(b=0.0), start=0.0, end=0.0, diffusion=1.0, control=1)
    assert ou == 0.0


def test_landau_quartic_ramp_records_the_moving_control() -> None:
    df = simulate_langevin(
        LandauQuartic(), control=1.0, control_ramp_to=0.0, runs_per_control=2, n_steps=100
    )
    first = df[df["run_id"] == 0]
    assert first["temperature"].iloc[0] == 1.0
    assert first["temperature"].iloc[-1] == pytest.approx(0.0)


def test_saxe_formula_is_self_consistent() -> None:
    for s, u0, uf in ((3.0, 1e-6, 2.9), (1.0, 1e-3, 0.5)):
        t = learning_time(s, u0, uf)
        assert mode_strength(t, s, u0) == pytest.approx(uf, rel=1e-10)
    df = saxe_staircase((3.0, 2.0, 1.0), initial=1e-9, n_points=500)
    assert df["m"].iloc[0] == pytest.approx(3e-9)
    assert df["m"].iloc[-1] == pytest.approx(6.0, rel=1e-2)
    with pytest.raises(DataError):
        saxe_staircase((1.0,), initial=2.0)


def test_decoupled_gradient_descent_follows_the_exact_solution() -> None:
    lr = 1e-3
    df = deep_linear_gradient_descent((3.0, 1.0), initial=1e-4, learning_rate=lr, n_steps=8000)
    for k, s in enumerate((3.0, 1.0), start=1):
        exact = mode_strength(df["time"].to_numpy(), s, 1e-4)
        # Euler steps of du/dt = 2u(s - u): relative timing error O(s lr) per unit time
        t_half = learning_time(s, 1e-4, s / 2)
        simulated = np.interp(s / 2, df[f"u_{k}"], df["time"])
        assert simulated == pytest.approx(t_half, rel=2 * s * lr + 1e-3)
        assert np.max(np.abs(df[f"u_{k}"] - exact)) < 0.05 * s
