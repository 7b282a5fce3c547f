"""Relaxation times of processes with exactly known tau, and critical slowing down."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom

from landaulab.datasets.langevin import LandauQuartic, ornstein_uhlenbeck, simulate_langevin
from landaulab.dynamics import (
    critical_slowing_down,
    effective_potential,
    kramers_moyal,
    prepare_trajectories,
    relaxation_from_drift,
    relaxation_time,
)


def test_ornstein_uhlenbeck_tau_within_intervals() -> None:
    taus = np.array([0.5, 1.0, 2.0, 4.0, 8.0])
    df = ornstein_uhlenbeck(
        relaxation_time=taus, runs_per_control=20, n_steps=2000, dt=0.25, seed=3
    )
    traj = prepare_trajectories(df, order_parameter="m", time_col="time", control="temperature")
    covered = 0
    for (tau, runs), seed in zip(traj.groups(), range(5), strict=True):
        est = relaxation_time(traj.subset(runs), seed=seed)
        assert est.estimated and est.method == "autocorrelation"
        covered += est.low <= tau <= est.high
        # late halves are 250 time units: the mean-subtraction bias (2 tau / L up to 6%)
        # is modelled, so the estimate is unbiased to well within its interval
        assert est.value == pytest.approx(tau, rel=0.2)
    assert covered >= 5 - int(binom.ppf(0.99, 5, 0.05))


def test_a_single_long_run_uses_a_block_bootstrap() -> None:
    df = ornstein_uhlenbeck(
        relaxation_time=2.0, runs_per_control=1, n_steps=40_000, dt=0.25, seed=8
    )
    est = relaxation_time(prepare_trajectories(df, order_parameter="m", time_col="time"))
    assert "blocks" in est.resampling
    assert est.low <= 2.0 <= est.high


def test_without_mean_bias_correction_tau_would_be_too_short() -> None:
    # runs of only 20 tau: the raw autocorrelation drops by ~2 tau / L = 10%
    df = ornstein_uhlenbeck(relaxation_time=5.0, runs_per_control=200, n_steps=400, dt=0.5, seed=2)
    traj = prepare_trajectories(df, order_parameter="m", time_col="time")
    est = relaxation_time(traj, burn_in=0.0, seed=1)
    assert est.low <= 5.0 <= est.high
    raw_lag1 = est.lag1_autocorrelation
    assert -0.5 / np.log(raw_lag1) < est.low  # the naive -dt / ln(rho1) lies below the interval


def test_critical_slowing_down_recovers_tc_and_z_nu() -> None:
    # tau = 1 / (a (T - Tc)) above Tc = 0.2 (mean field: z nu = 1)
    temps = np.array([0.35, 0.45, 0.6, 0.8, 1.1, 1.5])
    taus = 1.0 / (temps - 0.2)
    df = ornstein_uhlenbeck(
        relaxation_time=taus, control=temps, runs_per_control=20, n_steps=3000, dt=0.5, seed=4
    )
    traj = prepare_trajectories(df, order_parameter="m", time_col="time", control="temperature")
    ests = [relaxation_time(traj.subset(runs), seed=i) for i, (_, runs) in enumerate(traj.groups())]
    fit = critical_slowing_down(
        temps, [e.value for e in ests], [e.low for e in ests], [e.high for e in ests]
    )
    assert fit.reason is None and fit.side == "below"
    assert fit.critical_point.contains(0.2)
    assert fit.exponent.contains(1.0)


def test_two_sided_slowing_down_around_a_peak() -> None:
    # Landau: tau = 1/(T - Tc) above and 1/(2 (Tc - T)) below; amplitudes differ by 2
    temps = np.array([-0.8, -0.5, -0.3, 0.3, 0.5, 0.8])
    taus = np.where(temps > 0, 1 / temps, 1 / (2 * -temps))
    rng = np.random.default_rng(0)
    measured = taus * np.exp(0.03 * rng.standard_normal(temps.size))
    fit = critical_slowing_down(temps, measured, measured * 0.94, measured * 1.06, seed=2)
    assert fit.side == "both"
    assert fit.critical_point.contains(0.0)
    assert fit.exponent.contains(1.0)


def test_deterministic_return_time_from_the_drift_slope() -> None:
    # noiseless relaxation to m* = 0 in V = 0.5 m^2/2 + m^4/4: tau = 1 / 0.5 = 2
    df = simulate_langevin(
        LandauQuartic(a=1.0, b=1.0), control=0.5, runs_per_control=10, n_steps=1500, dt=0.01,
        diffusion=0.0, initial=np.linspace(-1.0, 1.0, 10),
    )  # fmt: skip
    traj = prepare_trajectories(df, order_parameter="m", time_col="time")
    pot = effective_potential(kramers_moyal(traj))
    est = relaxation_from_drift(traj, pot)
    assert est.method == "drift slope at attractor"
    assert est.value == pytest.approx(2.0, rel=0.02)


def test_flat_or_short_series_say_why() -> None:
    df = ornstein_uhlenbeck(relaxation_time=1.0, runs_per_control=2, n_steps=10, dt=0.1)
    est = relaxation_time(prepare_trajectories(df, order_parameter="m", time_col="time"))
    assert not est.estimated and "samples" in est.reason
    flat = df.assign(m=1.0)
    est = relaxation_time(prepare_trajectories(flat, order_parameter="m", time_col="time"))
    assert not est.estimated
    fit = critical_slowing_down([1.0, 2.0], [1.0, 2.0], [0.9, 1.8], [1.1, 2.2])
    assert fit.reason is not None and "need 4" in fit.reason
