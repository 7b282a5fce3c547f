"""Transition times and plateaus: the Saxe staircase, planted laws, and no false alarms."""

from __future__ import annotations

import numpy as np
import pytest

from landaulab.datasets.langevin import ornstein_uhlenbeck
from landaulab.datasets.saxe import deep_linear_gradient_descent, learning_time, saxe_staircase
from landaulab.dynamics import (
    compare_laws,
    detect_plateaus,
    detect_transitions,
    prepare_trajectories,
    run_profile,
    transition_times,
)

STRENGTHS = (3.0, 2.0, 1.0)


def staircase_events(u0: float, n_points: int = 4000):
    df = saxe_staircase(STRENGTHS, initial=u0, n_points=n_points)
    profile = run_profile(df["time"].to_numpy(), df["m"].to_numpy())
    transitions = detect_transitions(profile)
    return profile, transitions, detect_plateaus(profile, transitions)


@pytest.mark.parametrize("u0", [1e-9, 1e-12])
def test_saxe_staircase_times_match_the_formula(u0: float) -> None:
    _, transitions, plateaus = staircase_events(u0)
    assert len(transitions) == 3
    for transition, s in zip(transitions, STRENGTHS, strict=True):
        # the half-way point u = s/2 is the moment of fastest change of a logistic step
        expected = learning_time(s, u0, s / 2)
        assert transition.time == pytest.approx(expected, rel=0.01)
        assert transition.jump == pytest.approx(s, rel=0.05)
    levels = [p.level for p in plateaus]
    assert levels == pytest.approx([0.0, 3.0, 5.0, 6.0], abs=0.05)
    assert plateaus[0].initial and plateaus[-1].final
    # a plateau ends when the next mode has grown to the band (10% of its jump): u_f = 0.1 s
    for plateau, s in zip(plateaus[:-1], STRENGTHS, strict=True):
        expected_end = learning_time(s, u0, plateau.band)
        assert plateau.end == pytest.approx(expected_end, rel=0.03)


def test_gradient_descent_staircase_matches_the_formula() -> None:
    lr, u0 = 1e-3, 1e-6
    df = deep_linear_gradient_descent((3.0, 1.0), initial=u0, learning_rate=lr, n_steps=14_000)
    profile = run_profile(df["time"].to_numpy(), df["m"].to_numpy())
    found = detect_transitions(profile)
    assert len(found) == 2
    for transition, s in zip(found, (3.0, 1.0), strict=True):
        # Euler steps shift a logistic's timing by O(s lr) relative
        assert transition.time == pytest.approx(learning_time(s, u0, s / 2), rel=2 * s * lr + 0.005)


def test_transition_time_follows_a_logarithmic_law_in_the_initial_strength() -> None:
    # one mode s = 1: t_half = 0.5 ln((1 - u0)/u0) = A + B ln(u0) with B = -0.5
    u0 = np.geomspace(1e-8, 1e-3, 6)
    df = saxe_staircase((1.0,), initial=u0, n_points=3000, t_max=12.0)
    traj = prepare_trajectories(
        df, order_parameter="m", time_col="time", control="initial_strength"
    )
    times = transition_times(traj, n_bootstrap=50)
    assert len(times.main) == 6
    laws = times.laws
    assert laws is not None and laws.best is not None and laws.best.law == "logarithmic"
    assert laws.best.parameters["B"].value == pytest.approx(-0.5, abs=0.01)


def test_planted_power_law_divergence_within_interval() -> None:
    # tau = 2 (c - 0.2)^-1.5 with 15% log-normal scatter, 8 runs at 6 controls; 95%
    # intervals over 10 data sets: at least 8 must cover (P(fail) ~ 1% when calibrated)
    covered = {"c0": 0, "nu": 0, "budget": 0}
    for seed in range(10):
        rng = np.random.default_rng(seed)
        c = np.repeat(np.linspace(0.3, 1.0, 6), 8)
        y = 2.0 * (c - 0.2) ** -1.5 * np.exp(0.15 * rng.standard_normal(c.size))
        fit = compare_laws(c, y, laws=("power",), budget=100.0, n_bootstrap=40, seed=seed).best
        assert fit is not None
        covered["c0"] += fit.divergence is not None and fit.divergence.contains(0.2)
        covered["nu"] += fit.parameters["nu"].contains(1.5)
        # budget: 2 (c - 0.2)^-1.5 = 100  ->  c = 0.2 + 50^(-2/3)
        covered["budget"] += fit.budget_control is not None and fit.budget_control.contains(
            0.2 + 50 ** (-2 / 3)
        )
    assert min(covered.values()) >= 8, covered


def test_planted_arrhenius_is_preferred_and_recovered() -> None:
    rng = np.random.default_rng(3)
    temps = np.repeat([0.2, 0.25, 0.3, 0.4, 0.5, 0.7], 10)
    y = 0.5 * np.exp(1.0 / temps) * np.exp(0.2 * rng.standard_normal(temps.size))
    laws = compare_laws(temps, y, n_bootstrap=60, seed=1)
    assert laws.best is not None and laws.best.law == "arrhenius"
    assert laws.best.parameters["dF"].contains(1.0)
    assert "arrhenius" in laws.verdict


def test_too_few_points_say_so() -> None:
    laws = compare_laws([1.0, 2.0], [3.0, 4.0])
    assert laws.best is None and "need 4 points" in laws.verdict


def test_stationary_noise_has_no_transitions() -> None:
    df = ornstein_uhlenbeck(
        relaxation_time=[1.0, 10.0, 100.0], runs_per_control=10, n_steps=5000, dt=0.1, seed=2
    )
    traj = prepare_trajectories(df, order_parameter="m", time_col="time", control="temperature")
    found = transition_times(traj, n_bootstrap=0)
    assert found.transitions == ()
    assert any("no sudden change" in note for note in found.notes)


def test_noisy_step_is_found_at_the_right_time() -> None:
    rng = np.random.default_rng(5)
    t = np.arange(2000.0)
    m = 1 / (1 + np.exp(-(t - 1200) / 10)) + 0.05 * rng.standard_normal(t.size)
    found = detect_transitions(run_profile(t, m))
    assert len(found) == 1
    assert found[0].time == pytest.approx(1200, abs=10)
    assert found[0].jump == pytest.approx(1.0, abs=0.05)
