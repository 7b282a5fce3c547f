"""Deterministic annealing: the first split at T_c = 2·λ_max, then a cascade.

T_c is exact for the empirical distribution (computed from the same sample), so the only
tolerance is the temperature grid: a split must occur at the first grid temperature below
the critical one, because there the splitting mode grows by the factor T_c/T per
fixed-point iteration, and must not occur above it, where that factor is below one.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from landaulab.errors import TaskError
from landaulab.record.context import RunContext
from landaulab.record.schedule import Schedule
from landaulab.tasks import get_task
from landaulab.tasks.deterministic_annealing import (
    DEFAULT_CENTERS,
    first_critical_temperature,
    gaussian_mixture_data,
)

N = 400
STD = 0.4
RATIO = 1.08  # grid ratio between consecutive temperatures
GAP = 1.03  # first grid temperature below T_c sits at T_c / GAP


def run(seed: int = 0, every: int = 1, **settings: object) -> pd.DataFrame:
    info = get_task("deterministic_annealing")
    params = info.resolve({"sample_size": N, "cluster_std": STD} | settings) | {"seed": seed}
    ctx = RunContext(params, Schedule(total_steps=params["steps"], every=every))
    info.function(ctx)
    return ctx.table()


def critical_temperature() -> float:
    return first_critical_temperature(gaussian_mixture_data(DEFAULT_CENTERS, STD, N, 0))


def grid(steps_above: int, steps: int) -> dict[str, float | int]:
    """A geometric grid whose point ``steps_above`` lies at T_c/GAP (just below T_c)."""
    high = critical_temperature() / GAP * RATIO**steps_above
    return {"temperature_high": high, "temperature_low": high / RATIO**steps, "steps": steps}


def test_growth_budget_covers_the_first_point_below_critical() -> None:
    """max_iterations (2000) at growth T_c/T = GAP amplify a 1e-4 perturbation past 1e-3."""
    params = get_task("deterministic_annealing").resolve({})
    growth = params["max_iterations"] * math.log(GAP)
    assert growth > math.log(params["merge_radius"] / params["perturbation"]) + math.log(1e6)


def test_first_split_at_twice_the_top_eigenvalue() -> None:
    t_c = critical_temperature()
    table = run(**grid(steps_above=6, steps=12))
    above = table[table["temperature"] > t_c]
    below = table[table["temperature"] < t_c]
    assert len(above) == 6
    assert (above["distinct_centroids"] == 1).all()
    # The merged codevector sits at the mean up to the perturbation δ = 1e-4·scale, which
    # moves C_{x|y} = S + (x̄ − y)(x̄ − y)ᵀ by at most δ² (relative ~1e-8 of λ_max).
    np.testing.assert_allclose(above["critical_temperature"], t_c, rtol=1e-7)
    assert below["distinct_centroids"].iloc[0] == 2
    # Symmetric phase: the order parameter is no larger than the perturbation put in.
    scale = math.sqrt(float(np.sum(gaussian_mixture_data(DEFAULT_CENTERS, STD, N, 0).var(0))))
    assert (above["centroid_spread"] <= 1e-4 * scale).all()
    assert below["centroid_spread"].iloc[0] > 0.1 * scale


@pytest.mark.parametrize("factor", [1.005, 1 / 1.005])
def test_fixed_temperature_runs_bracket_critical_temperature_closely(factor: float) -> None:
    """Hold T = T_c·(1 ± 0.5%): 3000 iterations shrink or grow the split mode by
    1.005^±3000 ≈ 3e6^±1, far past the perturbation (1e-4) and merge radius (1e-3)."""
    t_c = critical_temperature()
    last = run(temperature=t_c * factor, steps=3000, every=3000).iloc[-1]
    if factor > 1:
        assert last["distinct_centroids"] == 1
    else:
        assert last["distinct_centroids"] >= 2


def test_cascade_of_splits_follows_the_cluster_conditional_criterion() -> None:
    table = run(**grid(steps_above=3, steps=40))
    counts = table["distinct_centroids"].to_numpy()
    temps = table["temperature"].to_numpy()
    crit = table["critical_temperature"].to_numpy()
    assert np.all(np.diff(counts) >= 0), "cooling never merges clusters"
    assert counts[0] == 1 and counts[-1] == 4
    assert set(np.unique(counts)) == {1, 2, 4}, "two halves, then each half splits"
    for k in np.flatnonzero(np.diff(counts) > 0) + 1:
        # The cluster that splits was stable at T_{k-1} and unstable at T_k: the
        # criterion 2λ_max(C_{x|y}) logged at k-1 lies in (T_k, T_{k-1}].
        assert temps[k] < crit[k - 1] <= temps[k - 1]
    # Every logged state below the capacity of 4 codevectors is locally stable.
    unsplit = counts < 4
    assert np.all(temps[unsplit] >= crit[unsplit])


def test_heating_merges_at_the_same_critical_temperature() -> None:
    t_c = critical_temperature()
    table = run(direction="up", **grid(steps_above=3, steps=40))
    counts = table["distinct_centroids"].to_numpy()
    temps = table["temperature"].to_numpy()
    assert np.all(np.diff(counts) <= 0), "heating never splits clusters"
    assert counts[0] == 4
    assert np.all(counts[temps > t_c] == 1)
    assert np.all(counts[temps < t_c] >= 2)


def test_deterministic_given_seed() -> None:
    settings = {"temperature_high": 15.0, "temperature_low": 5.0, "steps": 4}
    a = run(seed=3, **settings)
    b = run(seed=3, **settings)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(
    "settings",
    [
        {"temperature_low": 50.0},
        {"centers": ((0.0, 1.0), (1.0,))},
        {"perturbation": 1e-2},
        {"temperature": -1.0},
        {"direction": "sideways"},
    ],
)
def test_invalid_settings_raise_task_error(settings: dict[str, object]) -> None:
    with pytest.raises(TaskError):
        get_task("deterministic_annealing").resolve(settings)


@settings(max_examples=60, deadline=None)
@given(value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.text()))
def test_hostile_control_values_are_refused_or_accepted_cleanly(value: object) -> None:
    """Any value of a control resolves to finite, valid settings or raises TaskError."""
    info = get_task("deterministic_annealing")
    for key in ("temperature", "sample_size"):
        try:
            resolved = info.resolve({key: value})
        except TaskError:
            continue
        assert all(math.isfinite(v) for v in resolved.values() if isinstance(v, float)), resolved
