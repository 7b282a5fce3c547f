"""Dynamics of an irregular control design: runs binned along the control, grids unchanged."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from landaulab.design import bin_controls
from landaulab.dynamics import DynamicsResult, dynamics
from landaulab.dynamics.trajectories import (
    MIN_RUNS_FOR_RUN_BOOTSTRAP,
    RUNS_PER_BIN,
    prepare_trajectories,
)


def relaxing_runs(controls: np.ndarray, steps: int = 60, seed: int = 0) -> pd.DataFrame:
    """m relaxes from 1 towards max(1 − c, 0) at rate 0.1 per step, with noise."""
    rng = np.random.default_rng(seed)
    c = np.asarray(controls, dtype=float)
    target = np.maximum(1.0 - c, 0.0)[:, None]
    t = np.arange(steps)[None, :]
    m = target + (1.0 - target) * np.exp(-0.1 * t) + 0.02 * rng.standard_normal((c.size, steps))
    return pd.DataFrame(
        {
            "run_id": np.repeat(np.arange(c.size), steps),
            "step": np.tile(np.arange(steps), c.size),
            "c": np.repeat(c, steps),
            "m": m.ravel(),
        }
    )


def test_grid_groups_are_the_control_values() -> None:
    controls = np.repeat([0.5, 0.75, 1.0, 1.25], 6)
    trajectories = prepare_trajectories(relaxing_runs(controls), order_parameter="m", control="c")
    groups = trajectories.groups()
    assert [g[0] for g in groups] == [0.5, 0.75, 1.0, 1.25]
    for value, runs in groups:
        np.testing.assert_array_equal(runs, np.flatnonzero(trajectories.controls == value))
    assert trajectories.binning().kind == "grid"


def test_random_controls_are_binned_with_enough_runs_per_bin() -> None:
    controls = np.random.default_rng(0).uniform(0.5, 1.5, 200)
    trajectories = prepare_trajectories(relaxing_runs(controls), order_parameter="m", control="c")
    groups = trajectories.groups()
    binning = bin_controls(
        trajectories.controls, min_per_value=MIN_RUNS_FOR_RUN_BOOTSTRAP, per_bin=RUNS_PER_BIN
    )
    assert binning.kind == "irregular" and len(groups) == binning.n_groups
    assert sum(runs.size for _, runs in groups) == 200
    for value, runs in groups:
        assert runs.size >= RUNS_PER_BIN
        assert value == pytest.approx(trajectories.controls[runs].mean())


def test_dynamics_of_a_random_search_says_how_it_grouped_the_runs() -> None:
    controls = np.random.default_rng(1).uniform(0.5, 1.5, 100)
    result = dynamics(relaxing_runs(controls), order_parameter="m", control="c", n_bootstrap=20)
    design = result.design
    assert design is not None and design["kind"] == "irregular"
    assert len(result.controls) == len(design["bins"])
    assert [cd.n_runs for cd in result.controls] == [b["n_runs"] for b in design["bins"]]
    assert result.evidence[0].startswith("Irregular control design")
    payload = result.to_dict()
    back = DynamicsResult.from_dict(json.loads(json.dumps(payload, allow_nan=False)))
    assert back.to_dict() == payload


def test_a_grid_design_and_no_control() -> None:
    controls = np.repeat([0.5, 1.0, 1.5], 5)
    result = dynamics(relaxing_runs(controls), order_parameter="m", control="c", n_bootstrap=20)
    assert result.design is not None and result.design["kind"] == "grid"
    assert "bins" not in result.design
    assert [cd.control for cd in result.controls] == [0.5, 1.0, 1.5]
    alone = dynamics(relaxing_runs(controls), order_parameter="m", n_bootstrap=20)
    assert alone.design is None and alone.to_dict()["design"] is None
