"""The one-call ``dynamics`` API: JSON contract, determinism and hostile input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from landaulab.datasets.langevin import LandauQuartic, simulate_langevin
from landaulab.datasets.saxe import saxe_staircase
from landaulab.dynamics import DynamicsResult, dynamics
from landaulab.errors import LandaulabError

CONTRACT = {
    "attractors",
    "relaxation_time",
    "potential",
    "transition_times",
    "plateaus",
    "evidence",
}


@pytest.fixture(scope="module")
def landau_result() -> DynamicsResult:
    df = simulate_langevin(
        LandauQuartic(), control=[-0.5, 0.5, 1.0], runs_per_control=16, n_steps=4000,
        dt=0.01, diffusion=0.01, initial=np.tile(np.linspace(-0.8, 0.8, 16), 3), seed=2,
    )  # fmt: skip
    return dynamics(df, order_parameter="m", time_col="time", control="temperature", n_bootstrap=60)


def test_json_contract_keys_and_safety(landau_result: DynamicsResult) -> None:
    payload = landau_result.to_dict()
    assert CONTRACT <= set(payload)
    text = json.dumps(payload, allow_nan=False)  # no NaN or inf anywhere
    assert json.loads(text) == payload
    for item in payload["attractors"]:
        assert set(item) >= {"control", "position", "ci"} and len(item["ci"]) == 2
    for item in payload["relaxation_time"]:
        assert set(item) >= {"control", "value", "ci"}
    assert {p["control"] for p in payload["potential"]} == {-0.5, 0.5, 1.0}
    assert all(len(p["grid"]) == len(p["values"]) for p in payload["potential"])
    assert all(isinstance(s, str) and s for s in payload["evidence"])


def test_landau_attractors_per_control(landau_result: DynamicsResult) -> None:
    by_control = {cd.control: cd for cd in landau_result.controls}
    below = sorted(a.position.value for a in by_control[-0.5].potential.attractors)
    # broken symmetry below Tc: m* = +-sqrt(0.5)
    assert below == pytest.approx([-np.sqrt(0.5), np.sqrt(0.5)], abs=0.06)
    for temp in (0.5, 1.0):
        (only,) = by_control[temp].potential.attractors
        assert only.position.contains(0.0)
        tau = by_control[temp].relaxation
        # linear relaxation 1 / (a (T - Tc)); 16 runs of 20 tau give ~15% intervals
        assert tau.estimated and tau.low <= 1 / temp <= tau.high
    text = str(landau_result)
    assert "control -0.5" in text and "Evidence:" in text


def test_same_seed_same_result() -> None:
    df = saxe_staircase((3.0, 1.0), initial=[1e-6, 1e-8], n_points=600)
    one = dynamics(df, order_parameter="m", time_col="time", n_bootstrap=20, seed=4).to_dict()
    two = dynamics(df, order_parameter="m", time_col="time", n_bootstrap=20, seed=4).to_dict()
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)
    assert len(one["transition_times"]["runs"]) == 4
    assert one["plateaus"]["runs"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_bootstrap": -1}, "n_bootstrap"),
        ({"seed": -3}, "seed"),
        ({"confidence": 1.5}, "confidence"),
        ({"order_parameter": "missing"}, "no order parameter column"),
    ],
)
def test_bad_settings_are_one_line_errors(kwargs: dict, message: str) -> None:
    df = pd.DataFrame({"run_id": 0, "step": range(5), "m": np.arange(5.0)})
    args = {"order_parameter": "m", **kwargs}
    with pytest.raises(LandaulabError, match=message) as info:
        dynamics(df, **args)
    assert "\n" not in str(info.value)


def test_single_short_or_constant_runs_say_what_is_missing() -> None:
    flat = pd.DataFrame({"run_id": 0, "step": range(30), "m": 0.5})
    result = dynamics(flat, order_parameter="m", n_bootstrap=10)
    payload = result.to_dict()
    assert payload["attractors"] == []
    assert any("could not be estimated" in s or "never changes" in s for s in payload["evidence"])
    tiny = pd.DataFrame({"run_id": [0, 1], "step": [0, 0], "m": [1.0, 2.0]})
    payload = dynamics(tiny, order_parameter="m", n_bootstrap=10).to_dict()
    json.dumps(payload, allow_nan=False)


values = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.sampled_from([np.nan, np.inf, -np.inf, 0.0, 1.0]),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 30), values), min_size=0, max_size=80),
    st.booleans(),
)
def test_hostile_frames_never_raise_tracebacks(rows, with_control: bool) -> None:
    df = pd.DataFrame(rows, columns=["run_id", "step", "m"])
    if with_control:
        df["T"] = df["run_id"] * 0.5
    try:
        result = dynamics(
            df, order_parameter="m", control="T" if with_control else None, n_bootstrap=4
        )
    except LandaulabError as exc:
        assert "\n" not in str(exc)
        return
    json.dumps(result.to_dict(), allow_nan=False)
    str(result)


def test_dynamics_and_datasets_do_not_import_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys, landaulab.dynamics, landaulab.datasets.langevin, landaulab.datasets.saxe; "
        "sys.exit('torch' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
