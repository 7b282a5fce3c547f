"""Choosing the order parameter, control, size and slice (documented rules)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames, range_indexes

from landaulab.analyze.roles import (
    choose_roles,
    choose_slice,
    constant_per_group,
    correlation_ratio,
    fixed_slice,
    split_columns,
)
from landaulab.errors import DataError
from tests.report.planted import first_order_frame, grokking_frame


def test_grokking_roles_and_slice() -> None:
    frame = grokking_frame()
    roles = choose_roles(frame)
    assert roles.order_parameter == "test_accuracy"  # losses are energy analogues
    assert roles.control == "weight_decay"  # 5 values against 4
    assert roles.size is None
    assert set(roles.swept) == {"weight_decay", "train_fraction"}
    part = choose_slice(frame, roles)
    assert part.fixed["train_fraction"] in (0.3, 0.4)  # a slice crossing the boundary
    assert set(part.frame["train_fraction"]) == {part.fixed["train_fraction"]}
    assert "train fraction" in part.sentence


def test_first_order_roles_take_magnitude_and_size() -> None:
    roles = choose_roles(first_order_frame())
    assert (roles.order_parameter, roles.control, roles.size) == ("m", "temperature", "N")
    assert roles.symmetric
    assert "seed" not in roles.swept


def test_ties_go_to_the_control_the_order_parameter_follows() -> None:
    rng = np.random.default_rng(0)
    runs = [(a, b) for a in (1.0, 2.0, 3.0) for b in (1.0, 2.0, 3.0) for _ in range(3)]
    rows = []
    for index, (a, b) in enumerate(runs):
        for step in range(10):
            rows.append(
                {
                    "run_id": index,
                    "step": step,
                    "alpha": a,
                    "beta": b,
                    "order": float(b > 1.5) + rng.normal(0, 0.05),
                }
            )
    roles = choose_roles(pd.DataFrame(rows))
    assert roles.control == "beta"


def test_explicit_columns_are_kept_and_checked() -> None:
    frame = grokking_frame()
    roles = choose_roles(frame, order_parameter="test_loss", control="train_fraction")
    assert (roles.order_parameter, roles.control) == ("test_loss", "train_fraction")
    with pytest.raises(DataError, match="'missing' not found"):
        choose_roles(frame, order_parameter="missing")


def test_correlation_ratio_limits() -> None:
    groups = pd.DataFrame({"g": [0, 0, 1, 1]})
    assert correlation_ratio(np.array([0.0, 0.0, 1.0, 1.0]), groups) == pytest.approx(1.0)
    assert correlation_ratio(np.array([0.0, 1.0, 0.0, 1.0]), groups) == pytest.approx(0.0)
    assert correlation_ratio(np.array([2.0, 2.0, 2.0, 2.0]), groups) == 0.0


def test_split_columns_without_a_store() -> None:
    params, observables = split_columns(first_order_frame())
    assert set(params) == {"temperature", "N", "seed"}
    assert set(observables) == {"m", "energy"}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data_frames(
        [
            column("run_id", elements=st.integers(0, 3)),
            column("step", elements=st.integers(0, 5)),
            column("lr", elements=st.sampled_from([0.1, 0.2, np.nan, np.inf])),
            column("acc", elements=st.floats(allow_nan=True, allow_infinity=True)),
        ],
        index=range_indexes(max_size=25),
    )
)
def test_hostile_frames_give_roles_or_one_clear_error(frame: pd.DataFrame) -> None:
    try:
        roles = choose_roles(frame)
    except DataError as exc:
        assert "\n" not in str(exc)
        return
    assert roles.order_parameter in frame.columns and roles.control in frame.columns
    choose_slice(frame, roles)


def test_a_chosen_slice_is_checked() -> None:
    frame = grokking_frame()
    roles = choose_roles(frame)
    part = fixed_slice(frame, roles, {"train_fraction": 0.6})
    assert set(part.frame["train_fraction"]) == {0.6}
    assert part.frame["run_id"].nunique() == 10  # 5 weight decays × 2 seeds
    with pytest.raises(DataError, match="no run has"):
        fixed_slice(frame, roles, {"train_fraction": 0.55})
    with pytest.raises(DataError, match="not found"):
        fixed_slice(frame, roles, {"nope": 1})


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 4),
            st.one_of(
                st.none(), st.integers(-2, 2), st.floats(allow_nan=True, allow_infinity=True)
            ),
            st.one_of(st.none(), st.sampled_from(["a", "b"])),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_constant_per_group_matches_counting_distinct_values(rows: list) -> None:
    """The min/max shortcut agrees with counting distinct values per group, whatever the
    values (missing, infinite, mixed)."""
    frame = pd.DataFrame(rows, columns=["run", "x", "label"])
    frame["x"] = pd.to_numeric(frame["x"])
    counted = frame.groupby("run", sort=False)[["x", "label"]].nunique(dropna=True).max()
    expected = [c for c in ("x", "label") if int(counted.get(c, 0)) <= 1]
    assert constant_per_group(frame, "run", ["x", "label"]) == expected
