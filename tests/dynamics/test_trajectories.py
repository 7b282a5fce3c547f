"""Validation of tidy frames into trajectories: sorting, duplicates, runs never stitched."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from landaulab.dynamics import prepare_trajectories
from landaulab.errors import DataError


def frame(runs: list[list[float]], times: list[list[float]] | None = None) -> pd.DataFrame:
    rows = []
    for r, values in enumerate(runs):
        ts = times[r] if times is not None else list(range(len(values)))
        rows += [{"run_id": f"r{r}", "step": t, "m": v} for t, v in zip(ts, values, strict=True)]
    return pd.DataFrame(rows)


def test_unsorted_rows_are_sorted_within_runs() -> None:
    df = frame([[0.0, 1.0, 2.0, 3.0], [10.0, 11.0, 12.0]]).sample(frac=1.0, random_state=3)
    traj = prepare_trajectories(df, order_parameter="m")
    assert traj.n_runs == 2
    t, m = traj.run(0)
    np.testing.assert_array_equal(t, [0, 1, 2, 3])
    np.testing.assert_array_equal(m, [0, 1, 2, 3])


def test_increments_never_cross_runs_and_follow_uneven_time() -> None:
    df = frame([[0.0, 1.0, 3.0], [100.0, 90.0]], times=[[0, 1, 5], [0, 10]])
    inc = prepare_trajectories(df, order_parameter="m").increments()
    np.testing.assert_array_equal(inc.change, [1.0, 2.0, -10.0])
    np.testing.assert_array_equal(inc.duration, [1.0, 4.0, 10.0])
    np.testing.assert_array_equal(inc.run, [0, 0, 1])


def test_exact_duplicates_dropped_conflicting_refused() -> None:
    df = frame([[0.0, 1.0, 2.0]])
    doubled = pd.concat([df, df.iloc[[1]]])
    traj = prepare_trajectories(doubled, order_parameter="m")
    assert traj.n_samples == 3
    assert any("duplicate" in note for note in traj.notes)
    conflict = doubled.copy()
    conflict.iloc[-1, conflict.columns.get_loc("m")] = 5.0
    with pytest.raises(DataError, match="two different rows"):
        prepare_trajectories(conflict, order_parameter="m")


def test_non_finite_rows_dropped_with_a_note() -> None:
    df = frame([[0.0, np.nan, 2.0, np.inf, 4.0]])
    traj = prepare_trajectories(df, order_parameter="m")
    assert traj.n_samples == 3
    assert "2 of 5 rows" in traj.notes[0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"order_parameter": "nope"}, "no order parameter column 'nope'"),
        ({"order_parameter": "m", "time_col": "epoch"}, "no time column 'epoch'"),
        ({"order_parameter": "m", "run_col": "seed"}, "no run column 'seed'"),
        ({"order_parameter": "m", "control": "lr"}, "no control column 'lr'"),
    ],
)
def test_missing_columns_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(DataError, match=message):
        prepare_trajectories(frame([[0.0, 1.0]]), **kwargs)


def test_bad_inputs_raise_one_line_data_errors() -> None:
    df = frame([[0.0, 1.0, 2.0]])
    with pytest.raises(DataError, match="non-numeric"):
        prepare_trajectories(df.assign(m=["a", "b", "c"]), order_parameter="m")
    with pytest.raises(DataError, match="no rows"):
        prepare_trajectories(df.iloc[:0], order_parameter="m")
    with pytest.raises(DataError, match="no row has finite values"):
        prepare_trajectories(df.assign(m=np.nan), order_parameter="m")
    with pytest.raises(DataError, match="varies within run"):
        prepare_trajectories(df.assign(T=[1.0, 2.0, 2.0]), order_parameter="m", control="T")
    with pytest.raises(DataError, match="DataFrame"):
        prepare_trajectories([1, 2, 3], order_parameter="m")  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=12),
        min_size=1,
        max_size=5,
    ),
    st.randoms(use_true_random=False),
)
def test_increments_equal_per_run_differences(runs: list[list[float]], rnd) -> None:
    df = frame(runs)
    df = df.iloc[rnd.sample(range(len(df)), len(df))]
    inc = prepare_trajectories(df, order_parameter="m").increments()
    expected = np.concatenate([np.diff(np.asarray(r, dtype=float)) for r in runs])
    np.testing.assert_allclose(inc.change, expected)
    assert np.all(inc.duration == 1.0)
