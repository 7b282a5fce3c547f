"""Hostile input never ends in a traceback: a one-line error or a result that says why.

Property tests (hypothesis) build small tidy tables with NaN/inf, constant columns, a single
run, size or control value, huge and tiny magnitudes, unsorted steps and duplicated rows.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from landaulab.analyze import analyze
from landaulab.errors import LandaulabError

from .test_result import check_contract

SPECIAL = [np.nan, np.inf, -np.inf, 0.0, 1e300, -1e300, 1e-300, 5e-324]


@st.composite
def tables(draw) -> pd.DataFrame:
    n_runs = draw(st.integers(1, 6))
    n_steps = draw(st.integers(1, 12))
    n_controls = draw(st.integers(1, 4))
    n_sizes = draw(st.integers(1, 3))
    magnitude = draw(st.sampled_from([1e-300, 1e-8, 1.0, 1e8, 1e300]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    rows = n_runs * n_steps
    controls = rng.choice(np.linspace(0.5, 1.5, n_controls), size=n_runs)
    sizes = rng.choice([8, 16, 32][:n_sizes], size=n_runs)
    frame = pd.DataFrame(
        {
            "run_id": np.repeat(np.arange(n_runs), n_steps),
            "step": np.tile(np.arange(n_steps), n_runs).astype(float),
            "T": np.repeat(controls, n_steps),
            "L": np.repeat(sizes, n_steps).astype(float),
            "m": magnitude * rng.normal(size=rows),
        }
    )
    if draw(st.booleans()):
        frame["m"] = draw(st.sampled_from([0.0, 1.0, magnitude]))  # constant column
    for column in draw(st.lists(st.sampled_from(["m", "T", "L", "step"]), max_size=3)):
        count = draw(st.integers(1, max(1, rows // 2)))
        index = rng.choice(rows, size=count, replace=False)
        frame.loc[index, column] = draw(st.sampled_from(SPECIAL))
    if draw(st.booleans()):
        frame = pd.concat([frame, frame.iloc[: max(1, rows // 3)]])  # duplicated rows
    if draw(st.booleans()):
        frame = frame.sample(frac=1.0, random_state=0)  # unsorted steps
    return frame


def _check(frame: pd.DataFrame, **kwargs) -> None:
    try:
        result = analyze(
            frame, order_parameter="m", control="T", size="L", n_bootstrap=10, **kwargs
        )
    except LandaulabError as error:
        message = str(error)
        assert message and "\n" not in message
        return
    payload = result.to_dict()
    check_contract(payload)
    json.dumps(payload, allow_nan=False)
    assert str(result)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.booleans())
def test_hostile_tables_never_raise_unexpected_errors(frame, use_abs):
    _check(frame, use_abs=use_abs)


@settings(max_examples=10, deadline=None)
@given(st.sampled_from(["m", "T", "run_id"]), st.sampled_from(["x", None, True, "1e400"]))
def test_hostile_cell_types(column, value):
    frame = pd.DataFrame(
        {"run_id": [0, 0, 1, 1], "step": [0, 1, 0, 1], "T": 1.0, "L": 8, "m": [0.1, 0.2, 0.3, 0.4]}
    )
    frame[column] = frame[column].astype(object)
    frame.loc[1, column] = value
    _check(frame)


def test_empty_single_row_and_wrong_types():
    _check(pd.DataFrame({"m": [], "T": [], "L": []}))
    _check(pd.DataFrame({"m": [1.0], "T": [1.0], "L": [8]}))
    _check(pd.DataFrame({"m": ["a", "b"], "T": [1.0, 2.0], "L": [8, 8]}))
    for bad in ({"n_bootstrap": 0}, {"n_bootstrap": 2.5}, {"seed": -1}, {"burn_in": 2.0}):
        frame = pd.DataFrame({"m": [1.0, 2.0], "T": [1.0, 2.0], "L": [8, 8]})
        try:
            analyze(frame, order_parameter="m", control="T", **bad)
        except LandaulabError as error:
            assert "\n" not in str(error)
        else:
            raise AssertionError(f"{bad} was accepted")
    try:
        analyze([1, 2, 3], order_parameter="m", control="T")
    except LandaulabError as error:
        assert "\n" not in str(error)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.lists(st.sampled_from([0.0, 1e-3, 1e-2, -1e-2, *SPECIAL]), min_size=1))
def test_hostile_field_scans(frame, fields):
    """A field column with hostile values: the analysis and the isotherm itself."""
    from landaulab.analyze.field import critical_isotherm, split_field
    from landaulab.analyze.frame import ColumnSpec

    rng = np.random.default_rng(len(frame))
    frame = frame.assign(h=rng.choice(np.array(fields, dtype=float), size=len(frame)))
    _check(frame, field="h")
    try:
        _, scan = split_field(frame, "h")
    except LandaulabError as error:
        assert "\n" not in str(error)
        return
    columns = ColumnSpec(order_parameter="m", control="T", size="L")
    for tc in (0.5, 1.0, np.nan):
        isotherm, reason = critical_isotherm(
            scan, columns, "h", tc, np.full(10, tc), burn_in=0.5, n_bootstrap=10, seed=0
        )
        assert (isotherm is None) != (reason is None)
        if isotherm is not None:
            json.dumps(isotherm.to_dict())
