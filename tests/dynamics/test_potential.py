"""Effective potential, fixed points, barriers and the TDGL fit in known potentials."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

from landaulab.datasets.langevin import LandauQuartic, simulate_langevin
from landaulab.dynamics import effective_potential, fit_tdgl, kramers_moyal, prepare_trajectories

from .conftest import DOUBLE_WELL_NOISE


def allowed_misses(n_intervals: int, level: float = 0.95, risk: float = 0.01) -> int:
    """Largest number of misses among calibrated intervals with probability >= 1 - risk."""
    return int(binom.ppf(1 - risk, n_intervals, 1 - level))


def test_double_well_attractors_saddle_and_barrier_within_intervals(double_well_frames) -> None:
    checks = []
    for seed, df in enumerate(double_well_frames):
        km = kramers_moyal(
            prepare_trajectories(df, order_parameter="m", time_col="time"), seed=seed
        )
        pot = effective_potential(km)
        assert pot.kind == "fokker_planck"
        assert len(pot.attractors) == 2 and len(pot.saddles) == 1
        left, right = pot.attractors
        saddle = pot.saddles[0]
        checks += [left.position.contains(-1), right.position.contains(1)]
        checks += [saddle.position.contains(0)]
        # barrier Delta V / D = 1 / 0.25 = 4 in units of the noise
        checks += [b.height.contains(1 / DOUBLE_WELL_NOISE) for b in pot.barriers]
        assert left.slope == pytest.approx(-8.0, rel=0.25)  # V''(+-1) = 8
        assert left.linear_relaxation_time == pytest.approx(1 / 8, rel=0.25)
        # the potential follows V/D up to a constant: compare shapes where resolved
        ok = np.isfinite(pot.values)
        truth = (pot.grid[ok] ** 2 - 1) ** 2 / DOUBLE_WELL_NOISE
        shift = np.median(pot.values[ok] - truth)
        assert np.median(np.abs(pot.values[ok] - truth - shift)) < 0.3
    misses = len(checks) - sum(checks)
    assert misses <= allowed_misses(len(checks))


def test_tdgl_fit_recovers_the_double_well_coefficients(double_well_frames) -> None:
    checks = []
    for seed, df in enumerate(double_well_frames):
        fit = fit_tdgl(prepare_trajectories(df, order_parameter="m", time_col="time"), seed=seed)
        # dm/dt = -(c1 m + c3 m^3) with c1 = -4, c3 = 4 for V = (m^2 - 1)^2
        checks += [fit.coefficients[0].contains(-4), fit.coefficients[1].contains(4)]
        assert fit.noise == pytest.approx(DOUBLE_WELL_NOISE, rel=0.02)
        static = fit.to_dict()["static_landau_coefficients"]
        assert static[0]["power"] == 2 and static[0]["value"] == pytest.approx(
            -4 / 2 / 0.25, rel=0.1
        )
    assert len(checks) - sum(checks) <= allowed_misses(len(checks))


def test_tdgl_coefficient_is_linear_in_temperature() -> None:
    temps = np.array([0.5, 1.0, 1.5])
    df = simulate_langevin(
        LandauQuartic(a=2.0, b=1.0, critical_point=0.2), control=temps, runs_per_control=10,
        n_steps=4000, dt=0.01, diffusion=0.05, seed=4,
    )  # fmt: skip
    traj = prepare_trajectories(df, order_parameter="m", time_col="time", control="temperature")
    for (temp, runs), expected in zip(traj.groups(), 2.0 * (temps - 0.2), strict=True):
        fit = fit_tdgl(traj.subset(runs), powers=(1, 3), seed=1)
        # with 10 runs the interval is wide; 4 standard errors keeps the risk tiny
        assert abs(fit.coefficients[0].value - expected) <= 4 * fit.standard_errors[0], temp


def test_deterministic_gradient_flow_uses_the_drift_potential() -> None:
    # noiseless flow in the Landau quartic below Tc: attractors at +-sqrt(a (Tc - T) / b)
    starts = np.linspace(-1.5, 1.5, 12)
    df = simulate_langevin(
        LandauQuartic(a=1.0, b=1.0), control=-0.49, runs_per_control=12, n_steps=2000,
        dt=0.01, diffusion=0.0, initial=starts,
    )  # fmt: skip
    km = kramers_moyal(prepare_trajectories(df, order_parameter="m", time_col="time"))
    pot = effective_potential(km)
    assert pot.kind == "drift"
    positions = sorted(a.position.value for a in pot.attractors)
    assert positions == pytest.approx([-0.7, 0.7], abs=0.01)


def test_no_attractor_is_said_plainly() -> None:
    df = pd.DataFrame({"run_id": np.repeat([0, 1, 2, 3, 4], 50), "step": np.tile(np.arange(50), 5)})
    df["m"] = df["step"] * 0.1 + df["run_id"]  # steady growth, never settles
    pot = effective_potential(kramers_moyal(prepare_trajectories(df, order_parameter="m")))
    assert pot.attractors == ()
    assert any("positive over the whole observed range" in note for note in pot.notes)
