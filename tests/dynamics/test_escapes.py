"""Escapes over a barrier: counted rates against the exact first-passage theory."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from landaulab.datasets.langevin import mean_first_passage_time, simulate_langevin
from landaulab.dynamics import (
    dynamics,
    effective_potential,
    escape_rates,
    kramers_moyal,
    prepare_trajectories,
)
from landaulab.dynamics.escapes import core_intervals

from .conftest import DOUBLE_WELL, DOUBLE_WELL_NOISE


@pytest.fixture(scope="module")
def long_double_well() -> pd.DataFrame:
    # 60 runs x 500 time units at barrier/D = 4 (mean escape time ~63): ~470 escapes
    return simulate_langevin(
        DOUBLE_WELL, control=DOUBLE_WELL_NOISE, runs_per_control=60, n_steps=50_000, dt=0.01,
        diffusion=DOUBLE_WELL_NOISE, initial=np.repeat([-1.0, 1.0], 30), record_every=5, seed=11,
    )  # fmt: skip


def exact_time(cores, source: int, target: int, noise: float) -> float:
    """Exact mean first-passage time between the facing edges of two cores."""
    start = cores[source][2] if target > source else cores[source][1]
    end = cores[target][1] if target > source else cores[target][2]
    return mean_first_passage_time(DOUBLE_WELL, start=start, end=end, diffusion=noise)


def test_escape_counts_match_first_passage_theory(long_double_well) -> None:
    traj = prepare_trajectories(long_double_well, order_parameter="m", time_col="time")
    km = kramers_moyal(traj, n_bootstrap=100, seed=3)
    pot = effective_potential(km)
    rates = escape_rates(traj, pot, km)
    cores = core_intervals(pot)
    positions = [c[0] for c in cores]
    assert len(rates) == 2
    for rate in rates:
        theory = exact_time(cores, positions.index(rate.source), positions.index(rate.target), 0.25)
        expected = rate.exposure / theory
        # a renewal count with exponential-like waiting times: Poisson, sd = sqrt(mean)
        assert abs(rate.count - expected) <= 3 * np.sqrt(expected)
        assert rate.rate.contains(rate.rate.value)
        # the prediction from the estimated drift and diffusion, within 3 of its own sd
        predicted = rate.predicted_time
        log_sd = (np.log(predicted.high) - np.log(predicted.low)) / (2 * 1.96)
        assert abs(np.log(predicted.value / theory)) <= 3 * log_sd


def test_escape_time_follows_arrhenius_with_the_exact_effective_barrier() -> None:
    temperatures = np.array([0.3, 0.35, 0.4, 0.5, 0.6])
    df = simulate_langevin(
        DOUBLE_WELL, control=temperatures, runs_per_control=30, n_steps=20_000, dt=0.01,
        diffusion=None, initial=-1.0, record_every=10, seed=5,
    )  # fmt: skip
    result = dynamics(
        df, order_parameter="m", time_col="time", control="temperature", n_bootstrap=60
    )
    laws = result.escape_laws
    assert laws is not None
    arrhenius = next(f for f in laws.fits if f.law == "arrhenius")
    # the exact mean residence times are not pure Arrhenius (prefactor corrections of
    # order T / barrier); the fit must recover their effective slope d ln t / d (1/T)
    exact = [
        mean_first_passage_time(DOUBLE_WELL, start=-0.5, end=0.5, diffusion=t) for t in temperatures
    ]
    slope = np.polyfit(1 / temperatures, np.log(exact), 1)[0]
    assert arrhenius.parameters["dF"].contains(slope)
    assert laws.best is not None and laws.best.law in {"arrhenius", "power"}
    payload = result.to_dict()["escapes"]
    assert {r["control"] for r in payload["rates"]} == set(temperatures.tolist())
