"""Variational optimisation: the jump of μ* at σ_c, and hysteresis under annealing.

For Gaussian wells U(μ; σ) has a closed form, which checks the quadrature and the
transition computed from it independently. Trained runs are checked against the exact
local minima with tolerances from the residual gradient (deterministic runs), from a
monotone-progress bound through the saddle-node bottleneck (annealing), and from the
Ornstein–Uhlenbeck statistics of noisy gradient descent (antithetic estimator).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from landaulab.errors import NotEstimableError, TaskError
from landaulab.record.context import RunContext
from landaulab.record.schedule import Schedule
from landaulab.tasks import get_task
from landaulab.tasks.evolution_strategies import (
    GaussianWells,
    SearchWidthTransition,
    quadrature_nodes,
    search_width_transition,
    smoothed,
)

WELLS = GaussianWells(centers=(0.0, 2.0), depths=(1.0, 0.6), widths=(0.1, 1.0))
LR = 0.01  # the task's default learning rate


def run(seed: int = 0, every: int = 1, **settings: object) -> pd.DataFrame:
    info = get_task("evolution_strategies")
    params = info.resolve(settings) | {"seed": seed}
    ctx = RunContext(params, Schedule(total_steps=params["steps"], every=every))
    info.function(ctx)
    return ctx.table()


def exact_slope(mu: np.ndarray | float, sigma: float) -> np.ndarray:
    """∂U/∂μ from the closed form: Σ d_i w_i (μ − c_i)/s_i³ · exp(−(μ − c_i)²/(2s_i²))."""
    c, d, w = (np.asarray(v) for v in (WELLS.centers, WELLS.depths, WELLS.widths))
    mu = np.asarray(mu, dtype=float)[..., None]
    s2 = w**2 + sigma**2
    return np.sum(d * w * (mu - c) / s2**1.5 * np.exp(-((mu - c) ** 2) / (2 * s2)), axis=-1)


def exact_minima(sigma: float) -> list[float]:
    """Local minima of the closed-form U: roots of its slope going from − to +."""
    grid = np.linspace(-3, 9, 24001)
    slope = exact_slope(grid, sigma)
    return [
        brentq(lambda m: float(exact_slope(m, sigma)), grid[i], grid[i + 1], xtol=1e-14)
        for i in np.flatnonzero((slope[:-1] < 0) & (slope[1:] >= 0))
    ]


@pytest.fixture(scope="module")
def transition() -> SearchWidthTransition:
    return search_width_transition(WELLS)


@pytest.mark.parametrize("sigma", [0.0, 0.01, 0.17, 0.5, 1.0, 3.0])
def test_quadrature_matches_closed_form(sigma: float) -> None:
    mus = np.linspace(-2.0, 4.0, 61)
    exact = WELLS.smoothed_exact(mus, sigma)
    np.testing.assert_allclose(smoothed(WELLS.value, mus, sigma, 0.1), exact, atol=1e-13)
    np.testing.assert_allclose(
        smoothed(WELLS.derivative, mus, sigma, 0.1), exact_slope(mus, sigma), atol=1e-12
    )


def test_quadrature_weights_integrate_the_gaussian() -> None:
    for sigma in (0.01, 1.0):
        eps, weights = quadrature_nodes(sigma, 0.1)
        # tail mass beyond ±8.5 is < 2e-17; summation round-off is at most n·ε
        round_off = len(eps) * np.finfo(float).eps
        assert np.sum(weights) == pytest.approx(1.0, abs=round_off)
        assert np.sum(weights * eps**2) == pytest.approx(1.0, abs=100 * round_off)


def test_critical_width_is_where_the_two_minima_are_equally_deep(
    transition: SearchWidthTransition,
) -> None:
    sc = transition.critical_width
    for factor, deeper in [(1 - 1e-6, 0), (1 + 1e-6, 1)]:
        minima = exact_minima(sc * factor)
        assert len(minima) == 2
        values = WELLS.smoothed_exact(np.array(minima), sc * factor)
        assert int(np.argmin(values)) == deeper

    def gap(sigma: float) -> float:
        narrow, wide = WELLS.smoothed_exact(np.array(exact_minima(sigma)), sigma)
        return float(narrow - wide)

    # σ_c is solved to xtol = 1e-10, so |gap(σ_c)| <= |gap'(σ_c)|·1e-10 (+ quadrature
    # error of U, below 1e-13).
    h = 1e-5
    slope = (gap(sc + h) - gap(sc - h)) / (2 * h)
    assert abs(gap(sc)) <= abs(slope) * 1e-10 + 1e-13
    # first order: μ* jumps across the barrier, from the narrow well to the wide one
    assert transition.mean_before == pytest.approx(exact_minima(sc)[0], abs=1e-9)
    assert transition.mean_after == pytest.approx(exact_minima(sc)[1], abs=1e-9)
    assert transition.jump > 1.5


def test_spinodal_is_where_the_narrow_minimum_disappears(
    transition: SearchWidthTransition,
) -> None:
    ss = transition.spinodal_width
    assert ss > transition.critical_width
    assert len(exact_minima(ss * (1 - 1e-5))) == 2
    assert len(exact_minima(ss * (1 + 1e-5))) == 1


def test_no_transition_is_reported_plainly() -> None:
    shallow = GaussianWells(centers=(0.0, 2.0), depths=(0.3, 0.6), widths=(0.1, 1.0))
    with pytest.raises(NotEstimableError):
        search_width_transition(shallow)


def _basin(mu: float) -> str:
    return "narrow" if abs(mu - WELLS.centers[0]) < abs(mu - WELLS.centers[1]) else "wide"


@pytest.mark.parametrize("factor", [0.95, 1.05])
def test_global_minimum_switches_basin_at_critical_width(
    transition: SearchWidthTransition, factor: float
) -> None:
    """Runs from both basins at σ_c(1 ∓ 5%); the deeper end point flips across σ_c."""
    sigma = transition.critical_width * factor
    ends = {}
    for start in WELLS.centers:
        last = run(search_width=sigma, initial_mean=start, steps=3000, every=3000).iloc[-1]
        # Residual gradient g at curvature κ >= 0.3 (both minima here): |U − U*| <= g²/(2κ).
        assert abs(last["gradient"]) < 1e-6
        ends[_basin(last["mean"])] = float(last["smoothed_objective"])
    exact = WELLS.smoothed_exact(np.array(exact_minima(sigma)), sigma)
    assert ends["narrow"] == pytest.approx(exact[0], abs=1e-11)
    assert ends["wide"] == pytest.approx(exact[1], abs=1e-11)
    assert (ends["narrow"] < ends["wide"]) == (factor < 1)


def test_hysteresis_between_annealing_up_and_down(transition: SearchWidthTransition) -> None:
    ratio, iterations, below, above = 1.25, 2000, 6, 2
    first_above = transition.spinodal_width * 1.1
    low = first_above / ratio**below
    grid = {
        "search_width": None,
        "search_width_low": low,
        "search_width_high": first_above * ratio ** (above - 1),
        "steps": below + above - 1,
        "iterations_per_width": iterations,
    }
    up = run(direction="up", initial_mean=WELLS.centers[0], **grid)
    down = run(direction="down", initial_mean=WELLS.centers[1], **grid)
    # Leaving the narrow basin at σ = 1.1σ_s: from the last narrow minimum to the
    # midpoint between the wells, U' < −g_min, so descent moves at least lr·g_min per
    # update and needs at most distance/(lr·g_min) updates: within the level's budget.
    start = float(up["mean"].iloc[below - 1])
    path = np.linspace(start, 1.0, 2001)
    g_min = float(np.min(-exact_slope(path, first_above)))
    assert g_min > 0 and (1.0 - start) / (LR * g_min) < iterations
    for _, row in up.iterrows():
        expected = "narrow" if row["search_width"] < transition.spinodal_width else "wide"
        assert _basin(row["mean"]) == expected, row["search_width"]
    assert (down["mean"].map(_basin) == "wide").all(), "annealing down never finds the narrow well"
    # the loop spans every level below σ_s, on both sides of σ_c
    assert (up["search_width"] < transition.spinodal_width).sum() == below
    assert up["search_width"].min() < transition.critical_width


def test_antithetic_estimator_settles_at_the_local_minimum() -> None:
    """Noisy descent μ ← μ − lr·ĝ is an AR(1) process around μ* with φ = 1 − lr·κ:
    stationary variance lr·v/(κ(2 − lr·κ)) and integrated autocorrelation (1+φ)/(1−φ),
    v the variance of one antithetic estimate at μ*. The late-time mean lies within
    4 standard errors of μ*."""
    sigma, pairs, steps = 0.3, 32, 2000
    mu_star = exact_minima(sigma)[0]
    h = 1e-5
    kappa = float((exact_slope(mu_star + h, sigma) - exact_slope(mu_star - h, sigma)) / (2 * h))
    eps, weights = quadrature_nodes(sigma, 1e-3)
    sample = (WELLS.value(mu_star + sigma * eps) - WELLS.value(mu_star - sigma * eps)) * eps
    sample /= 2 * sigma
    v = float(np.sum(weights * sample**2) - np.sum(weights * sample) ** 2) / pairs
    phi = 1 - LR * kappa
    burn_in = math.ceil(10 / (LR * kappa))
    table = run(search_width=sigma, gradient="antithetic", steps=steps, seed=2)
    window = table["mean"].iloc[burn_in:].to_numpy()
    variance = LR * v / (kappa * (2 - LR * kappa))
    se = math.sqrt(variance * (1 + phi) / (1 - phi) / len(window))
    assert abs(window.mean() - mu_star) < 4 * se
    # The sample variance of an AR(1) series has relative standard error
    # sqrt(2·τ₂/T) with τ₂ = (1 + φ²)/(1 − φ²) the autocorrelation time of its square.
    rel_se = math.sqrt(2 * (1 + phi**2) / (1 - phi**2) / len(window))
    assert abs(window.var() / variance - 1) < 4 * rel_se


def test_deterministic_given_seed() -> None:
    a = run(search_width=0.3, gradient="antithetic", steps=200, seed=7)
    b = run(search_width=0.3, gradient="antithetic", steps=200, seed=7)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(
    "settings",
    [{"population": 7}, {"search_width_low": 2.0}, {"search_width": -0.1}, {"gradient": "x"}],
)
def test_invalid_settings_raise_task_error(settings: dict[str, object]) -> None:
    with pytest.raises(TaskError):
        get_task("evolution_strategies").resolve(settings)


@settings(max_examples=60, deadline=None)
@given(value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.text()))
def test_hostile_control_values_are_refused_or_accepted_cleanly(value: object) -> None:
    """Any value of a control resolves to finite, valid settings or raises TaskError."""
    info = get_task("evolution_strategies")
    for key in ("search_width", "learning_rate"):
        try:
            resolved = info.resolve({key: value})
        except TaskError:
            continue
        assert all(math.isfinite(v) for v in resolved.values() if isinstance(v, float)), resolved
