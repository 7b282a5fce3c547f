"""``DynamicsResult.from_dict`` inverts ``to_dict``: real results and hostile values."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from landaulab.datasets.langevin import DoubleWell, LandauQuartic, simulate_langevin
from landaulab.datasets.saxe import saxe_staircase
from landaulab.dynamics import (
    Barrier,
    ControlTransitionTimes,
    DynamicsResult,
    EarlyWarning,
    EscapeRate,
    FixedPoint,
    LawComparison,
    LawFit,
    PlateauScaling,
    RelaxationTime,
    SlowingDown,
    dynamics,
)
from landaulab.dynamics.estimates import OneSidedEstimate, estimate
from landaulab.errors import LandaulabError
from landaulab.estimate import Estimate


def assert_round_trip(result: DynamicsResult) -> DynamicsResult:
    payload = result.to_dict()
    json.dumps(payload, allow_nan=False)
    back = DynamicsResult.from_dict(json.loads(json.dumps(payload)))
    assert back.to_dict() == payload
    return back


@pytest.fixture(scope="module")
def landau_frame() -> pd.DataFrame:
    return simulate_langevin(
        LandauQuartic(), control=[-0.5, 0.5, 1.0], runs_per_control=8, n_steps=1500,
        dt=0.01, diffusion=0.01, initial=np.tile(np.linspace(-0.8, 0.8, 8), 3), seed=2,
    )  # fmt: skip


def test_landau_result_round_trips_with_typed_attributes(landau_frame: pd.DataFrame) -> None:
    result = dynamics(
        landau_frame, order_parameter="m", time_col="time", control="temperature", n_bootstrap=20
    )
    back = assert_round_trip(result)
    assert str(back) == str(result)
    assert [cd.control for cd in back.controls] == [cd.control for cd in result.controls]
    for old, new in zip(result.controls, back.controls, strict=True):
        assert (new.n_runs, new.n_samples) == (old.n_runs, old.n_samples)
        np.testing.assert_array_equal(new.potential.grid, old.potential.grid)
        np.testing.assert_array_equal(new.potential.values, old.potential.values)
        np.testing.assert_array_equal(new.kramers_moyal.drift, old.kramers_moyal.drift)
        np.testing.assert_array_equal(new.kramers_moyal.drift_slope, old.kramers_moyal.drift_slope)
        assert new.potential.attractors == old.potential.attractors
        assert new.relaxation.tau == old.relaxation.tau
        assert new.tdgl.coefficients == old.tdgl.coefficients
        assert new.tdgl.form() == old.tdgl.form()
    assert back.settings == result.settings
    assert back.evidence == result.evidence and back.notes == result.notes


def test_staircase_transitions_round_trip() -> None:
    df = saxe_staircase((3.0, 1.0), initial=[1e-6, 1e-8], n_points=600)
    result = dynamics(df, order_parameter="m", time_col="time", n_bootstrap=20, seed=4)
    back = assert_round_trip(result)
    assert back.transitions.transitions == result.transitions.transitions
    assert back.transitions.main == result.transitions.main
    assert [c.median for c in back.transitions.by_control] == [
        c.median for c in result.transitions.by_control
    ]
    assert [p.to_dict() for p in back.plateaus] == [p.to_dict() for p in result.plateaus]
    assert [t.time for t in back.transitions.main] == [t.time for t in result.transitions.main]


def test_escapes_and_laws_round_trip() -> None:
    df = simulate_langevin(
        DoubleWell(barrier=1.0, minimum=1.0), control=np.array([0.3, 0.4, 0.5, 0.6]),
        runs_per_control=8, n_steps=4000, dt=0.01, diffusion=None, initial=-1.0,
        record_every=10, seed=5,
    )  # fmt: skip
    result = dynamics(
        df, order_parameter="m", time_col="time", control="temperature", n_bootstrap=20
    )
    back = assert_round_trip(result)
    assert [e for cd in back.controls for e in cd.escapes] == [
        e for cd in result.controls for e in cd.escapes
    ]
    if result.escape_laws is not None:
        assert back.escape_laws is not None
        for new, old in zip(back.escape_laws.fits, result.escape_laws.fits, strict=True):
            assert new.parameters == old.parameters
            assert (new.divergence, new.budget_control) == (old.divergence, old.budget_control)


def test_double_well_fixture_round_trips(double_well_frames: list[pd.DataFrame]) -> None:
    frame = double_well_frames[0]
    frame = frame[(frame["run_id"].isin([0, 1, 10, 11])) & (frame["step"] % 5 == 0)]
    result = dynamics(frame, order_parameter="m", time_col="time", n_bootstrap=10)
    back = assert_round_trip(result)
    assert back.controls[0].potential.barriers == result.controls[0].potential.barriers


values = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.sampled_from([np.nan, np.inf, -np.inf, 0.0, 1.0]),
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 30), values), min_size=0, max_size=80),
    st.booleans(),
)
def test_hostile_frames_round_trip(rows, with_control: bool) -> None:
    df = pd.DataFrame(rows, columns=["run_id", "step", "m"])
    if with_control:
        df["T"] = df["run_id"] * 0.5
    try:
        result = dynamics(
            df, order_parameter="m", control="T" if with_control else None, n_bootstrap=4
        )
    except LandaulabError:
        return
    assert_round_trip(result)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 1000),
    runs=st.integers(1, 6),
    noise=st.sampled_from([0.0, 0.05, 0.3]),
    temperatures=st.lists(
        st.sampled_from([-0.5, 0.2, 0.6, 1.0]), min_size=1, max_size=3, unique=True
    ),
)
def test_simulated_langevin_results_round_trip(seed, runs, noise, temperatures) -> None:
    df = simulate_langevin(
        LandauQuartic(), control=temperatures, runs_per_control=runs, n_steps=300, dt=0.02,
        diffusion=noise, initial=0.5, seed=seed,
    )  # fmt: skip
    result = dynamics(
        df, order_parameter="m", time_col="time", control="temperature", n_bootstrap=8
    )
    assert_round_trip(result)


maybe = st.one_of(st.none(), values)


@st.composite
def estimates(draw) -> Estimate | None:
    return estimate(draw(maybe), draw(maybe), draw(maybe))


def _same_json(item) -> None:
    payload = item.to_dict()
    json.dumps(payload, allow_nan=False)
    assert type(item).from_dict(json.loads(json.dumps(payload))).to_dict() == payload


@settings(max_examples=60, deadline=None)
@given(estimates(), estimates(), estimates(), maybe, maybe, st.integers(0, 5))
def test_hostile_values_round_trip(first, second, third, x, y, count) -> None:
    rate = first if first is not None else Estimate(None)
    position = second if second is not None else Estimate(None)
    _same_json(FixedPoint(position, "attractor", float(x or 0.0), 0.5, bool(count % 2)))
    _same_json(Barrier(float(x or math.nan), float(y or math.nan), first, second, x))
    _same_json(EscapeRate(1.0, -1.0, count, float(y or math.nan), rate, third))
    _same_json(RelaxationTime(first, "autocorrelation", lag1_autocorrelation=float(x or 0)))
    _same_json(SlowingDown(first, second, "below", count, reason=None if x else "too few"))
    _same_json(PlateauScaling(first, float(y or math.nan), count, count))
    _same_json(ControlTransitionTimes(x, first, count, count, float(y or math.nan)))
    _same_json(EarlyWarning(count, y, first, second, count, float(x or math.nan), None))
    fit = LawFit("power", "y", {"c0": position, "nu": rate}, float(x or math.nan), 1.0, count,
                 divergence=second, budget_control=third)  # fmt: skip
    _same_json(fit)
    _same_json(LawComparison((fit,), float(y or math.nan), "verdict", count))


def test_empty_result_round_trips() -> None:
    flat = pd.DataFrame({"run_id": 0, "step": range(30), "m": 0.5})
    back = assert_round_trip(dynamics(flat, order_parameter="m", n_bootstrap=10))
    assert back.controls[0].potential.attractors == ()
    assert back.controls[0].relaxation.tau is None


def test_one_sided_estimate_keeps_its_bound() -> None:
    lower = estimate(1.0, 0.5, math.inf)
    assert isinstance(lower, OneSidedEstimate) and lower.low == 0.5 and lower.high is None
    assert lower.contains(3.0) and not lower.contains(0.1)
    upper = estimate(None, None, 2.0)
    assert isinstance(upper, OneSidedEstimate) and upper.high == 2.0 and upper.value is None
    assert estimate(None, math.nan, None) is None
    for item in (lower, upper):
        assert OneSidedEstimate.from_dict(json.loads(json.dumps(item.to_dict()))) == item
