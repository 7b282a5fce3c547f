"""Views of results: the real analysis/dynamics JSON is read whole; any other JSON never fails."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from landaulab.analyze import analyze
from landaulab.report.results import jsonable, read_analysis, read_dynamics
from tests.report.planted import first_order_frame


@pytest.fixture(scope="module")
def analysis_dict() -> dict:
    frame = first_order_frame()
    return analyze(
        frame, order_parameter="m", control="temperature", size="N", use_abs=True, n_bootstrap=50
    ).to_dict()


def test_the_analysis_json_is_read_whole(analysis_dict: dict) -> None:
    view = read_analysis(analysis_dict)
    assert view.order == analysis_dict["transition"]["order"]
    critical = analysis_dict["transition"]["critical_point"]
    if critical is None:
        assert view.critical_point is None
    else:
        assert view.critical_point.value == critical["value"]
        assert [view.critical_point.low, view.critical_point.high] == critical["ci"]
        assert view.critical_point.method == critical["method"]
    table = analysis_dict["table"]
    assert view.table is not None and len(view.table) == len(table)
    assert {"control", "size", "mean", "susceptibility", "binder"} <= set(view.table.columns)
    # one free-energy curve per (control, size) group that could be fitted
    fitted = [c for c in analysis_dict["landau"]["curves"] if c.get("m")]
    assert len(view.free_energy) == len(fitted)
    assert {(c.control, c.size) for c in view.free_energy} == {
        (c["control"], c["size"]) for c in fitted
    }
    names = set(analysis_dict["landau"]["terms"])
    assert {row["name"] for row in view.coefficients} <= names
    assert view.evidence == analysis_dict["evidence"]
    assert set(view.exponents) >= {"beta", "gamma", "nu", "beta_over_nu", "gamma_over_nu"}


def test_dynamics_contract_keys_are_read() -> None:
    data = {
        "attractors": [{"control": 1.0, "position": 0.5, "ci": [0.4, 0.6]}],
        "relaxation_time": [{"control": 1.0, "value": 3.0, "ci": [2.0, 4.0]}],
        "potential": [{"control": 1.0, "grid": [0, 0.5, 1], "values": [1, 0, 1]}],
        "transition_times": {
            "runs": [{"run": "r1", "control": 1.0, "time": 40.0}],
            "by_control": [],
            "laws": None,
        },
        "plateaus": {"runs": [{"run": "r1", "start": 0, "end": 10, "level": 0.1}]},
        "evidence": ["One attractor."],
    }
    view = read_dynamics(data)
    assert view.potentials[0].minima == (0.5,)  # the attractor marks the potential's minimum
    assert view.transition_times[0].run_id == "r1" and view.transition_times[0].time == 40.0
    assert len(view.plateaus) == 1 and view.evidence == ["One attractor."]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "transition",
                    "order",
                    "critical_point",
                    "value",
                    "ci",
                    "exponents",
                    "beta",
                    "landau",
                    "coefficients",
                    "curves",
                    "m",
                    "measured",
                    "fit",
                    "control",
                    "size",
                    "table",
                    "mean",
                    "collapse",
                    "x",
                    "y",
                    "evidence",
                    "potential",
                    "grid",
                    "values",
                    "run",
                    "time",
                    "transition_times",
                    "attractors",
                    "position",
                    "universality",
                    "verdict",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_any_json_gives_a_view_and_never_an_exception(data: object) -> None:
    analysis = read_analysis(data if isinstance(data, dict) else {"transition": data})
    dynamics = read_dynamics(data if isinstance(data, dict) else {"attractors": data})
    assert analysis.available and dynamics.available
    if analysis.critical_point is not None:
        assert np.isfinite(analysis.critical_point.value)
    json.dumps(jsonable({"a": data}), allow_nan=False)
